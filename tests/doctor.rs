//! `aerobench doctor` against the embedded server with one cause planted per test: it
//! must name that cause as the ceiling and rule out every other suspect; and against the
//! real server, Docker's port proxy against host networking. The verdicts
//! rest on ratios measured within the doctor run (shares of the cores, one probe's rate
//! against another's), so these tests hold no timing threshold of their own. The doctor
//! runs one at a time: each reads the machine's CPU.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Mutex;

use serde_json::Value;

/// One doctor at a time: two would read each other's CPU.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `aerobench doctor args` (2 s measured after 1 s warm-up per probe) against the
/// embedded server with `env`.
fn doctor(args: &[&str], env: &[(&str, &str)]) -> Output {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    Command::new(env!("CARGO_BIN_EXE_aerobench"))
        .args(["doctor", "-d", "2", "--warmup", "1", "-k", "10000"])
        .args(args)
        .env_remove("AEROSPIKE_HOSTS")
        .env_remove("AEROBENCH_TARGET")
        .env_remove("AEROBENCH_NODES")
        .env_remove("AEROBENCH_SERVER_ARGS")
        .env_remove("AEROBENCH_CLIENT_CPUS")
        .env_remove("AEROBENCH_SERVER_CPUS")
        .env_remove("AEROSPIKE_SERVICES_ALTERNATE")
        .envs(env.iter().copied())
        .output()
        .expect("aerobench runs")
}

fn json_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "aerobench-doctor-{}-{name}.json",
        std::process::id()
    ))
}

/// The diagnosis of a doctor run that must have succeeded.
fn diagnosis(name: &str, args: &[&str], env: &[(&str, &str)]) -> (String, Value) {
    let json = json_path(name);
    let mut all = vec!["--json", json.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = doctor(&all, env);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(json);
    assert_eq!(value["schema_version"], 1, "{value}");
    assert_eq!(value["findings"].as_array().unwrap().len(), 10, "{stdout}");
    (stdout, value)
}

fn verdict<'a>(d: &'a Value, suspect: &str) -> &'a str {
    let f = d["findings"].as_array().unwrap();
    let found = f.iter().find(|f| f["suspect"] == suspect).unwrap();
    found["verdict"].as_str().unwrap()
}

/// `ceiling` named, ruled in, and every other suspect ruled out.
fn names_only(name: &str, args: &[&str], env: &[(&str, &str)], ceiling: &str) {
    let (stdout, d) = diagnosis(name, args, env);
    assert_eq!(d["ceiling"], ceiling, "{stdout}");
    for f in d["findings"].as_array().unwrap() {
        let expected = match f["suspect"] == ceiling {
            true => "ruled_in",
            false => "ruled_out",
        };
        assert_eq!(f["verdict"], expected, "{}\n{stdout}", f["suspect"]);
    }
    let line = stdout.lines().find(|l| l.starts_with("ceiling")).unwrap();
    assert!(line.contains("fix:"), "{line}");
}

#[test]
fn a_pool_smaller_than_the_tasks_is_the_ceiling() {
    names_only(
        "pool",
        &["-z", "256", "--max-conns", "16"],
        &[],
        "connection_pool",
    );
}

#[test]
fn a_client_on_one_core_with_many_tasks_is_the_ceiling() {
    names_only(
        "client",
        &["-z", "256"],
        &[("AEROBENCH_CLIENT_CPUS", "0")],
        "client_cpu",
    );
}

#[test]
fn a_slow_server_is_the_ceiling() {
    names_only(
        "slow",
        &[],
        &[("AEROBENCH_SERVER_ARGS", "--delay-us 2000")],
        "slow_server",
    );
}

#[test]
fn nodes_announcing_addresses_the_client_cannot_use_are_the_ceiling() {
    let (stdout, d) = diagnosis(
        "routing",
        &[],
        &[
            ("AEROBENCH_NODES", "3"),
            (
                "AEROBENCH_SERVER_ARGS",
                "--alternate 127.0.0.1:1,127.0.0.1:2,127.0.0.1:3",
            ),
            ("AEROSPIKE_SERVICES_ALTERNATE", "1"),
        ],
    );
    assert_eq!(d["ceiling"], "routing", "{stdout}");
    assert_eq!(
        d["routing"]["unusable"].as_array().unwrap().len(),
        3,
        "{stdout}"
    );
    for other in [
        "network_path",
        "connection_pool",
        "timeouts",
        "slow_server",
        "failures",
    ] {
        assert_eq!(verdict(&d, other), "ruled_out", "{other}\n{stdout}");
    }
}

#[test]
fn one_task_against_a_50us_round_trip_lacks_concurrency() {
    names_only(
        "one-task",
        &["-z", "1"],
        &[("AEROBENCH_SERVER_ARGS", "--delay-us 50")],
        "concurrency",
    );
}

#[test]
fn a_clean_default_run_names_a_ceiling_and_none_of_the_planted_causes() {
    let (stdout, d) = diagnosis("clean", &[], &[]);
    let ceiling = d["ceiling"].as_str().expect("a ceiling is named");
    for planted in [
        "routing",
        "network_path",
        "connection_pool",
        "timeouts",
        "failures",
    ] {
        assert_ne!(ceiling, planted, "{stdout}");
        assert_eq!(verdict(&d, planted), "ruled_out", "{planted}\n{stdout}");
    }
    assert!(
        stdout.contains("measured against target=embedded"),
        "{stdout}"
    );
}

/// On the real server, Docker's port proxy is the ceiling, and with host networking it is
/// not on the path at all.
#[test]
fn published_ports_are_the_ceiling_on_the_real_server_and_host_networking_is_not() {
    if !common::real_image_available("aerobench doctor against the real server") {
        return;
    }
    let real = |network| {
        [
            ("AEROBENCH_TARGET", "container"),
            ("AEROBENCH_IMAGE", common::REAL_IMAGE),
            ("AEROBENCH_CONTAINER_NETWORK", network),
        ]
    };
    let (stdout, published) = diagnosis("published", &[], &real("published"));
    assert_eq!(published["ceiling"], "network_path", "{stdout}");
    let proxy = &published["network"]["paths"][0]["proxy"];
    assert!(
        proxy.as_str().unwrap().starts_with("docker-proxy"),
        "{stdout}"
    );
    let (stdout, host) = diagnosis("host", &[], &real("host"));
    assert_eq!(verdict(&host, "network_path"), "ruled_out", "{stdout}");
    assert!(host["network"]["paths"][0]["proxy"].is_null(), "{stdout}");
}

#[test]
fn bad_input_gets_one_line() {
    for (args, says) in [
        (&["--threads", "4"][..], "drop --threads"),
        (&["--rate", "1000"][..], "drop --rate"),
        (
            &["--scenario", "hung-node"][..],
            "drop --verify, --fault and --scenario",
        ),
        (&["-z", "0"][..], "--tasks"),
    ] {
        let out = doctor(args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
