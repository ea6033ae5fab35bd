//! Running the cases: the ops of one case over its tasks, timed, with both processes' CPU
//! read before and after.

use std::sync::Arc;
use std::time::Instant;

use aerobench::workload::space::SERVER_COST;
use aerospike_core::policy::{ReadPolicy, WritePolicy};
use aerospike_core::{Bin, Bins, Client};
use tokio::runtime::Runtime;

use crate::args::Plan;
use crate::cpu::Cpu;
use crate::sides::Side;
use crate::{Case, Op};

#[derive(Default)]
pub(crate) struct Ran {
    pub(crate) ops: u64,
    pub(crate) failures: u64,
    pub(crate) last_failure: Option<String>,
}

/// Runs `ops` operations (rounded down to a multiple of `tasks`) over `tasks` tasks, key
/// ids cycling over [`SERVER_COST`]'s keys.
pub(crate) async fn run(client: Arc<Client>, op: Op, ops: u64, tasks: usize) -> Ran {
    let per_task = ops / tasks as u64;
    let handles: Vec<_> = (0..tasks as u64)
        .map(|t| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut ran = Ran::default();
                for i in 0..per_task {
                    let id = (t * per_task + i) % SERVER_COST.keys;
                    let result = match op {
                        Op::Get => client
                            .get(
                                &ReadPolicy::default(),
                                &SERVER_COST.key(id as i64),
                                Bins::All,
                            )
                            .await
                            .map(drop),
                        Op::Put => {
                            let bins = [Bin::new(SERVER_COST.bin, (id as i64).into())];
                            client
                                .put(&WritePolicy::default(), &SERVER_COST.key(id as i64), &bins)
                                .await
                        }
                    };
                    if let Err(e) = result {
                        ran.failures += 1;
                        ran.last_failure = Some(format!("{} failed: {e}", op.name()));
                    }
                }
                ran
            })
        })
        .collect();
    let mut ran = Ran {
        ops: per_task * tasks as u64,
        ..Ran::default()
    };
    for handle in handles {
        let task = handle.await.unwrap_or_else(|e| Ran {
            failures: per_task,
            last_failure: Some(format!("task failed: {e}")),
            ..Ran::default()
        });
        ran.failures += task.failures;
        ran.last_failure = task.last_failure.or(ran.last_failure);
    }
    ran
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
    pub(crate) last_failure: Option<String>,
}

/// Runs one case once and adds it to `tally`.
pub(crate) fn measure(runtime: &Runtime, side: &Side, case: Case, ops: u64, tally: &mut Tally) {
    let or_exit = |r: Result<Cpu, String>| {
        r.unwrap_or_else(|e| groups::exit_with(format!("server_cost: {}: {e}", case.name())))
    };
    let client_cpu = || {
        let (user, system) = aerobench::cpu::process_times();
        Cpu {
            user: user.as_secs_f64(),
            system: system.as_secs_f64(),
        }
    };
    let (client0, server0) = (client_cpu(), or_exit(side.cpu.read()));
    let started = Instant::now();
    let ran = runtime.block_on(run(side.client.clone(), case.op, ops, case.tasks));
    let seconds = started.elapsed().as_secs_f64();
    tally.client = tally.client.plus(client_cpu().minus(client0));
    tally.server = tally.server.plus(or_exit(side.cpu.read()).minus(server0));
    tally.ops += ran.ops;
    tally.seconds += seconds;
    tally.tps.push(ran.ops as f64 / seconds);
    tally.failures += ran.failures;
    tally.last_failure = ran.last_failure.or(tally.last_failure.take());
}

/// Every case against its server, `plan.rounds` times; within a round each op and task
/// count runs on both servers back to back, the first server alternating by round.
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
    let same_row =
        |a: &(Case, Tally), b: &(Case, Tally)| (a.0.op, a.0.tasks) == (b.0.op, b.0.tasks);
    for round in 0..plan.rounds {
        for pair in tallies.chunk_by_mut(same_row) {
            let n = pair.len();
            for i in 0..n {
                let (case, tally) = &mut pair[if round % 2 == 0 { i } else { n - 1 - i }];
                let side = sides
                    .iter()
                    .find(|s| s.server == case.server)
                    .expect("started");
                measure(runtime, side, *case, plan.ops, tally);
            }
        }
    }
    tallies
}
