//! `aerobench`: the suite's command line.
//!
//! - `run`: a workload, closed loop or at a fixed rate, with a ticker, a summary and a JSON
//!   result.
//! - `knee`: the highest rate whose response times hold an SLA.
//! - `report`: the HTML and Markdown report of the last benchmark run.
//! - `baselines`: two saved Criterion baselines compared benchmark by benchmark.
//! - `diff-flamegraph`: a differential flamegraph from two folded-stack files.
//! - `compare`: two commits, or two clients, built and compared benchmark by benchmark.
//! - `doctor`: short measured probes, then which resource sets the ceiling, with evidence.
//! - `diff`: two `run` results compared metric by metric, with an interval and a verdict.

mod analyze;
mod compare;
mod diff;
mod doctor;
mod knee;
mod run;

use aerobench::exit_with;
use clap::{Parser, Subcommand};

/// `run` counts allocations over its measured span (see [`aerobench::op_counters`]);
/// otherwise the system allocator behind one relaxed load.
#[global_allocator]
static ALLOCATOR: aerobench::op_counters::CountingAllocator =
    aerobench::op_counters::CountingAllocator;

#[derive(Parser)]
#[command(
    version,
    about = "Benchmarks the Aerospike Rust client against the selected target"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a workload, closed loop or at a fixed rate, and reports TPS, latency and errors.
    Run(run::RunArgs),
    /// Finds the highest rate whose response times hold an SLA (e.g. --sla-p99 1ms).
    Knee(knee::KneeArgs),
    /// Writes reports/<name>/index.html and summary.md from the last benchmark run.
    Report(analyze::ReportArgs),
    /// Compares two saved Criterion baselines: change, confidence interval, verdict.
    Baselines(analyze::BaselinesArgs),
    /// Draws a differential flamegraph from two `stacks.folded` files.
    DiffFlamegraph(analyze::DiffArgs),
    /// Compares two commits (or with --client two aerospike-core sources) benchmark by benchmark.
    Compare(compare::CompareArgs),
    /// Runs short measured probes (about 2 minutes; --quick less) and names which resource sets this configuration's ceiling, with evidence for every suspect.
    Doctor(doctor::DoctorArgs),
    /// Compares two `aerobench run` results: per metric the change, a 95% interval from the per-second windows, and a verdict.
    Diff(diff::DiffArgs),
}

fn main() {
    let result = match parse().command {
        Command::Run(args) => run::main(&args),
        Command::Knee(args) => knee::main(&args),
        Command::Report(args) => analyze::report(&args),
        Command::Baselines(args) => analyze::baselines(&args),
        Command::DiffFlamegraph(args) => analyze::diff_flamegraph(&args),
        Command::Compare(args) => compare::main(args),
        Command::Diff(args) => diff::main(&args),
        Command::Doctor(args) => doctor::main(&args),
    };
    if let Err(e) = result {
        exit_with(e);
    }
}

/// The command line, or a one-line error naming the problem and where to look.
fn parse() -> Cli {
    use clap::error::ErrorKind;
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            e.exit()
        }
        Err(e) if std::env::args().nth(1).as_deref() == Some("compare") => {
            compare::exit(2, compare_usage(&e))
        }
        Err(e) => {
            let text = e.render().to_string();
            let mut parts: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("error:") || l.starts_with("tip:"))
                .map(|l| l.trim_start_matches("error: "))
                .collect();
            parts.push("see `aerobench --help`");
            exit_with(parts.join("; "))
        }
    }
}

/// `compare`'s bad input as `scripts/compare` said it: `unknown option --x (see --help)`,
/// or clap's own first line for anything else.
fn compare_usage(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    if e.kind() == ErrorKind::UnknownArgument && arg.starts_with('-') {
        return format!("unknown option {arg} (see --help)");
    }
    let text = e.render().to_string();
    let first = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or("invalid arguments");
    format!("{first} (see --help)")
}
