//! Is the embedded server out of the way? CPU time per simple get and put, of the server
//! process and of the client (benchmark) process, measured over the same fixed number of
//! ops in one run.
//!
//! What it isolates: the server's share of the work. Against the embedded default the
//! suite claims to measure the client's own ceiling; that holds only while the server
//! spends much less CPU per op than the client (goal: at most 50%). Held constant: 32
//! tasks on one shared default client, one integer bin, keys seeded first. Read it as the
//! `server/client` column; the figures also go to `reports/server_cost.{md,json}`.
//!
//! CPU times come from `/proc/<pid>/stat` (user + system, clock ticks) of both processes,
//! so they include every thread: the client's tend thread and Tokio workers, the server's
//! acceptors. It is a custom harness, not Criterion, because its result is a ratio of CPU
//! times, not a duration. `--test` and `--quick` do shorter runs and write no report.

use std::sync::Arc;
use std::time::Instant;

use aerobench::harness::{self, Bench};
use aerobench::profile::write_atomically;
use aerospike_core::policy::{ReadPolicy, WritePolicy};
use aerospike_core::{Bins, Client, Key, as_bin};
use serde::Serialize;

const TASKS: usize = 32;
const KEYS: i64 = 10_000;

#[derive(Clone, Copy, Serialize)]
enum Op {
    Get,
    Put,
}

/// CPU seconds of one process, split as the kernel accounts them.
#[derive(Clone, Copy, Default, Serialize)]
struct Cpu {
    user: f64,
    system: f64,
}

impl Cpu {
    fn total(self) -> f64 {
        self.user + self.system
    }

    /// Microseconds per op of the CPU spent between `self` and `later`.
    fn per_op_since(self, later: Cpu, ops: u64) -> Cpu {
        let us = |a: f64, b: f64| (b - a) * 1e6 / ops as f64;
        Cpu {
            user: us(self.user, later.user),
            system: us(self.system, later.system),
        }
    }
}

#[derive(Serialize)]
struct Row {
    op: &'static str,
    ops: u64,
    client_us_per_op: Cpu,
    server_us_per_op: Cpu,
    server_over_client: f64,
    server_over_client_user: f64,
    wall_ops_per_sec: f64,
}

/// Flags of Criterion's command line that take a value, so the value is not read as a
/// benchmark filter when `cargo bench -- <flags>` passes them to every bench binary.
const VALUE_FLAGS: [&str; 14] = [
    "--profile-time",
    "--save-baseline",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--measurement-time",
    "--warm-up-time",
    "--sample-size",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--nresamples",
    "--output-format",
    "--color",
];

struct Args {
    test: bool,
    quick: bool,
    filters: Vec<String>,
}

/// Parses the command line the way Criterion does: without `--bench` (as under
/// `cargo test`) the binary runs in test mode.
fn parse_args() -> Args {
    let bench = std::env::args().any(|a| a == "--bench");
    let mut args = Args {
        test: !bench,
        quick: false,
        filters: Vec::new(),
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--test" => args.test = true,
            "--quick" => args.quick = true,
            flag if VALUE_FLAGS.contains(&flag) => {
                iter.next();
            }
            flag if flag.starts_with('-') => {}
            filter => args.filters.push(filter.to_string()),
        }
    }
    args
}

fn main() {
    let args = parse_args();
    let names = ["server_cost/get", "server_cost/put"];
    if !args.filters.is_empty()
        && !names
            .iter()
            .any(|n| args.filters.iter().any(|f| n.contains(f.as_str())))
    {
        return;
    }
    let bench = harness::bench();
    let Some(server) = bench.target.embedded() else {
        eprintln!(
            "server_cost: skipped: the server's CPU time is only observable for the embedded target"
        );
        return;
    };
    let ops: u64 = match (args.test, args.quick) {
        (true, _) => 2_000,
        (_, true) => 50_000,
        _ => 300_000,
    };
    seed(bench);
    let rows: Vec<Row> = [Op::Get, Op::Put]
        .iter()
        .map(|&op| measure(bench, server.pid(), op, ops))
        .collect();
    let table = render(&rows, ops, bench);
    println!("{table}");
    // Only a full run replaces the kept report; test and quick runs just print.
    if !args.test && !args.quick {
        write_report(&table, &rows, bench);
    }
}

fn seed(bench: &Bench) {
    bench.runtime.block_on(async {
        for id in 0..KEYS {
            let r = bench
                .client
                .put(&WritePolicy::default(), &key(id), &[as_bin!("v", id)])
                .await;
            r.unwrap_or_else(|e| harness::exit_with(&format!("server_cost: seeding failed: {e}")));
        }
    });
}

fn key(id: i64) -> Key {
    Key::new("test", "server_cost", id.into()).expect("valid key")
}

/// Runs `ops` operations over [`TASKS`] tasks and reads both processes' CPU around them.
fn measure(bench: &Bench, server_pid: u32, op: Op, ops: u64) -> Row {
    let server = server_pid.to_string();
    let (client0, server0) = (cpu_seconds("self"), cpu_seconds(&server));
    let started = Instant::now();
    bench.runtime.block_on(run(bench.client.clone(), op, ops));
    let wall = started.elapsed().as_secs_f64();
    let client_us = client0.per_op_since(cpu_seconds("self"), ops);
    let server_us = server0.per_op_since(cpu_seconds(&server), ops);
    Row {
        op: match op {
            Op::Get => "get",
            Op::Put => "put",
        },
        ops,
        client_us_per_op: client_us,
        server_us_per_op: server_us,
        server_over_client: server_us.total() / client_us.total(),
        server_over_client_user: server_us.user / client_us.user,
        wall_ops_per_sec: ops as f64 / wall,
    }
}

async fn run(client: Arc<Client>, op: Op, ops: u64) {
    let per_task = ops / TASKS as u64;
    let tasks: Vec<_> = (0..TASKS as u64)
        .map(|t| {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    let id = ((t * per_task + i) % KEYS as u64) as i64;
                    let result = match op {
                        Op::Get => client
                            .get(&ReadPolicy::default(), &key(id), Bins::All)
                            .await
                            .map(drop),
                        Op::Put => {
                            client
                                .put(&WritePolicy::default(), &key(id), &[as_bin!("v", id)])
                                .await
                        }
                    };
                    result.unwrap_or_else(|e| {
                        harness::exit_with(&format!("server_cost: op failed: {e}"))
                    });
                }
            })
        })
        .collect();
    for task in tasks {
        task.await
            .unwrap_or_else(|e| harness::exit_with(&format!("server_cost: task failed: {e}")));
    }
}

/// User and system CPU seconds of process `pid` (`self` for this one), from `/proc`.
fn cpu_seconds(pid: &str) -> Cpu {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_else(|e| {
        harness::exit_with(&format!("server_cost: cannot read /proc/{pid}/stat: {e}"))
    });
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let seconds = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
            / per_second
    };
    Cpu {
        user: seconds(11),
        system: seconds(12),
    }
}

fn render(rows: &[Row], ops: u64, bench: &Bench) -> String {
    let mut out = format!(
        "server_cost: CPU time per op, {ops} ops per row, {TASKS} tasks, default client policy\n\
         measured against: {}\n\n\
         | op | client CPU µs/op (user + sys) | server CPU µs/op (user + sys) | server / client, all CPU | server / client, user CPU | wall ops/s |\n\
         |---|---:|---:|---:|---:|---:|\n",
        bench.fingerprint
    );
    for r in rows {
        let (c, s) = (r.client_us_per_op, r.server_us_per_op);
        out.push_str(&format!(
            "| {} | {:.2} ({:.2} + {:.2}) | {:.2} ({:.2} + {:.2}) | {:.0}% | {:.0}% | {:.0} |\n",
            r.op,
            c.total(),
            c.user,
            c.system,
            s.total(),
            s.user,
            s.system,
            r.server_over_client * 100.0,
            r.server_over_client_user * 100.0,
            r.wall_ops_per_sec
        ));
    }
    out
}

/// Writes `reports/server_cost.md` and `.json` through temporary files and renames, so
/// an interrupted run leaves the previous report whole.
fn write_report(table: &str, rows: &[Row], bench: &Bench) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let json =
        serde_json::json!({ "fingerprint": bench.fingerprint, "tasks": TASKS, "rows": rows });
    let command = "cargo bench --bench server_cost";
    let files = [
        ("server_cost.md", format!("{table}\nCommand: `{command}`\n")),
        (
            "server_cost.json",
            serde_json::to_string_pretty(&json).unwrap_or_default(),
        ),
    ];
    for (name, text) in files {
        let written = std::fs::create_dir_all(&dir)
            .map_err(|e| e.to_string())
            .and_then(|_| write_atomically(&dir.join(name), text.as_bytes()));
        if let Err(e) = written {
            eprintln!("server_cost: {e}");
        }
    }
}
