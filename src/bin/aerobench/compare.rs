//! `aerobench compare`: the command line of [`aerobench::compare`]. Bad input ends with one
//! line, `compare: …`, and exit code 2; Ctrl-C with 130, after removing the checkouts.

use aerobench::compare::{self, Interleave, Options, process::Cancel};
use clap::{Args, ValueEnum};

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
  aerobench compare HEAD~1 HEAD                                # two commits of this suite
  aerobench compare --client 3.0.0 ../aerospike-client-rust    # two aerospike-core sources at HEAD
  aerobench compare --quick --benches single_op --filter single_op/async A B

Each side is built in its own git worktree under target/compare/, then each benchmark
(or with --interleave target, each bench target) runs in a process of its own, alternately
(A B, then B A, round after round) against the same target, so machine drift hits both; a
benchmark with a verdict then runs the --confirm rounds before the verdict is given. Results are saved as
Criterion baselines in target/compare/criterion and printed as one table: benchmark, A, B, change,
95% CI, verdict. Each regressed benchmark gets a differential flamegraph, and
reports/compare-A-B/index.html shows it all.")]
pub struct CompareArgs {
    /// Comma-separated bench targets.
    #[arg(long, default_value = "single_op,batch", value_name = "LIST")]
    benches: String,
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
