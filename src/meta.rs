//! What a number was measured against. Every report line and JSON result carries a
//! [`Fingerprint`], so two numbers from different targets, clients or commits are never
//! compared by accident.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `aerospike-core` version resolved in Cargo.lock at build time.
pub const CLIENT_VERSION: &str = env!("AEROBENCH_CLIENT_VERSION");
/// The commit of this suite the binary was built from (`git describe --dirty`).
pub const COMMIT: &str = env!("AEROBENCH_COMMIT");

/// The conditions a measurement was taken under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// `embedded`, `container` or `remote`.
    pub target: String,
    pub nodes: usize,
    pub hosts: Vec<String>,
    /// How the client reaches the nodes: `loopback` (embedded), `host` or `published`
    /// (container: host networking, or Docker's port proxy), `direct` (remote). Results
    /// saved before it was recorded read as empty.
    #[serde(default)]
    pub network: String,
    /// The server's own description (edition and build).
    pub server: String,
    pub client: String,
    pub commit: String,
    pub machine: String,
    /// Where the server and the client ran: `shared` (every core for both) or e.g.
    /// `server:0,client:1`. Results saved before it was recorded read as empty.
    #[serde(default)]
    pub cpus: String,
}

impl Fingerprint {
    /// The fields that must match for two results to be comparable, as `name=value` words
    /// (hosts and commit may differ: ports change between runs, and comparing commits is the
    /// point). One list for the check and for the message that shows a difference.
    pub fn comparable_part(&self) -> String {
        format!(
            "target={} nodes={} network={} server={} machine={} cpus={}",
            self.target, self.nodes, self.network, self.server, self.machine, self.cpus
        )
    }

    pub fn comparable_with(&self, other: &Fingerprint) -> bool {
        self.comparable_part() == other.comparable_part()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "target={} nodes={} [{}] network={} server={} client=aerospike-core {} commit={} machine={} cpus={}",
            self.target,
            self.nodes,
            self.hosts.join(","),
            self.network,
            self.server,
            self.client,
            self.commit,
            self.machine,
            self.cpus
        )
    }
}

/// This machine's host name (the kernel's), `unknown-host` where it cannot be read.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}

/// Host name, core count and CPU model, read from `/proc`.
pub fn machine() -> String {
    let host = host_name();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split(':').nth(1))
        })
        .map(|m| m.trim().to_string())
        .unwrap_or_else(|| std::env::consts::ARCH.into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{host}/{cores}c/{}", model.replace(' ', "_"))
}
