//! The remote target against a real server, end to end: a real Aerospike node (CE 8.1.2.0,
//! the source build `scripts/test` loads) is started as a container, on a private Docker
//! network with its port published, so it has two addresses as a node behind NAT has: its
//! standard one (the container's) and its alternate one (`127.0.0.1:<published port>`).
//! It is then reached as a user reaches their own cluster, through `AEROSPIKE_HOSTS` in an
//! `aerobench run`, or [`Kind::Remote`] settings in this process:
//!
//! - the line saying what the client found names the node, its build, edition, namespace
//!   and cluster name as the server itself answers them, and a short run goes through;
//! - `AEROSPIKE_SERVICES_ALTERNATE` decides which of the node's addresses the client uses;
//! - a wrong cluster name, and a port nothing listens on, end the run with one line.
//!
//! The library's side of the same (no Docker needed): a closed port fails `connect` and
//! `connect_blocking` with one line naming the host; a 3-node embedded cluster reached as a
//! remote one is described, and refused credentials or a wrong cluster name fail in one
//! line.
//!
//! Without Docker or the image the checks that need the node are skipped visibly
//! ([`common::missing`]; a failure under `CI=true`).

mod common;

use std::process::{Command, Output};
use std::sync::OnceLock;

use aerobench::cluster::container::{
    self, DEFAULT_IMAGE, NetworkMode, SOURCE_BUILD_TAG, check_docker, check_image,
};
use aerobench::cluster::{ContainerSpec, Kind, Settings, Target};

/// The real node the tests share, started once and removed at exit; `None` (after
/// reporting the missing part for `check`) when Docker or the image is missing.
fn real_node(check: &str) -> Option<&'static Target> {
    static NODE: OnceLock<Result<Target, aerobench::cluster::Error>> = OnceLock::new();
    let image = format!("{DEFAULT_IMAGE}:{SOURCE_BUILD_TAG}");
    let spec = ContainerSpec {
        network: Some(NetworkMode::Published),
        ..ContainerSpec::parse(|k| (k == "AEROBENCH_IMAGE").then(|| image.clone())).unwrap()
    };
    if let Err(why) = check_docker().and_then(|_| check_image(&spec.reference())) {
        common::missing(check, &why.to_string());
        return None;
    }
    let node = NODE.get_or_init(|| Target::start_container(settings(Kind::Container), spec));
    Some(
        node.as_ref()
            .unwrap_or_else(|e| panic!("the real node did not start: {e}")),
    )
}

fn settings(kind: Kind) -> Settings {
    Settings {
        kind,
        ..Settings::parse(|_| None).unwrap()
    }
}

/// What the node answers to info `names`, asked directly.
fn ask(host: &str, names: &[&str]) -> Vec<String> {
    let answers = container::ready::info(host, names).unwrap();
    names.iter().map(|n| answers[*n].clone()).collect()
}

/// `aerobench run` (1 s, 4 tasks, seeded) with only the `AEROSPIKE_*` variables `env`.
fn run_cli(env: &[(&str, &str)], json: &std::path::Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aerobench"));
    command
        .args(["run", "-d", "1", "--warmup", "0", "-k", "1000", "-z", "4"])
        .args(["--seed", "--json"])
        .arg(json);
    for (name, _) in std::env::vars() {
        if name.starts_with("AEROSPIKE_") || name.starts_with("AEROBENCH_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied()).output().unwrap()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("remote");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{}-{name}.json", std::process::id()))
}

/// The run's one-line error: exit status 2, nothing else on stderr, naming `host` and
/// the fix.
fn one_line_error(out: &Output, host: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    println!("{stderr}");
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    let line = stderr.trim_end();
    let start = format!("aerobench: cannot connect to Aerospike at {host}: ");
    assert!(line.starts_with(&start), "names the host: {line}");
    assert!(
        line.contains("check AEROSPIKE_HOSTS"),
        "says the fix: {line}"
    );
    line.to_string()
}

#[test]
fn found_line_names_the_real_node_and_a_run_goes_through() {
    let Some(node) = real_node("remote: the found line against a real node") else {
        return;
    };
    let host = &node.hosts[0];
    let name = &node.container().unwrap().node_names[0];
    let [build, edition] = <[String; 2]>::try_from(ask(host, &["build", "edition"])).unwrap();
    let json = scratch("found");
    let out = run_cli(
        &[
            ("AEROSPIKE_HOSTS", host),
            ("AEROSPIKE_CLUSTER_NAME", "aerobench"),
        ],
        &json,
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    println!("{stderr}{stdout}");
    assert!(out.status.success(), "{stderr}");

    let found: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("aerobench: remote target at "))
        .collect();
    let expected = format!(
        "aerobench: remote target at {host}: 1 node(s) {name}@{host}; build {build} \
         ({edition}); namespaces test; cluster-name aerobench"
    );
    assert_eq!(found, [expected.as_str()], "the found line, once");
    let server = format!("{}/{build}", edition.replace(' ', "_"));
    let against =
        format!("measuring against target=remote nodes=1 [{host}] network=direct server={server} ");
    assert!(stdout.contains(&against), "{stdout}");

    let result: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let outcome = &result["outcome"];
    assert!(outcome["ops"].as_u64().unwrap() > 0, "{outcome}");
    for failure in ["errors", "timeouts", "mismatches", "misses"] {
        assert_eq!(outcome[failure], 0, "{failure} in {outcome}");
    }
}

/// The node's `name@address` as a client seeded at `seed` reports it, with
/// `AEROSPIKE_SERVICES_ALTERNATE=alternate`.
fn node_seen_from(seed: &str, alternate: &str) -> String {
    let vars = [
        ("AEROSPIKE_HOSTS", seed),
        ("AEROSPIKE_SERVICES_ALTERNATE", alternate),
    ];
    let settings = Settings::parse(|k| vars.iter().find(|v| v.0 == k).map(|v| v.1.into()));
    let target = Target::start(settings.unwrap()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = target.connect(&target.client_policy()).await.unwrap();
        let found = target.describe(&client).await;
        println!("AEROSPIKE_SERVICES_ALTERNATE={alternate}: {found}");
        client.close().await.unwrap();
        assert_eq!(found.nodes.len(), 1, "one node");
        found.nodes[0].clone()
    })
}

/// Seeded at the node's standard (non-loopback) address, the client keeps it with the
/// variable off; with it on the seed is not among the node's alternate addresses, so the
/// client moves to the alternate one (the client's load-balancer check, which it skips
/// for loopback seeds).
#[test]
fn services_alternate_picks_the_address_the_client_uses() {
    let Some(node) = real_node("remote: services-alternate against a real node") else {
        return;
    };
    let name = &node.container().unwrap().node_names[0];
    let [std, alt] = <[String; 2]>::try_from(ask(
        &node.hosts[0],
        &["service-clear-std", "service-clear-alt"],
    ))
    .unwrap();
    println!("service-clear-std {std}, service-clear-alt {alt}");
    let standard = std.split(';').next().unwrap();
    assert!(
        !standard.starts_with("127.") && !alt.split(';').any(|a| a == standard),
        "the node must announce a non-loopback standard address apart from its alternates"
    );
    assert_eq!(node_seen_from(standard, "0"), format!("{name}@{standard}"));
    assert_eq!(node_seen_from(standard, "1"), format!("{name}@{alt}"));
}

#[test]
fn wrong_cluster_name_fails_with_one_line() {
    let Some(node) = real_node("remote: a wrong cluster name against a real node") else {
        return;
    };
    let host = &node.hosts[0];
    let out = run_cli(
        &[
            ("AEROSPIKE_HOSTS", host),
            ("AEROSPIKE_CLUSTER_NAME", "not-aerobench"),
        ],
        &scratch("wrong-name"),
    );
    let line = one_line_error(&out, host);
    assert!(
        line.contains("not-aerobench"),
        "names the expected cluster: {line}"
    );
}

#[test]
fn nothing_listening_fails_with_one_line() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let host = format!("127.0.0.1:{port}");
    let out = run_cli(&[("AEROSPIKE_HOSTS", &host)], &scratch("nothing"));
    one_line_error(&out, &host);
}

#[test]
fn remote_closed_port_fails_with_one_line_naming_the_host() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let host = format!("127.0.0.1:{port}");
    let mut s = settings(Kind::Remote);
    s.hosts = vec![host.clone()];
    let target = Target::start(s).unwrap();
    let mut policy = target.client_policy();
    policy.timeout = 1000;
    let started = std::time::Instant::now();
    let e = common::runtime()
        .block_on(target.connect(&policy))
        .err()
        .expect("no cluster")
        .to_string();
    println!(
        "after {:?} (bound {:?}): {e}",
        started.elapsed(),
        Target::connect_bound(&policy)
    );
    assert!(e.contains(&host) && e.contains("AEROSPIKE_HOSTS"), "{e}");
    assert!(!e.contains('\n'), "one line: {e:?}");
    let e = target
        .connect_blocking(&policy)
        .err()
        .expect("no cluster")
        .to_string();
    assert!(e.contains(&host) && !e.contains('\n'), "{e:?}");
}

#[test]
fn remote_target_describes_what_it_found() {
    let rt = common::runtime();
    let embedded = Target::start(Settings {
        nodes: 3,
        ..settings(Kind::Embedded)
    })
    .unwrap();
    let mut s = settings(Kind::Remote);
    s.hosts = embedded.hosts.clone();
    s.cluster_name = Some("aerobench".into());
    let remote = Target::start(s).unwrap();
    let client = rt
        .block_on(remote.connect(&remote.client_policy()))
        .unwrap();
    let found = rt.block_on(remote.describe(&client));
    println!("{found}");
    assert_eq!(found.nodes.len(), 3);
    assert_eq!(found.builds, ["7.2.0.0"]);
    assert_eq!(found.namespaces, ["test"]);
    assert_eq!(found.cluster_names, ["aerobench"]);
    let line = found.to_string();
    assert!(line.starts_with("remote target at "), "{line}");
    assert!(
        line.contains("3 node(s)") && line.contains("namespaces test"),
        "{line}"
    );

    // Credentials the nodes do not accept (this server has no security, as a real one
    // without it) fail within the bound with one line naming the hosts.
    let mut s = settings(Kind::Remote);
    s.hosts = embedded.hosts.clone();
    s.credentials = Some(("bench".into(), "wrong".into()));
    let refused = Target::start(s).unwrap();
    let mut policy = refused.client_policy();
    policy.timeout = 1000;
    let e = rt
        .block_on(refused.connect(&policy))
        .err()
        .expect("credentials refused")
        .to_string();
    println!("{e}");
    assert!(e.contains(&embedded.hosts[0]) && !e.contains('\n'), "{e:?}");

    // A cluster name the nodes do not have fails like an unreachable host: one line.
    let mut s = settings(Kind::Remote);
    s.hosts = embedded.hosts.clone();
    s.cluster_name = Some("other".into());
    let wrong = Target::start(s).unwrap();
    let mut policy = wrong.client_policy();
    policy.timeout = 1000;
    let e = rt
        .block_on(wrong.connect(&policy))
        .err()
        .expect("wrong cluster name")
        .to_string();
    println!("{e}");
    assert!(e.contains(&embedded.hosts[0]) && !e.contains('\n'), "{e:?}");
}

/// The first seed of `AEROSPIKE_HOSTS` lost before the start (a mistake users make: a
/// dead node first in their list): the client finds the cluster through the others and
/// the run goes through on the two survivors; with the dead node as the only seed the run
/// ends with one line naming it. Faults are refused on nodes aerobench does not run.
#[test]
fn a_seed_node_lost_before_the_start() {
    let embedded = Target::start(Settings {
        nodes: 3,
        ..settings(Kind::Embedded)
    })
    .unwrap();
    embedded
        .fault(0, aerobench::server::fault::Fault::Kill)
        .unwrap();
    let dead = &embedded.hosts[0];
    let json = scratch("seed-lost");
    let out = run_cli(&[("AEROSPIKE_HOSTS", &embedded.seeds())], &json);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(": 2 node(s) "),
        "found the survivors: {stderr}"
    );
    let result: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let outcome = &result["outcome"];
    assert!(outcome["ops"].as_u64().unwrap() > 0, "{outcome}");
    assert_eq!(
        (&outcome["errors"], &outcome["timeouts"]),
        (&0.into(), &0.into())
    );

    one_line_error(&run_cli(&[("AEROSPIKE_HOSTS", dead)], &json), dead);

    let out = Command::new(env!("CARGO_BIN_EXE_aerobench"))
        .args(["run", "-d", "3", "--scenario", "hung-node"])
        .env_remove("AEROBENCH_TARGET")
        .env("AEROSPIKE_HOSTS", embedded.seeds())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
    assert!(stderr.contains("this is a remote target"), "{stderr}");
}
