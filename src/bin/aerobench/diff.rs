//! `aerobench diff`: the command line of [`aerobench::run_output::diff`]. Bad input (a
//! missing file, a bare run's result, a run too short, runs not comparable) ends with one
//! line and exit code 2.

use std::path::PathBuf;

use aerobench::run_output::diff;
use clap::Args;

#[derive(Args)]
pub struct DiffArgs {
    /// A then B (JSON files `aerobench run` wrote); with --vs, every file of side A.
    #[arg(required = true, num_args = 1..)]
    files: Vec<PathBuf>,
    /// Side B's results, two or more, against two or more of A's: the interval then comes
    /// from the spread between runs, not only from the windows within each.
    #[arg(long, num_args = 2..)]
    vs: Vec<PathBuf>,
    /// Compare even when the runs' fingerprints or knobs differ (a warning line names the
    /// difference).
    #[arg(long)]
    force: bool,
}

pub fn main(args: &DiffArgs) -> anyhow::Result<()> {
    let (a, b) = match (args.vs.is_empty(), args.files.as_slice()) {
        (false, a) => (a, args.vs.as_slice()),
        (true, [a, b]) => (std::slice::from_ref(a), std::slice::from_ref(b)),
        (true, files) => anyhow::bail!(
            "{} files and no --vs: give A.json B.json, or A1.json A2.json --vs B1.json B2.json",
            files.len()
        ),
    };
    print!("{}", diff::compare(a, b, args.force)?.render());
    Ok(())
}
