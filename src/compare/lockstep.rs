//! The paired comparison's measurements: for every benchmark, pairs of workers (one per
//! side, both alive at once, against the one shared target) sampled in lock-step (see
//! [`paired`](super::paired)); then, for the groups whose ops can be counted, each side's
//! instructions per op under callgrind (see [`counts`](super::counts)).

use std::time::Duration;

use super::counts::{self, Count};
use super::paired::{self, Pacing, Samples};
use super::process::Cancel;
use super::side::Built;
use super::worker::Worker;
use super::{CompareError, Metric};
use crate::cluster::placement::CpuSet;

/// Told to workers once a first worker of their bench target was ready: the target holds
/// the records that target seeds, so they need not write them again.
pub const SEEDED: &str = "AEROBENCH_SEEDED";
/// A worker's start: its process, its client, its group's set-up.
const READY_LIMIT: Duration = Duration::from_secs(300);

/// What was measured of one benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub id: String,
    /// One entry per pair of workers.
    pub samples: Vec<Samples>,
    /// Instructions per op, `[a, b]`, where counted.
    pub counts: [Option<Count>; 2],
}

/// How the benchmarks are measured.
#[derive(Debug, Clone)]
pub struct Plan {
    pub metric: Metric,
    /// Pairs of workers per benchmark.
    pub processes: usize,
    pub pacing: Pacing,
}

/// Benchmarks whose measured region is one caller's work repeating op after op. Not
/// throughput's (a sample is a whole driver run, timed from its TPS), nor the contended
/// rows (many tasks on a work-stealing runtime, whose count depends on who stole what).
pub fn countable(id: &str) -> bool {
    !id.starts_with("throughput/") && !id.contains("/contended/")
}

/// Measures benchmarks `ids` of bench target `bench` on both sides.
pub fn measure(
    sides: [&Built; 2],
    bench: &str,
    ids: &[String],
    plan: &Plan,
    target_env: &[(String, String)],
    cancel: &Cancel,
) -> Result<Vec<Measured>, CompareError> {
    let mut env = target_env.to_vec();
    let mut measured: Vec<Measured> = ids
        .iter()
        .map(|id| Measured {
            id: id.clone(),
            samples: vec![],
            counts: [None, None],
        })
        .collect();
    if plan.metric.time() {
        for row in measured.iter_mut() {
            for k in 0..plan.processes {
                eprintln!(
                    "compare: {} pair {}/{} of workers",
                    row.id,
                    k + 1,
                    plan.processes
                );
                let mut workers = start_pair(sides, bench, &row.id, k, &env, cancel)?;
                if !env.iter().any(|(key, _)| key == SEEDED) {
                    env.push((SEEDED.into(), "1".into()));
                }
                row.samples
                    .push(paired::sample(&mut workers, &plan.pacing, cancel)?);
            }
        }
    }
    let counted: Vec<String> = ids.iter().filter(|id| countable(id)).cloned().collect();
    if plan.metric.instructions() && !counted.is_empty() {
        for (side, built) in sides.iter().enumerate() {
            eprintln!(
                "compare: counting {bench}'s instructions for {}",
                built.side.label
            );
            for (id, count) in count_side(built, bench, &counted, &env, cancel)? {
                if let Some(row) = measured.iter_mut().find(|m| m.id == id) {
                    row.counts[side] = Some(count);
                }
            }
        }
    }
    Ok(measured)
}

/// A worker per side serving `id`, started in the order pair `k` calls for, both ready.
fn start_pair(
    sides: [&Built; 2],
    bench: &str,
    id: &str,
    k: usize,
    env: &[(String, String)],
    cancel: &Cancel,
) -> Result<[Worker; 2], CompareError> {
    let ids = [id.to_string()];
    let cpu = match single_threaded(id) {
        true => CpuSet::allowed().ok().and_then(|cpus| cpus.nth(k)),
        false => None,
    };
    let start = |built: &Built| -> Result<Worker, CompareError> {
        let mut command = built.worker(bench, None, env)?;
        if let Some(cpu) = &cpu {
            on_cpus(&mut command, cpu);
        }
        let log = built.dir.join("worker.log");
        Ok(Worker::start(command, &ids, &built.side.label, &log)?)
    };
    let (first, second) = match k % 2 {
        0 => (0, 1),
        _ => (1, 0),
    };
    let mut started = [None, None];
    started[first] = Some(start(sides[first])?);
    started[second] = Some(start(sides[second])?);
    let mut workers = started.map(|w| w.expect("both sides started"));
    for (side, worker) in workers.iter_mut().enumerate() {
        match worker.ready(READY_LIMIT, cancel)? {
            Some(ready) if ready == id => {}
            _ => {
                return Err(CompareError::Usage(format!(
                    "{} has no benchmark {id} (log: {})",
                    sides[side].side.label,
                    sides[side].dir.join("worker.log").display()
                )));
            }
        }
    }
    Ok(workers)
}

/// Benchmarks whose measured work runs on one thread. Both workers of a pair then run on
/// one CPU, the next pair on the next: otherwise the scheduler may keep A on one core and B
/// on the other for the whole pair, and a build on one of them hits one side only.
pub fn single_threaded(id: &str) -> bool {
    ["key/", "rng/", "timer/current_thread/"]
        .iter()
        .any(|prefix| id.starts_with(prefix))
}

/// Starts `command` on `cpus` (set between fork and exec, so nothing runs elsewhere).
fn on_cpus(command: &mut std::process::Command, cpus: &CpuSet) {
    use std::os::unix::process::CommandExt;
    let mask = cpus.mask();
    // SAFETY: the closure only makes one system call (sched_setaffinity), which is
    // async-signal-safe, on a mask built before the fork.
    unsafe {
        command.pre_exec(move || crate::cluster::placement::pin_current_thread(&mask));
    }
}

/// One side's instructions per op for every benchmark of `ids`, from one counting worker.
fn count_side(
    built: &Built,
    bench: &str,
    ids: &[String],
    env: &[(String, String)],
    cancel: &Cancel,
) -> Result<Vec<(String, Count)>, CompareError> {
    let dir = built.dir.join("callgrind").join(bench);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|source| super::side::SideError::Io {
        path: dir.clone(),
        source,
    })?;
    let command = built.worker(bench, Some(&dir), env)?;
    let log = built.dir.join("counting.log");
    let mut worker = Worker::start(command, ids, &built.side.label, &log)?;
    Ok(counts::count_all(&mut worker, &dir, cancel)?)
}

/// The variables that point a worker at `seeds` instead of a target of its own.
pub fn target_env(seeds: &str, services_alternate: bool) -> Vec<(String, String)> {
    let mut env = vec![
        ("AEROBENCH_TARGET".to_string(), "remote".to_string()),
        ("AEROSPIKE_HOSTS".to_string(), seeds.to_string()),
    ];
    if services_alternate {
        env.push(("AEROSPIKE_SERVICES_ALTERNATE".into(), "1".into()));
    }
    env
}
