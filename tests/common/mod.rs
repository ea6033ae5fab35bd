//! Shared set-up for the integration tests: an embedded cluster of N nodes and a client.

#![allow(dead_code)]

use aerobench::cluster::container::{Objects, check_docker, check_image, labelled};
use aerobench::cluster::{ContainerSpec, Kind, Settings, Target};
use std::collections::HashMap;
use std::io::Write;
use std::process::Command;

use aerospike_core::policy::AdminPolicy;
use aerospike_core::{Client, Key};

/// Starts an embedded server with `nodes` nodes (plus `server_args`) and connects a client.
pub async fn cluster_with(nodes: usize, server_args: &[&str]) -> (Target, Client) {
    let settings = Settings {
        kind: Kind::Embedded,
        nodes,
        server_args: server_args.iter().map(|s| s.to_string()).collect(),
        ..Settings::parse(|_| None).unwrap()
    };
    let target = Target::start(settings).expect("embedded server starts");
    let client = target
        .connect(&target.client_policy())
        .await
        .expect("client connects");
    (target, client)
}

pub async fn cluster(nodes: usize) -> (Target, Client) {
    cluster_with(nodes, &[]).await
}

pub fn key(id: i64) -> Key {
    aerobench::workload::space::TESTS.key(id)
}

/// Per node, in `client.nodes()` order: its name and the counters of aerobench-server's
/// `statistics` info (commands served by that node, misrouted commands, …).
pub async fn node_stats(client: &Client) -> Vec<(String, HashMap<String, u64>)> {
    let mut all = Vec::new();
    for node in client.nodes() {
        let info = node
            .info(&AdminPolicy::default(), &["statistics"])
            .await
            .unwrap();
        let stats = info["statistics"]
            .split(';')
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect();
        all.push((node.name().to_string(), stats));
    }
    all
}

/// A part a test needs is missing (Docker, an image, the Python client, Chromium). Under
/// `CI=true` that fails the test with one line naming the part and how `scripts/test`
/// installs it; elsewhere the check is skipped visibly: the reason is printed and appended
/// to `target/tmp/skipped.txt`, which `scripts/test` counts and lists at the end.
pub fn missing(check: &str, why: &str) {
    let line = format!("{check}: {why}");
    if aerobench::under_ci() {
        panic!("CI=true and a required part is missing: {line}");
    }
    println!("SKIPPED {line}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}

/// The real server the embedded one is compared with (Community Edition 8.1.2.0).
pub const REAL_IMAGE: &str = "aerospike/aerospike-server:8.1.2.0-src";

/// Starts a `nodes`-node cluster of [`REAL_IMAGE`] containers (ready to serve the
/// namespace), or returns `None` after [`missing`] when Docker or the image is not there.
pub fn real_cluster(check: &str, nodes: usize) -> Option<Target> {
    if !real_image_available(check) {
        return None;
    }
    let spec = ContainerSpec::parse(|k| (k == "AEROBENCH_IMAGE").then(|| REAL_IMAGE.to_string()));
    let settings = Settings {
        kind: Kind::Container,
        nodes,
        ..Settings::parse(|_| None).unwrap()
    };
    Some(Target::start_container(settings, spec.unwrap()).expect("real cluster starts"))
}

/// Whether a Docker engine answers and the real server's image is loaded; records the skip
/// (or fails under CI) when not.
pub fn real_image_available(check: &str) -> bool {
    match check_docker().and_then(|_| check_image(REAL_IMAGE)) {
        Ok(()) => true,
        Err(e) => {
            missing(
                check,
                &format!(
                    "{e}; scripts/test needs a running Docker engine and loads the image from ../shared/images/"
                ),
            );
            false
        }
    }
}

/// Ids of containers and networks with `label`, through the docker CLI when there is one
/// (as a user would look), else through the engine's API.
pub fn left_behind(label: &str) -> (Vec<String>, Vec<String>) {
    let cli = |args: &[&str]| -> Option<Vec<String>> {
        let out = Command::new("docker").args(args).output().ok()?;
        out.status.success().then(|| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect()
        })
    };
    let filter = format!("label={label}");
    let containers = cli(&["ps", "-a", "-q", "--filter", &filter]).unwrap_or_else(|| {
        let list = labelled(Objects::Containers, label).unwrap();
        list.into_iter().map(|o| o.id).collect()
    });
    let networks = cli(&["network", "ls", "-q", "--filter", &filter]).unwrap_or_else(|| {
        let list = labelled(Objects::Networks, label).unwrap();
        list.into_iter().map(|o| o.id).collect()
    });
    (containers, networks)
}

pub fn assert_nothing_left(label: &str) {
    let (containers, networks) = left_behind(label);
    assert!(
        containers.is_empty() && networks.is_empty(),
        "left behind with {label}: containers {containers:?}, networks {networks:?}"
    );
}

/// A 2-worker runtime for tests that drive async clients from synchronous code.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
