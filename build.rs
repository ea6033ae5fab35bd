//! Records what every printed number must say it was measured with: the `aerospike-core`
//! version resolved in Cargo.lock (which differs from Cargo.toml under `[patch]`) and the
//! commit of this suite.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=src");
    for path in git_paths() {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-env-changed=AEROBENCH_COMMIT");
    let client = std::fs::read_to_string("Cargo.lock")
        .ok()
        .and_then(|lock| locked_version(&lock, "aerospike-core"))
        .unwrap_or_else(|| "unknown".into());
    let pinned = std::env::var("AEROBENCH_COMMIT").ok();
    println!(
        "cargo:rustc-env=AEROBENCH_COMMIT_PINNED={}",
        if pinned.is_some() { "1" } else { "" }
    );
    let commit = pinned.or_else(git_commit);
    println!("cargo:rustc-env=AEROBENCH_CLIENT_VERSION={client}");
    println!(
        "cargo:rustc-env=AEROBENCH_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
}

/// The version of package `name` in a Cargo.lock, with its source when not crates.io.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let block = lock
        .split("[[package]]")
        .find(|b| b.lines().any(|l| l.trim() == format!("name = \"{name}\"")))?;
    let field = |key: &str| {
        block
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key} = \"")))
            .map(|v| v.trim_end_matches('"').to_string())
    };
    let version = field("version")?;
    Some(match field("source") {
        Some(s) if s.starts_with("registry+") => version,
        Some(s) => format!("{version} ({s})"),
        None => format!("{version} (local path)"),
    })
}

/// The files whose change moves the commit: HEAD and the branch it points to, where git
/// keeps them. In a worktree `.git` is a file, and a watched path that does not exist
/// makes cargo rerun this script, and rebuild the crate, on every build.
fn git_paths() -> Vec<String> {
    let mut refs = vec!["HEAD".to_string()];
    refs.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    refs.iter()
        .filter_map(|r| git(&["rev-parse", "--git-path", r]))
        .collect()
}

fn git_commit() -> Option<String> {
    git(&["describe", "--always", "--dirty", "--abbrev=10"])
}

/// One line of `git <args>`'s output.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_string()).filter(|s| !s.is_empty() && out.status.success())
}
