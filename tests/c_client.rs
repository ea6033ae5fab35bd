//! Any Aerospike client, not only the Rust one: the Python client (built on the C client,
//! which is stricter about info order, bitmaps and batch rows) against 1 and 3 nodes.
//! Skips with a message when `python3` cannot import `aerospike` (scripts/test installs it).

mod common;

use std::process::Command;

use aerobench::target::{Kind, Settings, Target};

fn python_client_available() -> bool {
    Command::new("python3")
        .args(["-c", "import aerospike"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn python_c_client_works_against_one_and_three_nodes() {
    if !python_client_available() {
        common::missing(
            "C-based client",
            "python3 cannot import aerospike; scripts/test installs it with \
             `python3 -m pip install aerospike==19.3.0`",
        );
        return;
    }
    for nodes in [1, 3] {
        let settings = Settings {
            kind: Kind::Embedded,
            nodes,
            ..Settings::parse(|_| None).unwrap()
        };
        let target = Target::start(settings).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/c_client.py");
        let out = Command::new("python3")
            .args([script, &target.hosts[0], &nodes.to_string()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "C client against {nodes} node(s) failed: {stderr}"
        );
    }
}
