//! What a number was measured against. Every report line and JSON result carries a
//! [`Fingerprint`], so two numbers from different targets, clients or commits are never
//! compared by accident.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The `aerospike-core` version resolved in Cargo.lock at build time.
pub const CLIENT_VERSION: &str = env!("AEROBENCH_CLIENT_VERSION");
/// The commit of this suite the library was built from (`git describe --dirty`), or the
/// label `AEROBENCH_COMMIT` named at build time. See [`commit`] for the one to print.
pub const COMMIT: &str = env!("AEROBENCH_COMMIT");
/// How long reading the tree's commit may take before the build-time value is used.
const GIT_LIMIT: Duration = Duration::from_secs(3);

/// The commit the running tree is at, read once per process: cargo rebuilds the library
/// only when `src` changes, so [`COMMIT`] says "clean" after a bench or test was edited.
/// A label pinned by `AEROBENCH_COMMIT` at build time (compare's sides) wins; where git or
/// the source tree is gone, the build-time value is used.
pub fn commit() -> &'static str {
    static COMMIT_NOW: OnceLock<String> = OnceLock::new();
    COMMIT_NOW.get_or_init(|| {
        let pinned = !env!("AEROBENCH_COMMIT_PINNED").is_empty();
        let tree = Path::new(env!("CARGO_MANIFEST_DIR"));
        (!pinned)
            .then(|| describe(tree))
            .flatten()
            .unwrap_or_else(|| COMMIT.to_string())
    })
}

/// `git describe --always --dirty` of the tree at `dir`, or `None` when git fails or takes
/// longer than [`GIT_LIMIT`].
pub fn describe(dir: &Path) -> Option<String> {
    let mut child = Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=10"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + GIT_LIMIT;
    let status = loop {
        match child.try_wait().ok()? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    Some(out.trim().to_string()).filter(|s| status.success() && !s.is_empty())
}

/// The conditions a measurement was taken under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs")
            .status
            .success();
        assert!(ok, "git {args:?}");
    }

    /// The commit read at run time follows the tree: an edit outside `src` (which does not
    /// rebuild the library) still marks the run dirty.
    #[test]
    fn describe_sees_an_edit_made_after_the_commit() {
        let dir = std::env::temp_dir().join(format!("aerobench-meta-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("benches")).unwrap();
        std::fs::write(dir.join("benches/a.rs"), "1").unwrap();
        git(&dir, &["init", "-q"]);
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-qm", "a"]);
        let clean = describe(&dir).expect("a commit");
        assert!(!clean.ends_with("-dirty"), "{clean}");
        std::fs::write(dir.join("benches/a.rs"), "2").unwrap();
        assert_eq!(describe(&dir), Some(format!("{clean}-dirty")));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(describe(&dir), None, "no tree, no commit");
    }
}
