//! Any Aerospike client, not only the Rust one: the Python client (built on the C client,
//! which is stricter about info order, bitmaps and batch rows) against 1 and 3 embedded
//! nodes, and the same script against a real Aerospike 8.1.2.0 node, so what the script
//! expects is what the real server does. Skips with a message when `python3` cannot import
//! `aerospike` (scripts/test installs it), or Docker or the image is missing.

mod common;

use std::process::Command;

use aerobench::cluster::{Kind, Settings, Target};
use aerobench::workload::space::C_CLIENT_TESTS;

fn python_client_available() -> bool {
    Command::new("python3")
        .args(["-c", "import aerospike"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// False, after a counted skip, when the Python client is not installed.
fn python_client_ready() -> bool {
    let ready = python_client_available();
    if !ready {
        common::missing(
            "C-based client",
            "python3 cannot import aerospike; scripts/test installs it with \
             `python3 -m pip install aerospike==19.3.0`",
        );
    }
    ready
}

/// Runs the script against `target`, expecting `nodes` nodes.
fn run_script(target: &Target, nodes: usize) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/c_client.py");
    let mut args = vec![
        script.to_string(),
        target.hosts[0].clone(),
        nodes.to_string(),
        C_CLIENT_TESTS.namespace.to_string(),
        C_CLIENT_TESTS.set.to_string(),
        C_CLIENT_TESTS.keys.to_string(),
    ];
    if target.client_policy().use_services_alternate {
        args.push("alternate".into());
    }
    let out = Command::new("python3").args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "C client against {:?} ({nodes} node(s)) failed: {stderr}",
        target.settings.kind
    );
}

#[test]
fn python_c_client_works_against_one_and_three_nodes() {
    if !python_client_ready() {
        return;
    }
    for nodes in [1, 3] {
        let settings = Settings {
            kind: Kind::Embedded,
            nodes,
            ..Settings::parse(|_| None).unwrap()
        };
        run_script(&Target::start(settings).unwrap(), nodes);
    }
}

#[test]
fn python_c_client_script_holds_against_the_real_server() {
    if !python_client_ready() {
        return;
    }
    let Some(target) = common::real_cluster("C-based client against Aerospike 8.1.2.0", 1) else {
        return;
    };
    run_script(&target, 1);
}
