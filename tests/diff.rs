//! `aerobench diff` as a user runs it, on two result files written here (no server): the
//! table's verdicts, and a missing file ending with one line naming it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aerobench-diff-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn diff(a: &Path, b: &Path) -> Output {
    diff_args(&[a.as_os_str(), b.as_os_str()])
}

fn diff_args(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aerobench"))
        .arg("diff")
        .args(args)
        .output()
        .expect("aerobench runs")
}

/// A run result in the shape `aerobench run` writes, one window per (TPS, p99 in µs), its
/// reads and writes alike.
fn result(windows: &[(u64, u64)]) -> Value {
    let figures = |tps: u64, p99_us: u64| {
        json!({
            "seconds": 1.0, "tps": tps as f64, "ops": tps, "calls": tps, "reads": tps / 2,
            "writes": tps / 2, "misses": 0, "errors": 0, "timeouts": 0, "mismatches": 0,
            "late": 0, "failures": {},
            "latency_ns": { "p50": p99_us * 500, "p90": p99_us * 800, "p99": p99_us * 1000,
                            "p999": p99_us * 2000, "max": p99_us * 4000 },
        })
    };
    let seconds: Vec<Value> = windows
        .iter()
        .map(|&(tps, p99)| {
            let mut total = figures(tps, p99);
            total["kinds"] =
                json!({ "read": figures(tps / 2, p99), "write": figures(tps / 2, p99) });
            total
        })
        .collect();
    json!({
        "fingerprint": {
            "target": "embedded", "nodes": 1, "hosts": ["127.0.0.1:3000"], "network": "loopback",
            "server": "aerobench-server/7.2.0.0", "client": "3.0.0", "commit": "abc",
            "machine": "vm/2c/x", "cpus": "shared",
        },
        "knobs": {
            "mode": "async", "tasks": 16, "keys": 10000, "workload": "RU,50", "object": "I8",
            "batch_size": 1, "duration_s": 4.0, "warmup_s": 1.0, "timeout_ms": 1000,
            "rate": null, "max_conns_per_node": 256, "min_conns_per_node": 0,
            "conn_pools_per_node": 1, "workers": 2, "seeded": true, "self_overhead": false,
            "bare": false,
        },
        "outcome": { "tps": 5000.0, "cpu_ns_per_op": 44_280.2, "per_op": null,
                     "connections_opened": 0, "abandoned": 0, "open_loop": null },
        "seconds": seconds,
    })
}

/// The table's row for `metric`.
fn row<'a>(stdout: &'a str, metric: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("| {metric} ")))
        .unwrap_or_else(|| panic!("no {metric} row in\n{stdout}"))
}

#[test]
fn doubled_latency_regresses_and_the_same_throughput_is_within_noise() {
    let dir = scratch("table");
    let steady = [(5000, 150), (5040, 160), (4970, 145), (5010, 155)];
    let slower = [(5010, 300), (4980, 310), (5030, 290), (4990, 305)];
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    std::fs::write(&a, result(&steady).to_string()).unwrap();
    std::fs::write(&b, result(&slower).to_string()).unwrap();
    let out = diff(&a, &b);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let heading = stdout.lines().next().unwrap();
    assert!(heading.contains(&*a.to_string_lossy()) && heading.contains(&*b.to_string_lossy()));
    for (metric, verdict) in [
        ("TPS", "within noise"),
        ("p99", "regressed"),
        ("read p99", "regressed"),
        ("write TPS", "within noise"),
        ("CPU per op", "no interval (one value per run)"),
    ] {
        let line = row(&stdout, metric);
        assert!(line.contains(&format!("| {verdict}")), "{metric}: {line}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_missing_file_ends_with_one_line_naming_it() {
    let dir = scratch("missing");
    let a = dir.join("a.json");
    std::fs::write(&a, result(&[(5000, 150), (5000, 150)]).to_string()).unwrap();
    let missing = dir.join("no-such.json");
    let out = diff(&a, &missing);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&*missing.to_string_lossy()), "{stderr}");
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Two runs a side through `--vs`: the interval comes from the spread between runs, and CPU
/// per op gets one; three files without `--vs` end with one line saying what to give.
#[test]
fn several_runs_a_side_through_vs() {
    let dir = scratch("vs");
    let files: Vec<PathBuf> = (0..4).map(|i| dir.join(format!("{i}.json"))).collect();
    for (i, file) in files.iter().enumerate() {
        let tps = 5000 + 20 * i as u64;
        std::fs::write(file, result(&[(tps, 150), (tps + 10, 152)]).to_string()).unwrap();
    }
    let f = |i: usize| files[i].as_os_str();
    let vs = std::ffi::OsStr::new("--vs");
    let out = diff_args(&[f(0), f(1), vs, f(2), f(3)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("spread between runs"), "{stdout}");
    assert!(
        !row(&stdout, "CPU per op").contains("no interval"),
        "{stdout}"
    );
    let three = diff_args(&[f(0), f(1), f(2)]);
    let stderr = String::from_utf8_lossy(&three.stderr);
    assert_eq!(three.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--vs"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}
