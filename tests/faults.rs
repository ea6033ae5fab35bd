//! The embedded server's faults as the real client sees them: errors with their code and
//! share, a hung node that times calls out until healed, dropped connections the client
//! replaces, and a killed node that leaves the cluster and comes back on restart.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

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
    let commands = |stats: Vec<(String, HashMap<String, u64>)>| {
        let node = stats.into_iter().find(|(n, _)| *n == name);
        node.expect("back under its own name").1["node_commands"]
    };
    let before = commands(node_stats(&client).await);
    put_keys(&client, 100).await;
    assert!(
        commands(node_stats(&client).await) > before,
        "it serves its partitions again"
    );
}

/// `aerobench run --fault` on 3 embedded nodes: a hang and an error storm on two nodes.
/// The run ends on time (a hung node holds no call past its timeout), prints each order
/// as it goes out, classifies every failure, and reports each fault's effect.
#[test]
fn a_run_with_faults_reports_each_and_ends_on_time() {
    let dir = std::env::temp_dir().join(format!("aerobench-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("run.json");
    let faults = ["1s:1:hang:1s", "2500ms:2:errors=18/50%:1s"];
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aerobench"))
        .args([
            "run", "-d", "4", "--warmup", "1", "-k", "1000", "-z", "8", "--seed",
        ])
        .args([
            "--timeout-ms",
            "200",
            "--fault",
            faults[0],
            "--fault",
            faults[1],
        ])
        .args(["--json", json.to_str().unwrap()])
        .env("AEROBENCH_NODES", "3")
        .env_remove("AEROSPIKE_HOSTS")
        .env_remove("AEROBENCH_TARGET")
        .output()
        .expect("aerobench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A bound against a hang, not a performance figure: 5 s of run, seeding and start-up.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the run ended on time"
    );
    for order in [
        "1.0s hang 1",
        "2.0s heal 1",
        "2.5s errors 2 18 50",
        "3.5s heal 2",
    ] {
        assert!(stdout.contains(order), "{order} marked: {stdout}");
    }
    let result: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(
        result["knobs"]["faults"],
        serde_json::json!(["1s:1:hang:1s", "2500ms:2:errors=18/50%:1s"])
    );
    let outcome = &result["outcome"];
    let named: u64 = outcome["failures"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    let (errors, timeouts) = (
        outcome["errors"].as_u64().unwrap(),
        outcome["timeouts"].as_u64().unwrap(),
    );
    assert_eq!(named, errors + timeouts, "every failure is named");
    let effects = outcome["faults"].as_array().unwrap();
    assert_eq!(effects.len(), 2);
    let hang = &effects[0];
    assert!(hang["detected_after_s"].is_f64(), "the hang showed: {hang}");
    assert!(hang["failures"]["timeout"].as_u64().unwrap() > 0, "{hang}");
    let storm = &effects[1];
    let storm_failures = storm["failures"].as_object().unwrap();
    assert!(
        storm_failures
            .keys()
            .any(|k| k == "server_DeviceOverload" || k == "max_error_rate"),
        "the storm's errors carry their code, or the client's breaker: {storm}"
    );
    assert!(
        stdout.contains("fault       1s:1:hang:1s: seen within"),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
