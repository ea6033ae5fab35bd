//! The embedded server's faults as the real client sees them: errors with their code and
//! share, a hung node that times calls out until healed, dropped connections the client
//! replaces, a killed node that leaves the cluster and comes back on restart, or on
//! another port.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aerobench::cluster::EmbeddedServer;
use aerobench::server::fault::Fault;
use aerobench::stats::Failure;
use aerospike_core::policy::{AdminPolicy, ReadPolicy, WritePolicy};
use aerospike_core::{Bin, Bins, Client, ErrorKind, ResultCode, Value};
use common::{cluster, key, node_stats};

/// How long the client may take to see a node leave or join (it tends every second).
const TEND_BOUND: Duration = Duration::from_secs(10);

/// Reads that fail at once: no retry, a short deadline.
fn impatient() -> ReadPolicy {
    let mut policy = ReadPolicy::default();
    policy.base_policy.max_retries = 0;
    policy.base_policy.total_timeout = 300;
    policy
}

async fn put_keys(client: &Client, n: i64) {
    for id in 0..n {
        let bin = Bin::new("v", Value::Int(id));
        client
            .put(&WritePolicy::default(), &key(id), &[bin])
            .await
            .unwrap();
    }
}

/// Waits (bounded) until the client sees `nodes` nodes.
async fn until_nodes(client: &Client, nodes: usize) {
    let deadline = Instant::now() + TEND_BOUND;
    while client.nodes().len() != nodes {
        assert!(
            Instant::now() < deadline,
            "the client never saw {nodes} nodes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn errors_answer_their_share_with_their_code() {
    let (target, client) = cluster(1).await;
    put_keys(&client, 1).await;
    let server = target.embedded().unwrap();
    server
        .fault(
            0,
            Fault::Errors {
                code: 18,
                percent: 25,
            },
        )
        .unwrap();
    // The control line is applied asynchronously: wait for the first injected error.
    let deadline = Instant::now() + TEND_BOUND;
    while client.get(&impatient(), &key(0), Bins::All).await.is_ok() {
        assert!(Instant::now() < deadline, "no error was injected");
    }
    let mut codes = Vec::new();
    for _ in 0..100 {
        if let Err(e) = client.get(&impatient(), &key(0), Bins::All).await {
            codes.push(Failure::of(&e));
        }
    }
    assert_eq!(
        codes.len(),
        25,
        "any 100 requests in a row hold 25 failures"
    );
    // Retries (none here) would wrap the code in MAX_RETRIES_EXCEEDED; it is still counted
    // under its own name.
    let overload = Failure::Server(ResultCode::DeviceOverload);
    assert!(codes.iter().all(|&c| c == overload), "{codes:?}");
    server.fault(0, Fault::Heal).unwrap();
    until_ok(&client).await;
}

/// Waits (bounded) until a read succeeds.
async fn until_ok(client: &Client) {
    let deadline = Instant::now() + TEND_BOUND;
    while client.get(&impatient(), &key(0), Bins::All).await.is_err() {
        assert!(Instant::now() < deadline, "reads never succeeded again");
    }
}

#[tokio::test]
async fn a_hung_node_times_calls_out_until_healed() {
    let (target, client) = cluster(1).await;
    put_keys(&client, 1).await;
    let server = target.embedded().unwrap();
    server.fault(0, Fault::Hang).unwrap();
    let deadline = Instant::now() + TEND_BOUND;
    let timed_out = loop {
        match client.get(&impatient(), &key(0), Bins::All).await {
            Err(e) => break e,
            Ok(_) => assert!(Instant::now() < deadline, "the node never hung"),
        }
    };
    assert!(
        matches!(timed_out.kind(), ErrorKind::Timeout),
        "{timed_out:?}"
    );
    server.fault(0, Fault::Heal).unwrap();
    until_ok(&client).await;
}

/// A call on a dropped connection fails (a write is in doubt); the client then opens new
/// connections and calls succeed again.
#[tokio::test]
async fn dropped_connections_are_replaced() {
    let (target, client) = cluster(1).await;
    put_keys(&client, 1).await;
    let before = connections_opened(&client).await.unwrap();
    target.embedded().unwrap().fault(0, Fault::Drop).unwrap();
    let deadline = Instant::now() + TEND_BOUND;
    while connections_opened(&client)
        .await
        .is_none_or(|n| n == before)
    {
        assert!(Instant::now() < deadline, "no connection was replaced");
        let _ = client.get(&impatient(), &key(0), Bins::All).await;
    }
    until_ok(&client).await;
}

/// The connections node 0 has accepted, `None` if the info call found a dropped one.
async fn connections_opened(client: &Client) -> Option<u64> {
    let node = &client.nodes()[0];
    let info = node
        .info(&AdminPolicy::default(), &["statistics"])
        .await
        .ok()?;
    let (_, n) = info["statistics"].split(';').find_map(|kv| {
        kv.split_once('=')
            .filter(|(k, _)| *k == "client_connections_opened")
    })?;
    n.parse().ok()
}

#[tokio::test]
async fn a_killed_node_leaves_and_comes_back_on_restart() {
    let (target, client) = cluster(3).await;
    put_keys(&client, 100).await;
    let server = target.embedded().unwrap();
    let name = client.nodes()[1].name().to_string();
    server.fault(1, Fault::Kill).unwrap();
    until_nodes(&client, 2).await;
    for id in 0..100 {
        client
            .get(&ReadPolicy::default(), &key(id), Bins::All)
            .await
            .expect("the survivors serve every key");
    }
    server.fault(1, Fault::Restart).unwrap();
    until_nodes(&client, 3).await;
    serves_its_partitions(&client, &name).await;
}

/// Writes 100 keys and checks that node `name` served some of them.
async fn serves_its_partitions(client: &Client, name: &str) {
    let commands = |stats: Vec<(String, HashMap<String, u64>)>| {
        let node = stats.into_iter().find(|(n, _)| *n == name);
        node.expect("back under its own name").1["node_commands"]
    };
    let before = commands(node_stats(client).await);
    put_keys(client, 100).await;
    assert!(
        commands(node_stats(client).await) > before,
        "{name} serves its partitions again"
    );
}

/// A node that comes back on another port under its own name (a mistake users hit: a
/// restarted server given another port), once the client has seen it leave: the peers
/// announce the new address, and the client finds the node there, serving its partitions.
/// (Back before the client saw it leave, aerospike-core 3.0.0 keeps it at its dead
/// address while the peers name it: README "Faults".)
#[tokio::test]
async fn a_node_back_on_another_port_is_found_there() {
    let (target, client) = cluster(3).await;
    put_keys(&client, 100).await;
    let server = target.embedded().unwrap();
    let name = client.nodes()[1].name().to_string();
    server.fault(1, Fault::Kill).unwrap();
    until_nodes(&client, 2).await;
    server.fault(1, Fault::Move).unwrap();
    let deadline = Instant::now() + TEND_BOUND;
    let moved = loop {
        if let Some(node) = client.nodes().into_iter().find(|n| n.name() == name) {
            break node.address().to_string();
        }
        assert!(Instant::now() < deadline, "{name} never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!target.hosts.contains(&moved), "{moved} is a new address");
    serves_its_partitions(&client, &name).await;
}

/// A hung node, once healed, drops a write it held past its transaction_ttl instead of
/// applying it (the client had given up on it), as the real server does; a write held
/// for less than its ttl is applied and acknowledged.
#[tokio::test]
async fn a_write_held_past_its_ttl_is_not_applied() {
    let (target, client) = cluster(1).await;
    put_keys(&client, 1).await;
    let server = target.embedded().unwrap();
    hang(server, &client).await;
    let timed_out = put_once(client.clone(), 7, 200).await.unwrap_err();
    assert!(
        matches!(timed_out.kind(), ErrorKind::Timeout),
        "{timed_out:?}"
    );
    // Held well past its 200 ms ttl before the heal.
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.fault(0, Fault::Heal).unwrap();
    // Held: the read that found the node hung (300 ms ttl) and the write. Each is then
    // either dropped (expired) or applied (one put seeded the key).
    let served = |stats: &HashMap<String, u64>| stats["expired"] >= 2 || stats["put"] >= 2;
    let deadline = Instant::now() + TEND_BOUND;
    while !served(&node_stats(&client).await[0].1) {
        assert!(Instant::now() < deadline, "the held write was never served");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let record = client.get(&ReadPolicy::default(), &key(0), Bins::All).await;
    assert_eq!(record.unwrap().bins["v"], Value::Int(0), "not applied");
    assert_eq!(node_stats(&client).await[0].1["expired"], 2);

    hang(server, &client).await;
    let patient = tokio::spawn(put_once(client.clone(), 8, 30_000));
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.fault(0, Fault::Heal).unwrap();
    patient.await.unwrap().expect("acknowledged once healed");
    let record = client.get(&ReadPolicy::default(), &key(0), Bins::All).await;
    assert_eq!(record.unwrap().bins["v"], Value::Int(8), "applied");
}

/// Hangs node 0 and waits (bounded) until a read finds it hung: the control line is
/// applied asynchronously.
async fn hang(server: &EmbeddedServer, client: &Client) {
    server.fault(0, Fault::Hang).unwrap();
    let deadline = Instant::now() + TEND_BOUND;
    while client.get(&impatient(), &key(0), Bins::All).await.is_ok() {
        assert!(Instant::now() < deadline, "the node never hung");
    }
}

/// Writes `value` to key 0 in one attempt with a `timeout_ms` deadline, which the client
/// sends as the transaction's ttl.
async fn put_once(client: Client, value: i64, timeout_ms: u32) -> aerospike_core::Result<()> {
    let mut policy = WritePolicy::default();
    policy.base_policy.max_retries = 0;
    policy.base_policy.total_timeout = timeout_ms;
    let bin = Bin::new("v", Value::Int(value));
    client.put(&policy, &key(0), &[bin]).await
}
