//! Running the cases: one driver run (the harness's or the bare loop's) per case and
//! round, with the client's and the server's CPU read around it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aerobench::driver::{self, AsyncClient, Config, DEFAULT_TIMEOUT_MS, Mode, Run, SyncClient};
use aerobench::workload::Workload;
use tokio::runtime::Runtime;

use crate::args::Plan;
use crate::cpu::Cpu;
use crate::sides::Side;
use crate::{Case, Loop};

/// The run every case makes: the CLI's default workload and timeout in `mode`, for `span`
/// with no warm-up (the pools are open and the keys seeded before the first case).
pub(crate) fn config(mode: Mode, span: Duration) -> Config {
    Config {
        workload: Workload::default(),
        mode,
        warmup: Duration::ZERO,
        duration: span,
        timeout_ms: DEFAULT_TIMEOUT_MS,
        rate: None,
    }
}

/// What one driver run reports: calls made and calls that failed.
struct Calls {
    ops: u64,
    failures: u64,
}

/// One case's totals over the rounds.
#[derive(Clone, Default)]
pub(crate) struct Tally {
    pub(crate) ops: u64,
    pub(crate) seconds: f64,
    pub(crate) client: Cpu,
    pub(crate) server: Cpu,
    /// Throughput of each round.
    pub(crate) tps: Vec<f64>,
    pub(crate) failures: u64,
}

impl From<driver::bare::Bare> for Calls {
    fn from(bare: driver::bare::Bare) -> Calls {
        Calls {
            ops: bare.ops,
            failures: bare.errors,
        }
    }
}

impl From<Run> for Calls {
    fn from(run: Run) -> Calls {
        let failures = run.total.errors + run.total.timeouts;
        Calls {
            ops: run.total.ops + failures,
            failures,
        }
    }
}

/// Runs `case`'s loop once for `span`.
fn run(runtime: &Runtime, side: &Side, case: Case, span: Duration) -> Calls {
    let config = config(case.mode, span);
    let callers = case.mode.concurrency();
    let calls = config.calls();
    match (case.looped, case.mode) {
        (Loop::Bare, Mode::Async { .. }) => {
            driver::bare::run_tasks(runtime, side.client.clone(), &config, callers).into()
        }
        (Loop::Bare, Mode::Sync { .. }) => {
            driver::bare::run_threads(&side.blocking, &config, callers).into()
        }
        (Loop::Run, Mode::Async { .. }) => {
            let client = side.client.clone();
            let backend = Arc::new(AsyncClient { client, calls });
            let run =
                runtime.block_on(driver::run_tasks(backend, &config, callers, &mut |_, _| {}));
            run.into()
        }
        (Loop::Run, Mode::Sync { .. }) => {
            let client = side.blocking.clone();
            let backend = SyncClient { client, calls };
            driver::run_threads(&backend, &config, callers, &mut |_, _| {}).into()
        }
    }
}

/// Runs one case once and adds it to `tally`.
fn measure(runtime: &Runtime, side: &Side, case: Case, span: Duration, tally: &mut Tally) {
    let server_cpu = || {
        side.cpu
            .read()
            .unwrap_or_else(|e| groups::exit_with(format!("own_cost: {}: {e}", case.name())))
    };
    let (client0, server0) = (Cpu::of_this_process(), server_cpu());
    let started = Instant::now();
    let calls = run(runtime, side, case, span);
    let seconds = started.elapsed().as_secs_f64();
    tally.client = tally.client.plus(Cpu::of_this_process().minus(client0));
    tally.server = tally.server.plus(server_cpu().minus(server0));
    tally.ops += calls.ops;
    tally.seconds += seconds;
    tally.tps.push(calls.ops as f64 / seconds);
    tally.failures += calls.failures;
}

/// Every case against its server, `plan.rounds` times; within a round a row's cases (both
/// loops on both servers) run back to back, the first of them rotating by round.
pub(crate) fn measure_all(
    runtime: &Runtime,
    sides: &[Side],
    cases: &[Case],
    plan: &Plan,
) -> Vec<(Case, Tally)> {
    let mut tallies: Vec<(Case, Tally)> = cases
        .iter()
        .filter(|c| sides.iter().any(|s| s.server == c.server))
        .map(|&c| (c, Tally::default()))
        .collect();
    for round in 0..plan.rounds {
        for row in tallies.chunk_by_mut(|a, b| a.0.mode == b.0.mode) {
            let n = row.len();
            for i in 0..n {
                let (case, tally) = &mut row[(i + round) % n];
                let side = sides
                    .iter()
                    .find(|s| s.server == case.server)
                    .expect("started");
                measure(runtime, side, *case, plan.span, tally);
            }
        }
    }
    tallies
}
