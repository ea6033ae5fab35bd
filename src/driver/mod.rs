//! The driver behind the CLI and the Criterion throughput groups.
//!
//! N async tasks sharing one client, or N OS threads sharing one blocking client, each call
//! back to back until the run ends (closed loop), or take calls as a fixed schedule makes
//! them due (open loop, [`pace`]); every call is timed and recorded (warm-up excluded),
//! and a per-second ticker reports each window as it closes.
//!
//! - [`timeline`]: warm-up, windows, end.
//! - [`pace`]: the open-loop schedule and its pacer; [`alarm`]: the timer it sleeps on.
//! - [`recorder`]: per-thread shards the calls are counted into.
//! - [`schedule`]: the per-second harvest and the CPU-time reads.
//! - [`backend`]: the client call (async, blocking, or a ready stand-in) and its rows.
//! - [`bare`]: the reference loop with nothing of ours around the call but a counter.
//! - [`policy`]: timeout and pool knobs.
//! - [`seed`]: loading the key space before a run.

mod alarm;
pub mod backend;
pub mod bare;
mod error;
pub mod pace;
pub mod policy;
pub mod recorder;
pub mod schedule;
pub mod seed;
pub mod timeline;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use backend::{AsyncClient, Backend, BlockingBackend, Calls, Keys, Ready, SyncClient};
pub use error::{ConfigError, SeedError};
pub use policy::{DEFAULT_TIMEOUT_MS, Policies, Pool};

use crate::stats::{Call, Curve, Figures, Row};
use crate::verify::{Ledger, TaskLog};
use crate::workload::keys::Sequence;
use crate::workload::{Access, Picker, Workload};
use pace::{Pacer, Schedule};
use recorder::{Recorder, Shard, lock};
use schedule::Ticker;
use timeline::Timeline;

/// How long tasks still running at the end may take to finish their call before they are
/// abandoned (only possible when the per-op timeout is off and the server stalls).
pub const LINGER: Duration = Duration::from_secs(5);

/// How the load is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Mode {
    /// Async tasks on the current Tokio runtime, sharing one client.
    Async { tasks: usize },
    /// OS threads sharing one blocking client.
    Sync { threads: usize },
}

impl Mode {
    pub fn concurrency(self) -> usize {
        match self {
            Mode::Async { tasks } => tasks,
            Mode::Sync { threads } => threads,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Async { .. } => "async",
            Mode::Sync { .. } => "sync",
        }
    }
}

/// One run: what to do, for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub workload: Workload,
    pub mode: Mode,
    pub warmup: Duration,
    pub duration: Duration,
    /// Total timeout of every call in ms; 0 = no per-op timeout.
    pub timeout_ms: u32,
    /// Open loop: calls per second in all, on a fixed schedule; `None` = closed loop.
    pub rate: Option<u64>,
}

impl Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.workload.validate()?;
        if self.duration.is_zero() {
            return Err(ConfigError::ZeroDuration);
        }
        if self.mode.concurrency() == 0 {
            return Err(ConfigError::NoTasks);
        }
        if self.rate == Some(0) {
            return Err(ConfigError::ZeroRate);
        }
        let callers = self.mode.concurrency();
        if self.workload.verify && self.workload.keys < callers as u64 {
            return Err(ConfigError::VerifyKeys {
                keys: self.workload.keys,
                callers,
            });
        }
        Ok(())
    }

    /// The request builder for this run's client backends.
    pub fn calls(&self) -> Calls {
        Calls {
            policies: Policies::new(self.timeout_ms, self.workload.mix.write_kind()),
            workload: self.workload,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Run {
    /// Figures of each one-second window of the measured span.
    pub seconds: Vec<Figures>,
    /// Figures of the whole measured span (the sum of the windows).
    pub total: Figures,
    /// Process CPU time over the measured span.
    pub cpu: Duration,
    /// The process's counters where the measured span started and ended.
    pub readings: [crate::op_counters::Reading; 2],
    /// Tasks abandoned in a call after the end (see [`LINGER`]).
    pub abandoned: usize,
    /// How an open-loop run kept its schedule; `None` in a closed loop.
    pub open_loop: Option<OpenLoop>,
    /// The measured span's percentile curves, for a percentile plot.
    pub distribution: Distribution,
    /// Under `--verify`: every caller's log of the keys it wrote, for the read-back.
    pub ledger: Option<Arc<Ledger>>,
}

/// Percentile curves of a run's response and (open loop) service times.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Distribution {
    pub response: Curve,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Curve>,
}

/// How an open-loop run kept its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OpenLoop {
    /// Calls per second asked for.
    pub rate: u64,
    /// Calls due in the measured span that were never sent: the client could not keep up.
    pub unsent: u64,
}

impl Run {
    /// Process CPU nanoseconds per successful op.
    pub fn cpu_ns_per_op(&self) -> f64 {
        self.cpu.as_nanos() as f64 / self.total.ops.max(1) as f64
    }

    /// Allocations and context switches per successful op over the measured span (the
    /// allocations only in a process that counts them, as `aerobench run` does).
    pub fn op_counters(&self) -> Option<crate::op_counters::OpCounters> {
        let [before, after] = self.readings;
        crate::op_counters::OpCounters::between(before, after, self.total.ops, None)
    }
}

/// The multi-thread runtime the driver's tasks run on, with `workers` worker threads
/// (0 = one per core).
pub fn runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if workers > 0 {
        builder.worker_threads(workers);
    }
    builder.enable_all().build()
}

/// The shared state of a run by `callers` tasks or threads starting now: its recorder,
/// key sequence, in an open loop its schedule (from the start, warm-up included), and
/// under `--verify` the callers' logs; and in an open loop the pacer to start.
fn start(config: &Config, callers: usize) -> (Shared, Option<Pacer>) {
    let now = Instant::now();
    let timeline = Timeline::new(now, config.warmup, config.duration);
    let workload = &config.workload;
    let (schedule, pacer) = pace::open_loop(config.rate, now, timeline.end);
    let shared = Shared {
        schedule,
        recorder: Arc::new(Recorder::new(timeline)),
        sequence: Arc::new(Sequence::default()),
        ledger: workload
            .verify
            .then(|| Arc::new(Ledger::new(workload.keys, callers))),
    };
    (shared, pacer)
}

/// What the tasks or threads of one run share.
struct Shared {
    recorder: Arc<Recorder>,
    sequence: Arc<Sequence>,
    schedule: Option<Arc<Schedule>>,
    ledger: Option<Arc<Ledger>>,
}

/// Runs `config` with `tasks` async tasks on the current runtime; `on_window` sees each
/// window's figures as it closes.
pub async fn run_tasks<B: Backend>(
    backend: Arc<B>,
    config: &Config,
    tasks: usize,
    on_window: &mut dyn FnMut(usize, &Figures),
) -> Run {
    let (shared, pacer) = start(config, tasks);
    if let Some(pacer) = pacer {
        tokio::spawn(pacer.run());
    }
    let mut handles: Vec<_> = (0..tasks)
        .map(|task| {
            let mut worker = Worker::new(config, task, &shared);
            let backend = backend.clone();
            tokio::spawn(async move {
                loop {
                    let due = match &worker.schedule {
                        Some(schedule) => schedule.next().await,
                        None => None,
                    };
                    let Some(access) = worker.next(due) else {
                        break;
                    };
                    let sent = Instant::now();
                    backend.call(access, &worker.keys, &mut worker.rows).await;
                    worker.done(access, due, sent);
                }
            })
        })
        .collect();
    let mut ticker = Ticker::new(&shared.recorder, on_window);
    while let Some(due) = ticker.next_due() {
        tokio::time::sleep_until(due.into()).await;
        ticker.fire();
    }
    let linger = tokio::time::Instant::now() + LINGER;
    let mut abandoned = 0;
    for handle in &mut handles {
        if tokio::time::timeout_at(linger, &mut *handle).await.is_err() {
            handle.abort();
            abandoned += 1;
        }
    }
    finish(ticker, &shared, abandoned)
}

/// Runs `config` with `threads` OS threads calling `backend`; `on_window` sees each
/// window's figures as it closes. Threads cannot be abandoned: with the per-op timeout off,
/// a stalled server delays the return.
pub fn run_threads<B: BlockingBackend>(
    backend: &B,
    config: &Config,
    threads: usize,
    on_window: &mut dyn FnMut(usize, &Figures),
) -> Run {
    let (shared, pacer) = start(config, threads);
    if let Some(pacer) = pacer {
        pacer.spawn().expect("the pacer thread starts");
    }
    let mut ticker = Ticker::new(&shared.recorder, on_window);
    std::thread::scope(|s| {
        for thread in 0..threads {
            let mut worker = Worker::new(config, thread, &shared);
            worker.shard = Some(shared.recorder.shard());
            s.spawn(move || {
                loop {
                    let due = worker.schedule.as_ref().and_then(|s| s.next_blocking());
                    let Some(access) = worker.next(due) else {
                        break;
                    };
                    let sent = Instant::now();
                    backend.call(access, &worker.keys, &mut worker.rows);
                    worker.done(access, due, sent);
                }
            });
        }
        while let Some(due) = ticker.next_due() {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            ticker.fire();
        }
    });
    finish(ticker, &shared, 0)
}

fn finish(ticker: Ticker<'_>, shared: &Shared, abandoned: usize) -> Run {
    let ticks = ticker.finish();
    let timeline = shared.recorder.timeline();
    let all = ticks.total.total();
    Run {
        distribution: Distribution {
            response: all.latency.curve(),
            service: (all.service.count() > 0).then(|| all.service.curve()),
        },
        total: Figures::of(&ticks.total, timeline.end - timeline.measure),
        seconds: ticks.seconds,
        cpu: ticks.cpu,
        readings: ticks.readings,
        abandoned,
        open_loop: shared.schedule.as_ref().map(|schedule| OpenLoop {
            rate: schedule.rate(),
            unsent: schedule.unsent(timeline.measure),
        }),
        ledger: shared.ledger.clone(),
    }
}

/// The loop state of one task or thread.
struct Worker {
    picker: Picker,
    recorder: Arc<Recorder>,
    schedule: Option<Arc<Schedule>>,
    /// The shard an OS-thread caller records into; tasks, which move between threads,
    /// record into their current thread's.
    shard: Option<Arc<Shard>>,
    /// Under `--verify`: the log of the keys this caller owns (and alone writes).
    log: Option<Arc<Mutex<TaskLog>>>,
    keys: Keys,
    rows: Vec<Row>,
    end: Instant,
    now: Instant,
}

impl Worker {
    fn new(config: &Config, index: usize, shared: &Shared) -> Worker {
        let batch = config.workload.batch_size;
        Worker {
            picker: config.workload.picker(index, shared.sequence.clone()),
            end: shared.recorder.timeline().end,
            recorder: shared.recorder.clone(),
            schedule: shared.schedule.clone(),
            shard: None,
            log: shared.ledger.as_ref().map(|ledger| ledger.log(index)),
            keys: Keys::with_capacity(batch),
            rows: Vec::with_capacity(batch),
            now: Instant::now(),
        }
    }

    /// The next call's access (its keys in `self.keys`), or `None` once the run has ended;
    /// in an open loop, `due` is the call the schedule released (`None`: the run ended).
    fn next(&mut self, due: Option<Instant>) -> Option<Access> {
        if self.now >= self.end || (self.schedule.is_some() && due.is_none()) {
            return None;
        }
        self.rows.clear();
        let access = self.picker.next(&mut self.keys.ids);
        if let Some(log) = &self.log {
            lock(log).claim(access, &mut self.keys);
        }
        Some(access)
    }

    /// Records the call sent at `sent`, due at `due` in an open loop.
    fn done(&mut self, access: Access, due: Option<Instant>, sent: Instant) {
        self.now = Instant::now();
        if let Some(log) = &self.log {
            lock(log).settle(access, &self.keys, &self.rows);
        }
        let call = Call {
            access,
            response: self.now - due.unwrap_or(sent),
            service: due.map(|_| self.now - sent),
        };
        match &self.shard {
            Some(shard) => self.recorder.record_in(shard, self.now, call, &self.rows),
            None => self.recorder.record(self.now, call, &self.rows),
        }
    }
}
