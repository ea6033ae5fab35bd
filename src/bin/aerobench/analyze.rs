//! The subcommands that read results back: `report`, `baselines` and `diff-flamegraph`.

use std::path::PathBuf;

use aerobench::criterion_results::compare::{self, Verdict};
use aerobench::criterion_results::criterion_dir;
use aerobench::site::{self, Options};
use clap::Args;

#[derive(Args)]
pub struct ReportArgs {
    /// Report name: written to reports/<name>/.
    #[arg(long, default_value = "latest")]
    name: String,
    /// Criterion's results (default: $CRITERION_HOME, else $CARGO_TARGET_DIR/criterion, else target/criterion).
    #[arg(long)]
    criterion_dir: Option<PathBuf>,
    /// The CLI's JSON results to tabulate.
    #[arg(long, default_value = "reports/runs")]
    runs_dir: PathBuf,
    /// Two saved baselines to compare in the report.
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    compare: Option<Vec<String>>,
}

#[derive(Args)]
pub struct BaselinesArgs {
    /// Criterion's results directory holding both baselines.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Print only the ids of regressed benchmarks, one per line.
    #[arg(long)]
    regressed: bool,
    a: String,
    b: String,
}

#[derive(Args)]
pub struct DiffArgs {
    before: PathBuf,
    after: PathBuf,
    out: PathBuf,
    #[arg(long, default_value = "differential flamegraph")]
    title: String,
}

pub fn report(args: &ReportArgs) -> anyhow::Result<()> {
    if args.name.is_empty() || args.name.contains(['/', '\\']) || args.name.starts_with('.') {
        anyhow::bail!(
            "--name {:?} must be a plain directory name, e.g. --name before-fix",
            args.name
        );
    }
    let options = Options {
        criterion_dir: args.criterion_dir.clone().unwrap_or_else(criterion_dir),
        runs_dir: args.runs_dir.clone(),
        out_dir: PathBuf::from("reports").join(&args.name),
        compare: args
            .compare
            .as_ref()
            .map(|ab| (ab[0].clone(), ab[1].clone())),
    };
    let index = site::write(&options)?;
    println!("report: {}", index.display());
    Ok(())
}

pub fn baselines(args: &BaselinesArgs) -> anyhow::Result<()> {
    let dir = args.dir.clone().unwrap_or_else(criterion_dir);
    let rows = compare::compare_saved(&dir, &args.a, &args.b)?;
    if args.regressed {
        rows.iter()
            .filter(|r| r.verdict == Verdict::Regressed)
            .for_each(|r| println!("{}", r.a.id));
    } else {
        print!("{}", compare::render(&rows, &args.a, &args.b));
    }
    Ok(())
}

pub fn diff_flamegraph(args: &DiffArgs) -> anyhow::Result<()> {
    aerobench::profile::differential(&args.before, &args.after, &args.title, &args.out)?;
    println!("differential flamegraph: {}", args.out.display());
    Ok(())
}
