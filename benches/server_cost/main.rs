//! The embedded server's cost next to a real one's: the same fixed number of gets and puts
//! against the embedded server and against real asd on this machine (one node each), with
//! each process's CPU time per op (user and system) and the throughput the client gets.
//!
//! What it isolates: what the server in front of the client changes for the client. Against
//! the embedded default the suite claims to measure the client's own ceiling; that holds
//! while the embedded server is cheap next to the client, and what it leaves out shows next
//! to a real server's row. Held constant: one default client per server, one integer bin,
//! [`SERVER_COST`](aerobench::workload::space::SERVER_COST) keys seeded first, 1, 32 or 256 tasks. Read the `÷ embedded` columns: the real
//! server's figures over the embedded one's, measured in the same run.
//!
//! The servers are measured interleaved (embedded, real, then the next case, with the
//! order swapped every round), so drift of this shared machine hits both. The real server
//! is one container-target node, on the host network where Docker has it (see
//! [`real_spec`] for the image); where Docker or the image is missing its rows are skipped
//! with the reason, and under `CI=true` that fails the run. Client CPU is this process's (`getrusage`, [`aerobench::cpu`]: the client's tend
//! thread and Tokio workers), the embedded server's its child process's, the real server's
//! its container's cgroup (asd under tini; `cpu.stat` of cgroup v2, or the container's
//! process tree from `/proc` where there is none).
//!
//! A custom harness, not Criterion, because its results are CPU times and their ratios,
//! not durations; it follows Criterion's command line (filters, `--exact`, `--list`,
//! `--test`, `--quick`). Only a full unfiltered run with both servers replaces
//! `reports/server_cost.{md,json}`.

mod args;
mod cpu;
mod measure;
mod report;
mod sides;

use aerobench::cluster::Kind;
use serde::Serialize;

use crate::args::Args;
use crate::measure::measure_all;
use crate::report::{Report, load_average, render, rows, write_report};
use crate::sides::{one_node, real_side, start_side};

const TASK_COUNTS: [usize; 3] = [1, 32, 256];
/// The command that writes the kept report (the image variables are added when set).
const COMMAND: &str = "cargo bench --bench server_cost";

#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Op {
    Get,
    Put,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Put => "put",
        }
    }
}

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

/// One measured row: `server_cost/<server>/<op>/<tasks>`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Case {
    server: Server,
    op: Op,
    tasks: usize,
}

impl Case {
    /// Every case, in table order: per op and task count, embedded then real.
    fn all() -> Vec<Case> {
        let mut cases = Vec::new();
        for op in [Op::Get, Op::Put] {
            for tasks in TASK_COUNTS {
                for server in [Server::Embedded, Server::Real] {
                    cases.push(Case { server, op, tasks });
                }
            }
        }
        cases
    }

    fn name(self) -> String {
        let (server, op) = (self.server.name(), self.op.name());
        format!("server_cost/{server}/{op}/{}", self.tasks)
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
    let runtime = groups::runtime(0);
    let wants = |server| cases.iter().any(|c| c.server == server);
    let mut sides = Vec::new();
    if wants(Server::Embedded) {
        let side = start_side(&runtime, Server::Embedded, one_node(Kind::Embedded), None);
        sides.push(side.unwrap_or_else(|e| groups::exit_with(format!("server_cost: {e}"))));
    }
    let mut skipped = None;
    if wants(Server::Real) {
        match real_side(&runtime) {
            Ok(side) => sides.push(side),
            Err(why) => {
                eprintln!("server_cost: real server skipped: {why}");
                skipped = Some(why);
            }
        }
    }
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
