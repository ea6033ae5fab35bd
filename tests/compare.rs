//! `aerobench compare` without a real comparison (too slow for the suite; see the README
//! for one run by hand): bad input ends with one line and exit code 2; sides whose
//! fingerprints differ are refused unless forced; the table's verdicts from saved baselines;
//! `--client`'s edit of a manifest; checkouts removed after an error and after Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use aerobench::compare::client_source::{ClientSource, ClientSourceError};
use aerobench::compare::fingerprint::{self, FingerprintError};
use aerobench::compare::process::{self, Cancel, ProcessError};
use aerobench::compare::worktree::{self, Worktree};
use aerobench::criterion_results::compare::{NoCommonBaselines, Verdict, compare_saved, render};
use aerobench::criterion_results::{RunRecord, write_run};
use aerobench::meta::Fingerprint;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aerobench-compare-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn aerobench(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aerobench"))
        .arg("compare")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("aerobench runs")
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A git repository with one commit holding `files`.
fn repo_with(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = scratch(name);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(&dir, &["init", "--quiet"]);
    git(&dir, &["add", "."]);
    git(
        &dir,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "--quiet",
            "-m",
            "one",
        ],
    );
    dir
}

/// One line on stderr, `compare: …`, exit code 2, nothing on stdout.
fn assert_one_line(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert_eq!(stderr.trim_end(), expected);
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_one_line(
        &aerobench(&["--bogus", "A", "B"], here),
        "compare: unknown option --bogus (see --help)",
    );
    assert_one_line(
        &aerobench(&["HEAD"], here),
        "compare: expected two things to compare, got 1 (see --help)",
    );
    assert_one_line(
        &aerobench(&["HEAD", "HEAD", "HEAD"], here),
        "compare: expected two things to compare, got 3 (see --help)",
    );
    assert_one_line(
        &aerobench(&["--client", "not-a-version", "3.0.0"], here),
        "compare: client source 'not-a-version' is neither a version nor a directory",
    );
    assert_one_line(
        &aerobench(&["--profile-time", "0.5", "HEAD", "HEAD"], here),
        "compare: --profile-time 0.5 must be at least 1 second (Criterion's minimum)",
    );
    assert_one_line(
        &aerobench(&["--rounds", "0", "HEAD", "HEAD"], here),
        "compare: --rounds 0 runs nothing: give 1 or more",
    );
    assert_one_line(
        &aerobench(&["--b-env", "NOEQUALS", "HEAD", "HEAD"], here),
        "compare: invalid value 'NOEQUALS' for '--b-env <KEY=VALUE>': \"NOEQUALS\" is not KEY=VALUE (see --help)",
    );
    assert_one_line(
        &aerobench(&["--interleave", "sideways", "HEAD", "HEAD"], here),
        "compare: invalid value 'sideways' for '--interleave <INTERLEAVE>' (see --help)",
    );
    let help = aerobench(&["--help"], here);
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--profile-time") && help.contains("--interleave"));
}

#[test]
fn an_unknown_commit_is_one_line_and_leaves_no_checkout() {
    let repo = repo_with("bad-commit", &[("README", "x")]);
    assert_one_line(
        &aerobench(&["no-such-commit", "HEAD"], &repo),
        "compare: unknown commit no-such-commit",
    );
    assert_one_line(
        &aerobench(&["HEAD", "no-such-commit"], &repo),
        "compare: unknown commit no-such-commit",
    );
    assert!(!repo.join("target/compare").exists());
    assert_eq!(git(&repo, &["worktree", "list"]).lines().count(), 1);
}

fn record(server: &str) -> RunRecord {
    RunRecord {
        fingerprint: Fingerprint {
            target: "embedded".into(),
            nodes: 1,
            hosts: vec!["127.0.0.1:3000".into()],
            network: "loopback".into(),
            server: server.into(),
            client: "3.0.0".into(),
            commit: "abc".into(),
            machine: "vm/2c/x".into(),
            cpus: "shared".into(),
        },
        started_unix: 0,
    }
}

fn save(root: &Path, label: &str, bench: &str, record: &RunRecord) {
    let path = fingerprint::saved_path(root, label, bench);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec(record).unwrap()).unwrap();
}

#[test]
fn differing_fingerprints_are_refused_unless_forced() {
    let root = scratch("fingerprints");
    let benches = vec!["single_op".to_string()];
    save(
        &root,
        "a-1",
        "single_op",
        &record("aerobench-server/7.2.0.0"),
    );
    save(
        &root,
        "b-2",
        "single_op",
        &record("aerobench-server/7.2.0.1"),
    );
    match fingerprint::check(&root, "a-1", "b-2", &benches, false) {
        Err(FingerprintError::Differ { bench, a, b }) => {
            assert_eq!(bench, "single_op");
            assert!(a.contains("server=aerobench-server/7.2.0.0"), "{a}");
            assert!(b.contains("server=aerobench-server/7.2.0.1"), "{b}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let forced = fingerprint::check(&root, "a-1", "b-2", &benches, true).unwrap();
    assert_eq!(forced.notes.len(), 1);
    assert!(forced.a.is_some() && forced.b.is_some());

    // Ports and commits differ between any two runs: still comparable.
    let mut other_ports = record("aerobench-server/7.2.0.0");
    other_ports.fingerprint.hosts = vec!["127.0.0.1:4000".into()];
    other_ports.fingerprint.commit = "def".into();
    save(&root, "b-2", "single_op", &other_ports);
    let same = fingerprint::check(&root, "a-1", "b-2", &benches, false).unwrap();
    assert!(same.notes.is_empty());
}

#[test]
fn a_fingerprint_on_one_side_only_is_refused_and_on_neither_side_noted() {
    let root = scratch("one-sided");
    save(&root, "a-1", "single_op", &record("s"));
    let refused = fingerprint::check(&root, "a-1", "b-2", &["single_op".into()], false);
    assert!(
        matches!(&refused, Err(FingerprintError::OneSided { with, without, .. }) if with == "a-1" && without == "b-2"),
        "{refused:?}"
    );
    let neither = fingerprint::check(&root, "a-1", "b-2", &["key".into()], false).unwrap();
    assert_eq!(neither.notes.len(), 1, "{:?}", neither.notes);
    assert!(neither.notes[0].contains("key recorded no fingerprint"));

    // A record written by a run is moved to the side's own name.
    let written = RunRecord::path(&root);
    std::fs::write(&written, serde_json::to_vec(&record("s")).unwrap()).unwrap();
    fingerprint::keep(&root, "b-2", "single_op").unwrap();
    assert!(!written.exists());
    assert!(fingerprint::check(&root, "a-1", "b-2", &["single_op".into()], false).is_ok());
}

#[test]
fn table_and_verdicts_from_saved_baselines() {
    let root = scratch("table");
    for (id, a, b) in [
        ("single_op/async/get", 100.0, 130.0),
        ("single_op/async/put", 100.0, 70.0),
        ("single_op/async/exists", 100.0, 100.0),
        ("single_op/async/delete", 100.0, 100.0),
    ] {
        write_run(&root, id, "a-1", a, None).unwrap();
        if id != "single_op/async/delete" {
            write_run(&root, id, "b-2", b, None).unwrap();
        }
    }
    let rows = compare_saved(&root, "a-1", "b-2").unwrap();
    let verdicts: Vec<(&str, Verdict)> =
        rows.iter().map(|r| (r.a.id.as_str(), r.verdict)).collect();
    assert_eq!(
        verdicts,
        [
            ("single_op/async/exists", Verdict::WithinNoise),
            ("single_op/async/get", Verdict::Regressed),
            ("single_op/async/put", Verdict::Improved),
        ]
    );
    let table = render(&rows, "a-1", "b-2");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "| benchmark | a-1 (median) | b-2 (median) | change | 95% CI | verdict | smallest detectable | rounds |"
    );
    assert!(
        lines[2].contains("| within noise (no change > "),
        "a within-noise verdict says what it rules out: {}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("| single_op/async/get | 100.0 ns | 130.0 ns | +30.00% | ["),
        "{}",
        lines[3]
    );
    assert!(lines[3].contains("| regressed | "), "{}", lines[3]);
    assert_eq!(
        rows[1].diff_flamegraph("a-1", "b-2"),
        root.join("single_op/async/get/profile/diff-a-1-b-2.svg")
    );
    assert!(rows.iter().all(|r| r.rounds == 1));
    let exact = |id: &str| vec!["--exact".to_string(), id.to_string()];
    assert_eq!(
        aerobench::compare::flagged(&rows),
        [(
            "single_op".to_string(),
            vec![exact("single_op/async/get"), exact("single_op/async/put")]
        )],
        "the rows with a verdict, and only they, run the confirming rounds"
    );
    let none: NoCommonBaselines = compare_saved(&root, "a-1", "c-3").unwrap_err();
    assert!(
        none.to_string()
            .contains("no benchmark has both baselines a-1 and c-3")
    );
}

/// Rounds saved as `label@k` are found and paired: B looked 10% slower in round 1 and A in
/// round 2 (the machine's drift, A B then B A), which one round alone calls a regression.
#[test]
fn rounds_are_paired_and_their_drift_is_no_verdict() {
    let root = scratch("rounds");
    let id = "single_op/async/get";
    for (run, ns) in [
        ("a-1", 100.0),
        ("b-2", 110.0),
        ("b-2@2", 100.0),
        ("a-1@2", 110.0),
    ] {
        write_run(&root, id, run, ns, None).unwrap();
    }
    let one_round = scratch("one-round");
    write_run(&one_round, id, "a-1", 100.0, None).unwrap();
    write_run(&one_round, id, "b-2", 110.0, None).unwrap();
    assert_eq!(
        compare_saved(&one_round, "a-1", "b-2").unwrap()[0].verdict,
        Verdict::Regressed
    );
    let rows = compare_saved(&root, "a-1", "b-2").unwrap();
    assert_eq!((rows[0].rounds, rows[0].verdict), (2, Verdict::WithinNoise));
    assert!((rows[0].a_ns - 105.0).abs() < 1e-9 && (rows[0].b_ns - 105.0).abs() < 1e-9);
}

/// A row whose processes fall into two modes put both of A's first rounds in the slow one:
/// two rounds call it a regression; the two confirming rounds, where the modes fell
/// otherwise, take the verdict back.
#[test]
fn confirming_rounds_take_back_a_verdict_of_process_modes() {
    let root = scratch("modes");
    let id = "throughput/batch_32_tasks/16";
    let rounds = [
        (130.0, 100.0),
        (130.0, 101.0),
        (100.0, 130.0),
        (101.0, 100.0),
    ];
    for (k, (a, b)) in rounds.into_iter().enumerate() {
        let round = |label: &str| aerobench::criterion_results::compare::round_name(label, k + 1);
        write_run(&root, id, &round("a-1"), a, None).unwrap();
        write_run(&root, id, &round("b-2"), b, None).unwrap();
        if k == 1 {
            let rows = compare_saved(&root, "a-1", "b-2").unwrap();
            assert_eq!(rows[0].verdict, Verdict::Improved);
        }
    }
    let rows = compare_saved(&root, "a-1", "b-2").unwrap();
    assert_eq!((rows[0].rounds, rows[0].verdict), (4, Verdict::WithinNoise));
}

const MANIFEST: &str = r#"[package]
name = "aerobench"

[dependencies]
# the client under test
aerospike-core = { version = "=3.0.0", default-features = false, features = ["rt-tokio"] }
aerospike-sync = { version = "=3.0.0", default-features = false, features = ["rt-tokio"] }
tokio = "1"
"#;

#[test]
fn a_client_version_replaces_both_pins() {
    let dir = scratch("client-version");
    let manifest = dir.join("Cargo.toml");
    std::fs::write(&manifest, MANIFEST).unwrap();
    let source = ClientSource::parse("3.0.1").unwrap();
    assert_eq!(source, ClientSource::Version("3.0.1".into()));
    source.apply(&manifest).unwrap();
    let text = std::fs::read_to_string(&manifest).unwrap();
    let expected = MANIFEST.replace("\"=3.0.0\"", "\"=3.0.1\"");
    assert_eq!(text, expected);
}

#[test]
fn a_client_checkout_becomes_a_patch_and_a_pin() {
    let dir = scratch("client-path");
    let checkout = dir.join("aerospike-client-rust");
    for name in ["aerospike-core", "aerospike-sync"] {
        std::fs::create_dir_all(checkout.join(name)).unwrap();
        std::fs::write(
            checkout.join(name).join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"3.1.0\"\n"),
        )
        .unwrap();
    }
    let manifest = dir.join("Cargo.toml");
    std::fs::write(&manifest, MANIFEST).unwrap();
    ClientSource::parse(checkout.to_str().unwrap())
        .unwrap()
        .apply(&manifest)
        .unwrap();
    let doc: toml_edit::DocumentMut = std::fs::read_to_string(&manifest).unwrap().parse().unwrap();
    let core = checkout.join("aerospike-core").canonicalize().unwrap();
    let sync = checkout.join("aerospike-sync").canonicalize().unwrap();
    assert_eq!(
        doc["patch"]["crates-io"]["aerospike-core"]["path"].as_str(),
        Some(core.to_str().unwrap())
    );
    assert_eq!(
        doc["patch"]["crates-io"]["aerospike-sync"]["path"].as_str(),
        Some(sync.to_str().unwrap())
    );
    assert_eq!(
        doc["dependencies"]["aerospike-core"]["version"].as_str(),
        Some("=3.1.0")
    );
    assert_eq!(
        doc["dependencies"]["aerospike-core"]["features"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        std::fs::read_to_string(&manifest)
            .unwrap()
            .contains("# the client under test")
    );

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(matches!(
        ClientSource::parse(empty.to_str().unwrap()),
        Err(ClientSourceError::NoCrate(_))
    ));
}

#[test]
fn a_worktree_is_removed_on_drop() {
    let repo = repo_with("worktree", &[("README", "x")]);
    let cancel = Cancel::new();
    let path = repo.join("target/compare/a-x/src");
    let tree = Worktree::add(&repo, &path, "HEAD", &cancel).unwrap();
    assert!(path.join("README").is_file());
    assert_eq!(git(&repo, &["worktree", "list"]).lines().count(), 2);
    // A second add at the same place (what a killed run leaves) replaces the first.
    std::mem::forget(tree);
    let tree = Worktree::add(&repo, &path, "HEAD", &cancel).unwrap();
    drop(tree);
    assert!(!path.exists());
    assert_eq!(git(&repo, &["worktree", "list"]).lines().count(), 1);
    assert!(matches!(
        worktree::short_hash(&repo, "nope", &cancel),
        Err(worktree::GitError::UnknownCommit(_))
    ));
}

#[test]
fn a_raised_cancel_stops_the_child_and_its_group() {
    let dir = scratch("cancel");
    let cancel = Cancel::new();
    let raiser = cancel.clone();
    let pid_file = dir.join("pid");
    let written = pid_file.clone();
    // Cancels once the shell has started its own child (and said which it is).
    std::thread::spawn(move || {
        while !std::fs::read_to_string(&written).is_ok_and(|p| p.ends_with('\n')) {
            std::thread::sleep(Duration::from_millis(20));
        }
        raiser.raise();
    });
    let mut command = Command::new("sh");
    command.arg("-c").arg(format!(
        "sleep 600 & echo $! > {}.tmp; mv {0}.tmp {0}; wait",
        pid_file.display()
    ));
    let (out, err) = (dir.join("out"), dir.join("err"));
    let result = process::run(
        command,
        process::Output::Logs(&out, &err),
        Duration::from_secs(600),
        &cancel,
    );
    assert!(
        matches!(result, Err(ProcessError::Cancelled)),
        "{:?}",
        result.err()
    );
    // The grandchild went with it.
    // The grandchild went with it (SIGKILL is delivered at once, the exit a moment later).
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let gone = || !Path::new(&format!("/proc/{}", pid.trim())).exists() || is_zombie(pid.trim());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !gone() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        gone(),
        "the shell's child {} outlived the cancel",
        pid.trim()
    );

    let mut sleep = Command::new("sleep");
    sleep.arg("600");
    let timed = process::run(
        sleep,
        process::Output::Capture,
        Duration::from_millis(100),
        &Cancel::new(),
    );
    assert!(matches!(timed, Err(ProcessError::TimedOut { .. })));
}

fn is_zombie(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

/// A package shaped like this suite as far as `compare` can tell (a server binary and one
/// bench target), whose bench only waits, so Ctrl-C lands while a side runs.
fn fake_suite() -> PathBuf {
    repo_with(
        "ctrl-c",
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"fake\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[[bin]]\nname = \"aerobench-server\"\npath = \"src/main.rs\"\n\n[[bench]]\nname = \"key\"\nharness = false\n",
            ),
            ("src/main.rs", "fn main() {}\n"),
            (
                "benches/key.rs",
                "fn main() { std::thread::sleep(std::time::Duration::from_secs(600)); }\n",
            ),
            (".gitignore", "target\n"),
        ],
    )
}

#[test]
fn ctrl_c_removes_the_checkouts_and_exits_130() {
    let repo = fake_suite();
    let mut child = Command::new(env!("CARGO_BIN_EXE_aerobench"))
        .args(["compare", "--benches", "key", "HEAD", "HEAD"])
        .current_dir(&repo)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until side A's bench runs (by default, first to list its benchmarks): both
    // checkouts exist then.
    let deadline = Instant::now() + Duration::from_secs(600);
    let log = repo.join("target/compare");
    let running = || {
        std::fs::read_dir(&log)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                ["run.log", "list.log"]
                    .iter()
                    .any(|l| e.path().join(l).exists())
            })
    };
    while !running() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "compare ended before running"
        );
        assert!(Instant::now() < deadline, "compare never ran the bench");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(git(&repo, &["worktree", "list"]).lines().count(), 3);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.trim_end().ends_with("compare: interrupted"),
        "{stderr}"
    );
    assert_eq!(git(&repo, &["worktree", "list"]).lines().count(), 1);
    let short = git(&repo, &["rev-parse", "--short", "HEAD"]);
    assert!(
        !repo
            .join(format!("target/compare/a-{}/src", short.trim()))
            .exists()
    );
}
