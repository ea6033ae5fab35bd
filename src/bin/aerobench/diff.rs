//! `aerobench diff`: the command line of [`aerobench::run_output::diff`]. Bad input (a
//! missing file, a bare run's result, a run too short, runs not comparable) ends with one
//! line and exit code 2.

use std::path::PathBuf;

use aerobench::run_output::diff;
use clap::Args;

#[derive(Args)]
pub struct DiffArgs {
    /// The result compared against: a JSON file `aerobench run` wrote.
    a: PathBuf,
    /// The result whose change from A is shown.
    b: PathBuf,
    /// Compare even when the runs' fingerprints or knobs differ (a warning line names the
    /// difference).
    #[arg(long)]
    force: bool,
}

pub fn main(args: &DiffArgs) -> anyhow::Result<()> {
    print!("{}", diff::compare(&args.a, &args.b, args.force)?.render());
    Ok(())
}
