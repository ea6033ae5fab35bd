//! The blocking client (`aerospike-sync`) against the embedded server and, with the same
//! checks, against a real Aerospike 8.1.2.0 node.

mod common;

use aerobench::cluster::{Kind, Settings, Target};
use aerobench::workload::space::SYNC_TESTS;
use aerospike_core::policy::{BatchPolicy, ReadPolicy, WritePolicy};
use aerospike_core::{BatchOperation, BatchReadPolicy, Bins, Key, Value, as_bin};

#[test]
fn blocking_client_puts_gets_and_batches() {
    let settings = Settings {
        kind: Kind::Embedded,
        nodes: 3,
        ..Settings::parse(|_| None).unwrap()
    };
    puts_gets_and_batches(&Target::start(settings).unwrap(), 3);
}

#[test]
fn blocking_client_checks_hold_against_the_real_server() {
    let Some(target) = common::real_cluster("blocking client against Aerospike 8.1.2.0", 1) else {
        return;
    };
    puts_gets_and_batches(&target, 1);
}

fn puts_gets_and_batches(target: &Target, nodes: usize) {
    let client = target.connect_blocking(&target.client_policy()).unwrap();
    assert_eq!(client.nodes().len(), nodes);
    let keys: Vec<Key> = (0..SYNC_TESTS.keys as i64)
        .map(|i| SYNC_TESTS.key(i))
        .collect();
    for (i, k) in keys.iter().enumerate() {
        client
            .put(&WritePolicy::default(), k, &[as_bin!("v", i as i64)])
            .unwrap();
    }
    assert_eq!(
        client
            .get(&ReadPolicy::default(), &keys[3], Bins::All)
            .unwrap()
            .bins["v"],
        Value::Int(3)
    );
    let mut reads: Vec<_> = keys
        .iter()
        .map(|k| BatchOperation::read(&BatchReadPolicy::default(), k.clone(), Bins::All))
        .collect();
    client.batch(&BatchPolicy::default(), &mut reads).unwrap();
    for (i, row) in reads.iter().enumerate() {
        assert_eq!(row.record().unwrap().bins["v"], Value::Int(i as i64));
    }
}
