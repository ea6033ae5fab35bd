//! The container and remote targets.
//!
//! - Container target, against the real server (Aerospike CE 8.1.2.0, the source build
//!   `scripts/test` loads from `../shared/images/`) and against the local image of the
//!   embedded server (`scripts/build-server-image`): 1-node and 3-node clusters on the host
//!   network, and one on a private network with published ports, real ops on every node,
//!   what the client found, `aerobench run` with no error; no container or network is left
//!   behind, also after the owning process is killed (SIGKILL: the next start cleans up),
//!   interrupted (SIGINT: our signal thread, also with a paused node) or exits without dropping its target.
//! - Missing Docker or image: a one-line error that says how to fix it.
//!
//! Without Docker or the real image the checks that need them are skipped visibly (and
//! fail under `CI=true`, see `common::missing`). Child processes are this test binary
//! re-run on one `child_*` test, which does nothing unless `AEROBENCH_CONTAINER_CHILD` is
//! set.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use aerobench::cluster::container::{self, LABEL_PID, LABEL_RUN, LOCAL_IMAGE, NetworkMode};
use aerobench::cluster::{ContainerSpec, Kind, Settings, Target};
use aerobench::server::cluster::partition_of;
use aerospike_core::policy::{BatchPolicy, ReadPolicy, WritePolicy};
use aerospike_core::{
    BatchOperation, BatchReadPolicy, Bins, Client, Key, ResultCode, Value, as_bin,
};

const CHILD: &str = "AEROBENCH_CONTAINER_CHILD";

fn settings(kind: Kind, nodes: usize) -> Settings {
    Settings {
        kind,
        nodes,
        ..Settings::parse(|_| None).unwrap()
    }
}

fn spec_of(image: &str, network: Option<NetworkMode>) -> ContainerSpec {
    ContainerSpec {
        network,
        ..ContainerSpec::parse(|k| (k == "AEROBENCH_IMAGE").then(|| image.to_string())).unwrap()
    }
}

/// One Docker test at a time: each checks what is left with its label, and every start
/// cleans what ended processes left.
fn docker_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether a Docker engine answers; records the skip (or fails under CI) when not.
fn docker_available(check: &str) -> bool {
    match container::check_docker() {
        Ok(()) => true,
        Err(e) => {
            common::missing(
                check,
                &format!("{e}; scripts/test needs a running Docker engine"),
            );
            false
        }
    }
}

/// Builds `aerobench/server:local` once per test process, from the binary cargo built for
/// these tests.
fn local_image() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-server-image");
        let out = Command::new(&script)
            .arg(LOCAL_IMAGE)
            .env(
                "AEROBENCH_SERVER_BIN",
                env!("CARGO_BIN_EXE_aerobench-server"),
            )
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        println!("{}", String::from_utf8_lossy(&out.stdout).trim());
        match out.status.success() {
            true => Ok(()),
            false => Err(format!(
                "{} failed: {}",
                script.display(),
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    });
    if let Err(e) = built {
        panic!("{e}");
    }
}

fn key(id: i64) -> Key {
    aerobench::workload::space::CONTAINER_TESTS.key(id)
}

/// put, get and batch read over 300 keys whose partitions fall on every node, then, where
/// the server counts them (aerobench-server), checks that every node served commands and
/// none reached a node that is not its master.
async fn exercise(client: &Client, nodes: usize) {
    assert_eq!(client.nodes().len(), nodes, "the client sees every node");
    let ids: Vec<i64> = (0..300).collect();
    let owners: HashSet<usize> = ids
        .iter()
        .map(|&id| partition_of(&key(id).digest()) % nodes)
        .collect();
    assert_eq!(owners.len(), nodes, "keys fall on every node");

    let before = common::node_stats(client).await;
    for &id in &ids {
        let bins = [as_bin!("v", id), as_bin!("s", format!("k{id}"))];
        client
            .put(&WritePolicy::default(), &key(id), &bins)
            .await
            .unwrap();
    }
    for &id in &ids {
        let record = client
            .get(&ReadPolicy::default(), &key(id), Bins::All)
            .await
            .unwrap();
        assert_eq!(record.bins["v"], Value::Int(id));
        assert_eq!(record.bins["s"], Value::from(format!("k{id}")));
    }
    let mut reads: Vec<_> = ids
        .iter()
        .chain(&[10_000, 10_001])
        .map(|&id| BatchOperation::read(&BatchReadPolicy::default(), key(id), Bins::All))
        .collect();
    client
        .batch(&BatchPolicy::default(), &mut reads)
        .await
        .unwrap();
    for (row, &id) in reads.iter().zip(ids.iter().chain(&[10_000, 10_001])) {
        if id >= 10_000 {
            assert_eq!(
                row.result_code(),
                Some(ResultCode::KeyNotFoundError),
                "id {id}"
            );
            continue;
        }
        assert_eq!(row.result_code(), Some(ResultCode::Ok), "id {id}");
        assert_eq!(row.record().unwrap().bins["v"], Value::Int(id));
    }
    let after = common::node_stats(client).await;
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        let (Some(b), Some(a)) = (b.get("node_commands"), a.get("node_commands")) else {
            continue;
        };
        let served = a - b;
        assert!(served > 0, "node {name} served none of the commands");
        let misrouted = after
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s["misrouted"]);
        assert_eq!(
            misrouted,
            Some(0),
            "node {name}: every command reached its master"
        );
        println!("node {name}: {served} commands");
    }
}

#[test]
fn real_server_clusters_of_one_and_three_nodes_on_the_host_network() {
    if !common::real_image_available("real server, 1 and 3 nodes") {
        return;
    }
    let _lock = docker_lock();
    let spec = spec_of(common::REAL_IMAGE, None);
    clusters(&spec, &[1, 3], NetworkMode::Host, Some("8.1.2.0"));
}

#[test]
fn real_server_with_published_ports() {
    if !common::real_image_available("real server, published ports") {
        return;
    }
    let _lock = docker_lock();
    let spec = spec_of(common::REAL_IMAGE, Some(NetworkMode::Published));
    clusters(&spec, &[1], NetworkMode::Published, Some("8.1.2.0"));
}

#[test]
fn local_image_clusters_of_one_and_three_nodes() {
    if !docker_available("local server image, 1 and 3 nodes") {
        return;
    }
    let _lock = docker_lock();
    local_image();
    clusters(
        &spec_of(LOCAL_IMAGE, None),
        &[1, 3],
        NetworkMode::Host,
        Some("7.2.0.0"),
    );
    let published = spec_of(LOCAL_IMAGE, Some(NetworkMode::Published));
    clusters(&published, &[3], NetworkMode::Published, Some("7.2.0.0"));
}

/// Starts a cluster of `spec` per node count, runs [`exercise`] against each, and checks
/// the network path (`mode`) and that dropping the target leaves nothing behind.
fn clusters(spec: &ContainerSpec, counts: &[usize], mode: NetworkMode, build: Option<&str>) {
    let rt = common::runtime();
    for &nodes in counts {
        let target = Target::start_container(settings(Kind::Container, nodes), spec.clone())
            .unwrap_or_else(|e| panic!("{nodes}-node container cluster: {e}"));
        let cluster = target.container().unwrap();
        let run = format!("{LABEL_RUN}={}", cluster.run);
        println!("{nodes} node(s): {} at {:?}", cluster.run, cluster.hosts);
        assert_eq!(cluster.containers.len(), nodes);
        assert_eq!(cluster.network, mode);
        assert_eq!(target.network(), mode.to_string());
        let (containers, networks) = common::left_behind(&run);
        assert_eq!(containers.len(), nodes, "one container per node");
        let private_networks = usize::from(mode == NetworkMode::Published);
        assert_eq!(
            networks.len(),
            private_networks,
            "a network only when published"
        );

        let policy = target.client_policy();
        assert!(
            policy.use_services_alternate,
            "nodes announce 127.0.0.1 alternates"
        );
        let client = rt.block_on(target.connect(&policy)).unwrap();
        rt.block_on(exercise(&client, nodes));
        let found = rt.block_on(target.describe(&client));
        println!("{found}");
        assert_eq!(found.nodes.len(), nodes);
        if let Some(build) = build {
            assert_eq!(found.builds, [build]);
        }
        assert_eq!(found.namespaces, ["test"]);
        assert_eq!(found.cluster_names, ["aerobench"]);
        for node in client.nodes() {
            let address = node.address().to_string();
            assert!(
                cluster.hosts.contains(&address),
                "node {address} is one of the planned loopback addresses {:?}",
                cluster.hosts
            );
        }
        let mut names = cluster.node_names.clone();
        names.sort();
        let mut seen: Vec<String> = client
            .nodes()
            .iter()
            .map(|n| n.name().to_string())
            .collect();
        seen.sort();
        assert_eq!(names, seen, "the client found the containers' nodes");

        rt.block_on(client.close()).unwrap();
        drop(target);
        common::assert_nothing_left(&run);
    }
    common::assert_nothing_left(&format!("{LABEL_PID}={}", std::process::id()));
}

/// `aerobench run` against a real 1-node cluster: a few seconds of RU,50 with every read
/// checked, no error, timeout or mismatch, and a result that says what it ran against.
#[test]
fn aerobench_run_against_the_real_server_is_clean() {
    if !common::real_image_available("aerobench run against the real server") {
        return;
    }
    let _lock = docker_lock();
    let dir = std::env::temp_dir().join(format!("aerobench-container-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("result.json");
    let out = Command::new(env!("CARGO_BIN_EXE_aerobench"))
        .args([
            "run", "-d", "3", "--warmup", "1", "-k", "10000", "-w", "RU,50", "-z", "8",
        ])
        .args(["--seed", "--json", json.to_str().unwrap()])
        .env("AEROBENCH_TARGET", "container")
        .env("AEROBENCH_IMAGE", common::REAL_IMAGE)
        .env("AEROBENCH_NODES", "1")
        .env_remove("AEROSPIKE_HOSTS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let fingerprint = &result["fingerprint"];
    assert_eq!(fingerprint["target"], "container");
    assert_eq!(fingerprint["network"], "host");
    assert!(
        fingerprint["server"]
            .as_str()
            .unwrap()
            .ends_with("/8.1.2.0"),
        "{fingerprint}"
    );
    let outcome = &result["outcome"];
    let count = |f: &str| outcome[f].as_u64().unwrap();
    assert!(count("ops") > 0, "{outcome}");
    assert_eq!(
        (count("errors"), count("timeouts"), count("mismatches")),
        (0, 0, 0),
        "{outcome}"
    );
    assert!(stdout.contains("network=host"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts a child holding a 1-node cluster (`role`: `hold` it, or `exit` at once without
/// dropping it); returns the child and the cluster's run label once it is ready.
fn child_with_cluster(role: &str, network: NetworkMode) -> (std::process::Child, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_start_from_env",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD, role)
        .env("AEROBENCH_TARGET", "container")
        .env("AEROBENCH_IMAGE", LOCAL_IMAGE)
        .env("AEROBENCH_CONTAINER_NETWORK", network.to_string())
        .env("AEROBENCH_NODES", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut run = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(r) = line.strip_prefix("READY ") {
            run = Some(r.to_string());
            break;
        }
        if line.starts_with("ERROR ") {
            let _ = child.kill();
            panic!("child could not start its cluster: {line}");
        }
    }
    let run = run.expect("child printed READY");
    (child, format!("{LABEL_RUN}={run}"))
}

#[test]
fn killed_or_interrupted_owner_leaves_nothing_behind() {
    if !docker_available("clean-up after SIGKILL, SIGINT and exit") {
        return;
    }
    let _lock = docker_lock();
    local_image();

    // SIGKILL: nothing runs in the child; its containers (and a private network) stay until
    // the next start, or clean_stale, removes them because their owner is gone.
    for (network, networks) in [(NetworkMode::Host, 0), (NetworkMode::Published, 1)] {
        let (mut child, run) = child_with_cluster("hold", network);
        child.kill().unwrap();
        child.wait().unwrap();
        let (containers, left) = common::left_behind(&run);
        assert_eq!(
            (containers.len(), left.len()),
            (1, networks),
            "a killed owner leaves its cluster ({network})"
        );
        assert!(container::clean_stale().unwrap() > networks);
        common::assert_nothing_left(&run);
    }

    // SIGINT (Ctrl-C): testcontainers' watchdog removes the containers before the child
    // dies.
    let (child, run) = child_with_cluster("hold", NetworkMode::Host);
    // SAFETY: sends SIGINT to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success(), "the child ended on SIGINT");
    common::assert_nothing_left(&run);

    // exit() with the cluster never dropped (as the benchmark harness keeps its target in
    // a static): the atexit hook removes it.
    let (child, run) = child_with_cluster("exit", NetworkMode::Published);
    assert!(child.wait_with_output().unwrap().status.success());
    common::assert_nothing_left(&run);
}

/// Child role: start the target the environment describes, print `READY <run>` or
/// `ERROR <message>`; with `hold` keep the cluster until killed (at most two minutes), with
/// `exit` call `exit(0)` without dropping it.
#[test]
#[ignore = "run by the other tests as a child process"]
fn child_start_from_env() {
    let Ok(role) = std::env::var(CHILD) else {
        return;
    };
    match Target::from_env() {
        Ok(target) => {
            let run = target
                .container()
                .map(|c| c.run.clone())
                .unwrap_or_default();
            println!("READY {run}");
            match role.as_str() {
                "hold" => std::thread::sleep(Duration::from_secs(120)),
                "exit" => {
                    std::mem::forget(target);
                    std::process::exit(0);
                }
                _ => {}
            }
        }
        Err(e) => println!("ERROR {e}"),
    }
}

/// The child's one error line for a container target started with `env`.
fn container_error(env: &[(&str, &str)]) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_start_from_env",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD, "start")
        .env("AEROBENCH_TARGET", "container");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("ERROR ")).collect();
    assert_eq!(errors.len(), 1, "one error line in {text:?}");
    errors[0].to_string()
}

#[test]
fn missing_docker_fails_with_one_line_fix() {
    let e = container_error(&[("DOCKER_HOST", "unix:///nonexistent/aerobench-docker.sock")]);
    println!("{e}");
    assert!(e.contains("Docker is not available"), "{e}");
    assert!(e.contains("/nonexistent/aerobench-docker.sock"), "{e}");
    assert!(e.contains("unset AEROBENCH_TARGET"), "{e}");
}

#[test]
fn missing_image_fails_with_one_line_fix() {
    if !docker_available("missing image error") {
        return;
    }
    let e = container_error(&[("AEROBENCH_IMAGE", "aerobench/absent:none")]);
    println!("{e}");
    assert!(
        e.contains("image aerobench/absent:none is not in the local Docker image store"),
        "{e}"
    );
    assert!(e.contains("scripts/build-server-image"), "{e}");
    assert!(e.contains("docker pull"), "{e}");
    assert!(e.contains("docker load -i"), "{e}");
}
