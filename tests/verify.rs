//! `--verify` through its library API: a run's log read back against a 3-node embedded
//! cluster is clean; writes changed behind the driver's back are counted exactly; keys a
//! hung node keeps from the read-back are unverified, never passed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use aerobench::cluster::Target;
use aerobench::driver::{self, AsyncClient, Config, Mode};
use aerobench::server::fault::Fault;
use aerobench::verify::{Findings, Ledger, read_back};
use aerobench::workload::Workload;
use aerospike_core::Client;
use aerospike_core::policy::WritePolicy;

const KEYS: u64 = 300;
const TASKS: usize = 4;
/// The read-back's bound: ample for 300 keys on loopback.
const BOUND: Duration = Duration::from_secs(30);

/// A seeded `--verify` run of `TASKS` tasks over `KEYS` keys on a 3-node cluster: the
/// client, the run's config and its log.
async fn verified_run() -> (Target, Arc<Client>, Config, Arc<Ledger>) {
    let (target, client) = common::cluster(3).await;
    let client = Arc::new(client);
    let config = Config {
        workload: Workload {
            keys: KEYS,
            verify: true,
            ..Workload::default()
        },
        mode: Mode::Async { tasks: TASKS },
        warmup: Duration::ZERO,
        duration: Duration::from_millis(1500),
        timeout_ms: driver::DEFAULT_TIMEOUT_MS,
        rate: None,
    };
    driver::seed::seed_client(&client, &config, &mut |_| {})
        .await
        .expect("seeded");
    let backend = Arc::new(AsyncClient {
        client: client.clone(),
        calls: config.calls(),
    });
    let run = driver::run_tasks(backend, &config, TASKS, &mut |_, _| {}).await;
    let ledger = run.ledger.expect("a --verify run keeps its log");
    (target, client, config, ledger)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_changed_behind_the_drivers_back_are_counted_exactly() {
    let (_target, client, config, ledger) = verified_run().await;
    let found = read_back(client.clone(), config.workload, &ledger, BOUND).await;
    let clean = Findings {
        keys_checked: KEYS,
        ..Findings::default()
    };
    assert_eq!(found, clean);

    // Keys whose last write, after the seeding's, was acknowledged.
    let acked: Vec<u64> = (0..KEYS)
        .filter(|&id| {
            let state = ledger.state(id);
            state.acked >= 1 && state.issued == state.acked
        })
        .collect();
    assert!(acked.len() >= 10, "{} keys rewritten", acked.len());
    let (workload, object) = (config.workload, config.workload.object);
    let put = |id: u64, values_of: u64, version: u64| {
        let (client, bins) = (client.clone(), object.stamped(values_of, version));
        async move {
            let key = workload.key(id);
            client
                .put(&WritePolicy::default(), &key, &bins)
                .await
                .unwrap()
        }
    };
    for &id in &acked[..4] {
        put(id, id, ledger.state(id).acked - 1).await;
    }
    for &id in &acked[4..6] {
        let key = workload.key(id);
        assert!(client.delete(&WritePolicy::default(), &key).await.unwrap());
    }
    for &id in &acked[6..9] {
        put(id, id, ledger.state(id).issued + 1).await;
    }
    put(acked[9], acked[9] + 1, ledger.state(acked[9]).acked).await;
    let found = read_back(client.clone(), config.workload, &ledger, BOUND).await;
    let expected = Findings {
        lost_writes: 4 + 2,
        unexpected: 3 + 1,
        ..clean
    };
    assert_eq!(
        found, expected,
        "older and deleted: lost; never written: unexpected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_a_hung_node_keeps_from_the_read_back_are_unverified() {
    let (target, client, config, ledger) = verified_run().await;
    target.embedded().unwrap().fault(1, Fault::Hang).unwrap();
    let found = read_back(client, config.workload, &ledger, Duration::from_secs(2)).await;
    assert!(found.unverified > 0, "{found:?}");
    assert_eq!(found.keys_checked + found.unverified, KEYS, "{found:?}");
    assert_eq!((found.lost_writes, found.unexpected), (0, 0), "{found:?}");
    target.embedded().unwrap().fault(1, Fault::Heal).unwrap();
}
