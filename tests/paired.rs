//! The paired comparison's two instruments: lock-step sampling (A and B alternate, the
//! order flipping every pair, each side's time kept on its own side) and instruction
//! counts (the same count twice for the same code, a known extra cost counted exactly).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aerobench::compare::counts::{self, Count};
use aerobench::compare::estimate::{self, Direction};
use aerobench::compare::paired::{self, Pacing};
use aerobench::compare::process::{Cancel, built_executables};
use aerobench::compare::worker::Worker;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("paired")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A worker that speaks the protocol in a few lines of shell: it logs every `run` it is
/// asked for under its name and answers with its own fixed time.
const FAKE_WORKER: &str = r#"
echo "@aerobench ready $AEROBENCH_WORKER"
while read -r verb arg; do
    case "$verb" in
        run) echo "$NAME $arg" >> "$LOG"; echo "@aerobench ns $NANOS" ;;
        syscalls) echo "@aerobench syscalls 3 $NANOS" ;;
        next) exit 0 ;;
    esac
done
"#;

fn fake(name: &str, nanos: u64, log: &Path) -> Worker {
    let mut command = Command::new("sh");
    command
        .args(["-c", FAKE_WORKER])
        .env("NAME", name)
        .env("NANOS", nanos.to_string())
        .env("LOG", log);
    let out = log.with_file_name(format!("{name}.out"));
    let mut worker = Worker::start(command, &["g/x".into()], name, &out).unwrap();
    let ready = worker
        .ready(Duration::from_secs(10), &Cancel::new())
        .unwrap();
    assert_eq!(ready.as_deref(), Some("g/x"));
    worker
}

#[test]
fn samples_alternate_a_b_then_b_a_and_keep_each_side_apart() {
    let dir = scratch("alternate");
    let log = dir.join("runs.log");
    let mut workers = [fake("A", 1000, &log), fake("B", 3000, &log)];
    let pacing = Pacing {
        sample: Duration::from_nanos(1),
        warmup: Duration::ZERO,
        budget: Duration::ZERO,
        min_pairs: 6,
        max_pairs: 6,
    };
    let samples = paired::sample(&mut workers, &pacing, &Cancel::new()).unwrap();
    assert_eq!(
        samples.pairs,
        vec![[1000, 3000]; 6],
        "each side's time on its side"
    );
    assert_eq!(samples.syscalls, [Some(3.0), Some(3.0)]);
    let order: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    let kept = &order[order.len() - 12..];
    assert_eq!(
        kept.join(""),
        "ABBAABBAABBA",
        "the order flips every pair: {order:?}"
    );
}

/// The bench binary `name`, built (or found built) by cargo as `cargo bench` builds it.
fn bench_exe(name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "bench",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--bench", name])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = built_executables(&String::from_utf8_lossy(&out.stdout));
    built[&("bench".to_string(), name.to_string())].clone()
}

/// Every benchmark of `ids` in bench `name`, counted by one worker under callgrind.
fn count(exe: &Path, ids: &[&str], env: &[(&str, &str)], dir: &Path) -> Vec<(String, Count)> {
    let mut command = counts::command(exe, dir);
    command.envs(env.iter().copied());
    let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let log = dir.join("worker.log");
    let mut worker = Worker::start(command, &ids, "counting", &log).unwrap();
    counts::count_all(&mut worker, dir, &Cancel::new()).unwrap()
}

fn valgrind(check: &str) -> bool {
    match counts::check() {
        Ok(()) => true,
        Err(e) => {
            common::missing(check, &e.to_string());
            false
        }
    }
}

#[test]
fn a_count_repeats_and_a_known_extra_cost_is_called() {
    if !valgrind("instruction counts") {
        return;
    }
    let exe = bench_exe("key");
    let ids = ["key/int/set", "key/from_digest/set"];
    let first = count(&exe, &ids, &[], &scratch("count-1"));
    let second = count(&exe, &ids, &[], &scratch("count-2"));
    assert_eq!(first.len(), 2, "{first:?}");
    for ((id, a), (_, b)) in first.iter().zip(&second) {
        assert!(a.per_op > 100.0, "{id}: {a:?} counts the op");
        // Two processes' heaps are not always identical (the allocator's paths differ by a
        // few instructions now and then): the same code repeats within half a percent. (A
        // process's two runs may differ more, the same way in every process: the heap
        // grows between them.)
        let change = estimate::count_change(*a, *b);
        assert!(change.change.abs() < 0.005, "{id}: {a:?} then {b:?}");
    }
    // 50 turns of the known-change loop per op: a few hundred instructions more, exactly.
    let injected = count(
        &exe,
        &ids,
        &[("AEROBENCH_INJECT_NS", "key=50t")],
        &scratch("count-injected"),
    );
    for ((id, a), (_, b)) in first.iter().zip(&injected) {
        let change = estimate::count_change(*a, *b);
        assert_eq!(
            change.flagged,
            Some(Direction::Regressed),
            "{id}: {change:?}"
        );
        let extra = b.per_op - a.per_op;
        assert!(
            (100.0..=400.0).contains(&extra),
            "{id}: {extra} instructions per op for 50 turns"
        );
    }
}
