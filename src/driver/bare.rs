//! The bare reference: the workload as users write it themselves (per task a small RNG,
//! `Key::new`, `get` or `put` with the run's policies), with nothing of ours around the
//! client call but a counter: no latency recording, no result check, no ticker.
//!
//! `aerobench run --bare` runs it, so the harness's cost is the ratio of two runs on the
//! same machine and target. With `--rate` the calls wait for the same schedule as a run's
//! (the one cost an open loop cannot avoid), so the ratio shows what the harness adds at
//! a rate, not the wake-ups any paced sender pays. `--self-overhead` (a ready future in
//! place of the client) is only a lower bound: it cannot show the wake-ups, timers and
//! cache pressure real I/O brings.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aerospike_core::{Bins, Client, Error, Key, ResultCode};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::pace::{Pacer, Schedule, open_loop};
use super::{Config, ConfigError, LINGER};
use crate::cpu;
use crate::workload::bins::RecordBins;
use crate::workload::dist::KeyDraw;
use crate::workload::{Access, Workload};

/// What a bare run measured over its measured span (warm-up excluded).
#[derive(Debug, Clone, Copy)]
pub struct Bare {
    /// Calls completed, failed or not.
    pub ops: u64,
    /// Calls that failed with anything but "key not found".
    pub errors: u64,
    pub elapsed: Duration,
    /// Process CPU time (user + system).
    pub cpu: Duration,
}

impl Bare {
    pub fn tps(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }

    pub fn cpu_ns_per_op(&self) -> f64 {
        self.cpu.as_nanos() as f64 / self.ops.max(1) as f64
    }
}

/// The calls a bare run can make: single-key reads and writes drawn at random.
pub fn check(config: &Config) -> Result<(), ConfigError> {
    if config.workload.batch_size != 1 || config.workload.mix.sequential() {
        return Err(ConfigError::NotBare);
    }
    Ok(())
}

/// Runs the bare loop with `tasks` async tasks on `runtime`, sharing `client`.
pub fn run_tasks(
    runtime: &tokio::runtime::Runtime,
    client: Arc<Client>,
    config: &Config,
    tasks: usize,
) -> Bare {
    let (state, pacer) = Shared::new(config, tasks);
    if let Some(pacer) = pacer {
        runtime.spawn(pacer.run());
    }
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (client, state) = (client.clone(), state.clone());
            runtime.spawn(async move {
                let mut draw = Draw::new(&state.config, task);
                while !state.stop.load(Ordering::Relaxed) {
                    if let Some(schedule) = &state.schedule
                        && schedule.next().await.is_none()
                    {
                        break;
                    }
                    let (key, access) = draw.next();
                    let policies = &state.policies;
                    let answer = match access {
                        Access::Read => client.get(&policies.read, &key, Bins::All).await.err(),
                        Access::Write => {
                            let bins = draw.bins();
                            client.put(&policies.write, &key, &bins).await.err()
                        }
                    };
                    state.counters[task].count(answer);
                }
            })
        })
        .collect();
    let bare = state.measure();
    runtime.block_on(async {
        let linger = tokio::time::Instant::now() + LINGER;
        for handle in handles {
            let abort = handle.abort_handle();
            if tokio::time::timeout_at(linger, handle).await.is_err() {
                abort.abort();
            }
        }
    });
    bare
}

/// Runs the bare loop with `threads` OS threads sharing the blocking `client`.
pub fn run_threads(client: &aerospike_sync::Client, config: &Config, threads: usize) -> Bare {
    let (state, pacer) = Shared::new(config, threads);
    if let Some(pacer) = pacer {
        pacer.spawn().expect("the pacer thread starts");
    }
    std::thread::scope(|s| {
        for thread in 0..threads {
            let state = &state;
            s.spawn(move || {
                let mut draw = Draw::new(&state.config, thread);
                while !state.stop.load(Ordering::Relaxed) {
                    if let Some(schedule) = &state.schedule
                        && schedule.next_blocking().is_none()
                    {
                        break;
                    }
                    let (key, access) = draw.next();
                    let policies = &state.policies;
                    let answer = match access {
                        Access::Read => client.get(&policies.read, &key, Bins::All).err(),
                        Access::Write => client.put(&policies.write, &key, &draw.bins()).err(),
                    };
                    state.counters[thread].count(answer);
                }
            });
        }
        state.measure()
    })
}

/// What the callers and the measuring thread share.
#[derive(Clone)]
struct Shared {
    config: Config,
    policies: Arc<super::Policies>,
    stop: Arc<AtomicBool>,
    counters: Arc<[Counter]>,
    /// In an open loop, the calls' schedule (from the start, warm-up included).
    schedule: Option<Arc<Schedule>>,
}

impl Shared {
    /// The callers' state, and in an open loop the pacer to start.
    fn new(config: &Config, callers: usize) -> (Shared, Option<Pacer>) {
        let now = Instant::now();
        let (schedule, pacer) = open_loop(config.rate, now, now + config.warmup + config.duration);
        let shared = Shared {
            config: *config,
            policies: Arc::new(config.calls().policies),
            stop: Arc::new(AtomicBool::new(false)),
            counters: (0..callers).map(|_| Counter::default()).collect(),
            schedule,
        };
        (shared, pacer)
    }

    /// Sleeps through the warm-up, reads the counters and CPU time, sleeps through the
    /// measured span, reads them again, and tells the callers to stop.
    fn measure(&self) -> Bare {
        std::thread::sleep(self.config.warmup);
        let (ops, errors, cpu, start) = (
            self.ops(),
            self.errors(),
            cpu::process_time(),
            Instant::now(),
        );
        std::thread::sleep(self.config.duration);
        let bare = Bare {
            ops: self.ops() - ops,
            errors: self.errors() - errors,
            elapsed: start.elapsed(),
            cpu: cpu::process_time() - cpu,
        };
        self.stop.store(true, Ordering::Relaxed);
        bare
    }

    fn ops(&self) -> u64 {
        self.counters
            .iter()
            .map(|c| c.ops.load(Ordering::Relaxed))
            .sum()
    }

    fn errors(&self) -> u64 {
        self.counters
            .iter()
            .map(|c| c.errors.load(Ordering::Relaxed))
            .sum()
    }
}

/// One caller's counts, on a cache line of its own so callers never share one.
#[derive(Default)]
#[repr(align(128))]
struct Counter {
    ops: AtomicU64,
    errors: AtomicU64,
}

impl Counter {
    /// Only this caller writes its counter, so a load and a store suffice (no locked add).
    fn count(&self, error: Option<Error>) {
        let bump = |n: &AtomicU64| n.store(n.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        bump(&self.ops);
        if error.is_some_and(|e| e.server_result_code() != Some(ResultCode::KeyNotFoundError)) {
            bump(&self.errors);
        }
    }
}

/// One caller's next key and access, from a small RNG of its own.
struct Draw {
    rng: SmallRng,
    workload: Workload,
    keys: KeyDraw,
    id: u64,
}

impl Draw {
    fn new(config: &Config, caller: usize) -> Draw {
        let workload = config.workload;
        Draw {
            rng: SmallRng::seed_from_u64(caller as u64),
            keys: KeyDraw::new(workload.keys_dist, workload.keys),
            workload,
            id: 0,
        }
    }

    fn next(&mut self) -> (Key, Access) {
        self.id = self.keys.next(&mut self.rng);
        let access = self.workload.mix.access(self.rng.random_range(0..100));
        (self.workload.key(self.id), access)
    }

    /// The bins a write of the last drawn key carries.
    fn bins(&self) -> RecordBins {
        self.workload.object.bins(self.id)
    }
}
