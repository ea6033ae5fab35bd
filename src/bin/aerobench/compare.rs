//! `aerobench compare`: the command line of [`aerobench::compare`]. Bad input ends with one
//! line, `compare: …`, and exit code 2; Ctrl-C with 130, after removing the checkouts.

use aerobench::compare::{self, Interleave, Method, Metric, Options, process::Cancel};
use clap::{Args, ValueEnum};

/// `--method`'s values.
#[derive(Clone, Copy, ValueEnum)]
enum How {
    Paired,
    Rounds,
}

/// `--metric`'s values.
#[derive(Clone, Copy, ValueEnum)]
enum What {
    Time,
    Instructions,
    Both,
}

/// `--format`'s values.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

/// `--interleave`'s values.
#[derive(Clone, Copy, ValueEnum)]
enum Unit {
    Target,
    Benchmark,
}

/// Compares two commits of this suite, or with --client two aerospike-core sources at HEAD,
/// benchmark by benchmark.
#[derive(Args)]
#[command(after_help = "\
Examples:
  aerobench compare HEAD~1 HEAD                                # two commits of this suite, every group
  aerobench compare --client 3.0.0 ../aerospike-client-rust    # two aerospike-core sources at HEAD
  aerobench compare --benches single_op --filter single_op/async A B
  aerobench compare --metric instructions --benches key A B    # counts only (valgrind)

Each side is built in its own git worktree under target/compare/. By default (--method
paired) one target is started for both sides, and every benchmark runs in a pair of worker
processes, one per side, alive at once and sampled in lock-step (A B, then B A, each
sample a few milliseconds), --processes pairs per benchmark; then each side's instructions
per op are counted under callgrind. One table: time per op on each side, the change and its
interval, the smallest detectable change, instructions per op and their change, system
calls per op, and a verdict that names the evidence that carried it. The result is kept as
reports/compare-A-B/paired.json (--format json prints it).

--method rounds runs Criterion instead: each benchmark (or with --interleave target, each
bench target) in a process of its own, alternately (A B, then B A, round after round),
saved as baselines in target/compare/criterion; a benchmark with a verdict then runs the
--confirm rounds; regressed benchmarks get a differential flamegraph, and
reports/compare-A-B/index.html shows it all.")]
pub struct CompareArgs {
    /// Comma-separated bench targets.
    #[arg(
        long,
        default_value = "key,rng,timer,pool,single_op,batch,floor,throughput",
        value_name = "LIST"
    )]
    benches: String,
    /// Paired workers sampled in lock-step (and counted), or Criterion baselines in rounds.
    #[arg(long, value_enum, default_value_t = How::Paired)]
    method: How,
    /// What the paired method measures: time, instructions per op (valgrind), or both.
    #[arg(long, value_enum, default_value_t = What::Both)]
    metric: What,
    /// Pairs of worker processes per benchmark (paired).
    #[arg(long, default_value_t = 3, value_name = "N")]
    processes: usize,
    /// Seconds of lock-step sampling per pair of workers (paired).
    #[arg(long, default_value_t = 2.0, value_name = "S")]
    sample_time: f64,
    /// The paired result as a table (with its header) or as JSON.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Criterion filter passed to every target (e.g. batch/read).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Criterion's --quick.
    #[arg(long)]
    quick: bool,
    /// Compare even when the two sides' fingerprints differ.
    #[arg(long)]
    force: bool,
    /// Seconds of profiling per side for each regressed benchmark.
    #[arg(long, default_value_t = 3.0, value_name = "S")]
    profile_time: f64,
    /// Rounds: each side runs every target this many times, alternating A B, B A, …; the
    /// interval then holds the drift between rounds.
    #[arg(long, default_value_t = 2, value_name = "N")]
    rounds: usize,
    /// What the sides alternate by: whole bench targets (fewest processes), or single
    /// benchmarks (one process each, A and B of a benchmark seconds apart).
    #[arg(long, value_enum, default_value_t = Unit::Benchmark)]
    interleave: Unit,
    /// More rounds, by benchmark, for each benchmark that got a verdict; the verdict is then
    /// drawn from all its rounds.
    #[arg(long, default_value_t = 2, value_name = "N")]
    confirm: usize,
    /// KEY=VALUE set for side B's benchmark runs only (repeatable), e.g.
    /// AEROBENCH_INJECT_NS=key=10 for a known-change check.
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    b_env: Vec<(String, String)>,
    /// A and B are aerospike-core sources: a crates.io version (e.g. 3.0.0) or the path of a
    /// local checkout.
    #[arg(long)]
    client: bool,
    /// A and B: two commits (anything `git rev-parse` accepts), or with --client two sources.
    #[arg(value_name = "A B")]
    things: Vec<String>,
}

pub fn main(args: CompareArgs) -> ! {
    let [a, b] = match <[String; 2]>::try_from(args.things) {
        Ok(ab) => ab,
        Err(things) => exit(
            2,
            format!(
                "expected two things to compare, got {} (see --help)",
                things.len()
            ),
        ),
    };
    let options = Options {
        a,
        b,
        client: args.client,
        benches: args.benches.split(',').map(str::to_string).collect(),
        filter: args.filter,
        quick: args.quick,
        force: args.force,
        profile_time: args.profile_time,
        rounds: args.rounds,
        b_env: args.b_env,
        confirm: args.confirm,
        interleave: match args.interleave {
            Unit::Target => Interleave::Target,
            Unit::Benchmark => Interleave::Benchmark,
        },
        method: match args.method {
            How::Paired => Method::Paired,
            How::Rounds => Method::Rounds,
        },
        metric: match args.metric {
            What::Time => Metric::Time,
            What::Instructions => Metric::Instructions,
            What::Both => Metric::Both,
        },
        processes: args.processes,
        sample_time: args.sample_time,
        json: matches!(args.format, Format::Json),
    };
    let cancel =
        Cancel::on_ctrl_c().unwrap_or_else(|e| exit(2, format!("cannot watch for Ctrl-C: {e}")));
    let start = std::env::current_dir().unwrap_or_else(|_| ".".into());
    match compare::run(&start, &options, &cancel) {
        Ok(_) => std::process::exit(0),
        Err(e) => exit(e.exit_code(), e),
    }
}

/// `KEY=VALUE`, split at the first `=`.
fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.into(), value.into())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

/// Prints `compare: <message>` and exits with `code`.
pub fn exit(code: i32, message: impl std::fmt::Display) -> ! {
    eprintln!("compare: {message}");
    std::process::exit(code)
}
