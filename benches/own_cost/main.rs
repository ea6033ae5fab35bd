//! What the suite's own parts cost, measured beside the client in one run: the harness
//! (`aerobench run`'s closed-loop driver) next to the bare loop users write themselves
//! (`aerobench run --bare`), and the embedded server next to real asd.
//!
//! What it isolates: the two promises that the suite stays out of the way. The harness
//! records every op, checks every read and ticks every second; its price is run ÷ bare in
//! TPS and in client CPU per op (goal: CPU at most 1.02×, TPS at least 0.98×). The
//! embedded server stands in for a real one so the client's ceiling shows; its price is
//! its user CPU per op next to asd's (goal: at most 0.5×). Held constant: `RU,50` over
//! the 100,000 seeded keys of [`RUN`](aerobench::workload::space::RUN), `I8`, default
//! client and call policies, one node; 1, 32 and 256 async tasks and sync threads.
//!
//! Each row's four cases (bare and run, on each server) run back to back in an order that
//! rotates every round, so drift of this shared machine hits all four. Each case is one
//! driver run with no warm-up of its own (the clients' pools are opened by seeding), with
//! CPU read around it: the client's from this process (`getrusage`), the embedded server's
//! from its child process, asd's from its container's cgroup (see [`cpu`]). The real
//! server is one container-target node (see [`sides::real_spec`] for the image); where
//! Docker or the image is missing its cases are skipped with the reason, and under
//! `CI=true` that fails the run.
//!
//! A custom harness, not Criterion, because its results are ratios of throughputs and CPU
//! times measured side by side; it follows Criterion's command line (filters, `--exact`,
//! `--list`, `--test`, `--quick`). Only a full unfiltered run with both servers replaces
//! `reports/own_cost.{md,json}`.

mod args;
mod cpu;
mod measure;
mod report;
mod sides;

use aerobench::cluster::Kind;
use aerobench::driver::Mode;
use serde::Serialize;

use crate::args::Args;
use crate::measure::measure_all;
use crate::report::{Report, load_average, render, rows, write_report};
use crate::sides::{connect, one_node, real_target, start};

const CALLERS: [usize; 3] = [1, 32, 256];
/// The command that writes the kept report (the image variables are added when set).
const COMMAND: &str = "cargo bench --bench own_cost";

/// Which server a case runs against.
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Server {
    Embedded,
    Real,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Embedded => "embedded",
            Server::Real => "real",
        }
    }
}

/// Which loop makes the calls.
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Loop {
    /// `aerobench run --bare`: the calls and a counter.
    Bare,
    /// `aerobench run`: the harness.
    Run,
}

impl Loop {
    fn name(self) -> &'static str {
        match self {
            Loop::Bare => "bare",
            Loop::Run => "run",
        }
    }
}

/// One measured case: `own_cost/<server>/<async|sync>/<callers>/<bare|run>`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Case {
    server: Server,
    mode: Mode,
    looped: Loop,
}

impl Case {
    /// Every case, in table order: per mode and caller count, each server's bare then run.
    fn all() -> Vec<Case> {
        let modes = CALLERS
            .map(|tasks| Mode::Async { tasks })
            .into_iter()
            .chain(CALLERS.map(|threads| Mode::Sync { threads }));
        modes
            .flat_map(|mode| {
                [Server::Embedded, Server::Real]
                    .into_iter()
                    .flat_map(move |server| {
                        [Loop::Bare, Loop::Run].map(|looped| Case {
                            server,
                            mode,
                            looped,
                        })
                    })
            })
            .collect()
    }

    fn name(self) -> String {
        let (server, mode, looped) = (self.server.name(), self.mode.name(), self.looped.name());
        let callers = self.mode.concurrency();
        format!("own_cost/{server}/{mode}/{callers}/{looped}")
    }
}

fn main() {
    let args = Args::parse(std::env::args().skip(1));
    let cases: Vec<Case> = Case::all()
        .into_iter()
        .filter(|c| args.selects(&c.name()))
        .collect();
    if args.list {
        for case in &cases {
            println!("{}: benchmark", case.name());
        }
        return;
    }
    if cases.is_empty() {
        return;
    }
    let wants = |server| cases.iter().any(|c| c.server == server);
    let mut targets = Vec::new();
    if wants(Server::Embedded) {
        let target = start(one_node(Kind::Embedded), None);
        let target = target.unwrap_or_else(|e| groups::exit_with(format!("own_cost: {e}")));
        targets.push((Server::Embedded, target));
    }
    let mut skipped = None;
    if wants(Server::Real) {
        match real_target() {
            Ok(target) => targets.push((Server::Real, target)),
            Err(why) => {
                eprintln!("own_cost: real server skipped: {why}");
                skipped = Some(why);
            }
        }
    }
    // Built after the targets, so its workers start where the client was put.
    let runtime = groups::runtime(0);
    let sides: Vec<_> = targets
        .into_iter()
        .map(|(server, target)| {
            connect(&runtime, server, target)
                .unwrap_or_else(|e| groups::exit_with(format!("own_cost: {}: {e}", server.name())))
        })
        .collect();
    let plan = args.plan();
    let load_before = load_average();
    let rows = rows(&measure_all(&runtime, &sides, &cases, &plan));
    let report = Report {
        sides: &sides,
        rows,
        plan,
        skipped,
        load: [load_before, load_average()],
    };
    let table = render(&report);
    println!("{table}");
    if !args.test && !args.quick && args.filters.is_empty() && report.skipped.is_none() {
        write_report(&table, &report);
    }
}
