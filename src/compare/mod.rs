//! `aerobench compare`: two commits of this suite, or two `aerospike-core` sources, compared
//! benchmark by benchmark.
//!
//! Each side is checked out in its own git worktree under `target/compare/` and built into
//! the repository's own target folder (so dependencies are built once); its binaries are
//! copied out right after its build. Each benchmark (or bench target) then runs in a
//! process of its own, alternately, A B then B A, against the same target (the
//! environment's `AEROBENCH_*` / `AEROSPIKE_*` settings), so drift of the machine hits
//! both; the benchmarks with a verdict run more rounds to confirm it. Results are saved as
//! Criterion baselines named after the sides (`label`, `label@2`, … per round) in
//! `target/compare/criterion`; the sides' fingerprints must match (see
//! [`fingerprint`]) unless forced. Then one table (benchmark, A, B, change, 95% CI,
//! verdict), a differential flamegraph for each regressed benchmark, and
//! `reports/compare-<A>-<B>/index.html`.
//!
//! - [`side`]: one side, its build and its runs; [`client_source`]: `--client`'s manifest
//!   edit; [`worktree`]: the checkouts; [`process`]: the programs run, with bounded waits
//!   and Ctrl-C; [`fingerprint`]: the refusal of sides that measured different things.

pub mod client_source;
pub mod counts;
pub mod estimate;
pub mod fingerprint;
pub mod lockstep;
pub mod paired;
pub mod process;
pub mod protocol;
pub mod result;
pub mod shared;
pub mod side;
pub mod worker;
pub mod worktree;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::criterion_results::compare::{self as baselines, NoCommonBaselines, Row, Verdict};
use crate::profile::FOLDED;
use crate::site::{self, SiteError};
use client_source::{ClientSource, ClientSourceError};
use fingerprint::FingerprintError;
use process::{Cancel, ProcessError};
use side::{Built, Side, SideError};
use worktree::GitError;

/// What to compare and how: the command line, parsed.
#[derive(Debug, Clone)]
pub struct Options {
    /// The two things compared: commits, or with `client`, client sources.
    pub a: String,
    pub b: String,
    /// Compare two `aerospike-core` sources (a version or a checkout) at HEAD.
    pub client: bool,
    pub benches: Vec<String>,
    /// Criterion's filter, passed to every bench target.
    pub filter: Option<String>,
    pub quick: bool,
    /// Compare even when the fingerprints differ.
    pub force: bool,
    /// Seconds of profiling per side for each regressed benchmark.
    pub profile_time: f64,
    /// How many times each side runs every bench target, alternating A B, B A, …
    pub rounds: usize,
    /// Variables set for side B's runs only, e.g. a known cost to check that a compare
    /// sees it (`AEROBENCH_INJECT_NS`).
    pub b_env: Vec<(String, String)>,
    /// What one process of a side runs before the other side's turn.
    pub interleave: Interleave,
    /// More rounds for the benchmarks that got a verdict, before it is given.
    pub confirm: usize,
    /// Paired workers (the default), or Criterion baselines in rounds.
    pub method: Method,
    /// What a paired comparison measures.
    pub metric: Metric,
    /// Pairs of workers per benchmark (paired).
    pub processes: usize,
    /// Seconds of sampling per pair of workers (paired).
    pub sample_time: f64,
    /// Print the paired result as JSON instead of the table.
    pub json: bool,
}

/// How the two sides are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Both sides' benchmark code in workers alive at once, sampled in lock-step against
    /// one shared target ([`lockstep`]).
    Paired,
    /// Criterion runs, one process per side and round, saved as baselines.
    Rounds,
}

/// What a paired comparison measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Time,
    Instructions,
    Both,
}

impl Metric {
    pub fn time(self) -> bool {
        self != Metric::Instructions
    }

    pub fn instructions(self) -> bool {
        self != Metric::Time
    }
}

/// The unit the sides alternate by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interleave {
    /// A whole bench target per process: fewest processes, but a side's two processes of a
    /// round pair run back to back (A B, then B A), minutes apart from the other side's.
    Target,
    /// One process per benchmark and side, the order flipping from one benchmark to the
    /// next: A and B of a benchmark run seconds apart, so a machine state that lasts
    /// minutes hits both (at the cost of a process start per benchmark).
    Benchmark,
}

/// Why a comparison stopped. Each is one line; [`CompareError::exit_code`] says how the
/// process ends.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Client(#[from] ClientSourceError),
    #[error(transparent)]
    Side(#[from] SideError),
    #[error(transparent)]
    Fingerprint(#[from] FingerprintError),
    #[error(transparent)]
    NoRows(#[from] NoCommonBaselines),
    #[error(transparent)]
    Report(#[from] SiteError),
    #[error("cannot keep the fingerprint: {0}")]
    Keep(#[from] crate::files::WriteError),
    #[error(transparent)]
    Flamegraph(#[from] crate::profile::FlamegraphError),
    #[error(transparent)]
    Worker(#[from] worker::WorkerError),
    #[error(transparent)]
    Count(#[from] counts::CountError),
    #[error(transparent)]
    Target(#[from] crate::cluster::Error),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: crate::files::WriteError,
    },
}

impl CompareError {
    /// 130 after Ctrl-C, as a shell reports an interrupted command; 2 otherwise.
    pub fn exit_code(&self) -> i32 {
        let process = match self {
            CompareError::Git(GitError::Process(p)) => Some(p),
            CompareError::Side(SideError::Process(p)) => Some(p),
            CompareError::Side(SideError::Git(GitError::Process(p))) => Some(p),
            CompareError::Worker(worker::WorkerError::Process(p)) => Some(p),
            CompareError::Count(counts::CountError::Worker(worker::WorkerError::Process(p))) => {
                Some(p)
            }
            _ => None,
        };
        match process {
            Some(ProcessError::Cancelled) => 130,
            _ => 2,
        }
    }
}

/// What a finished comparison printed and wrote.
#[derive(Debug)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub table: String,
    pub report: PathBuf,
}

/// The two sides `options` name, checked before anything is built: the commits resolve,
/// the client sources exist.
pub fn sides(repo: &Path, options: &Options, cancel: &Cancel) -> Result<[Side; 2], CompareError> {
    if options.benches.is_empty() || options.benches.iter().any(|b| b.is_empty()) {
        return Err(CompareError::Usage(
            "--benches needs a comma-separated list of bench targets, e.g. single_op,batch".into(),
        ));
    }
    // Criterion refuses to profile for less than a second.
    if !(options.profile_time.is_finite() && options.profile_time >= 1.0) {
        return Err(CompareError::Usage(format!(
            "--profile-time {} must be at least 1 second (Criterion's minimum)",
            options.profile_time
        )));
    }
    if options.processes == 0 {
        return Err(CompareError::Usage(
            "--processes 0 runs nothing: give 1 or more".into(),
        ));
    }
    if !(options.sample_time.is_finite() && options.sample_time > 0.0) {
        return Err(CompareError::Usage(format!(
            "--sample-time {} must be a positive number of seconds",
            options.sample_time
        )));
    }
    if options.method == Method::Paired && options.metric.instructions() {
        counts::check()?;
    }
    if options.rounds == 0 {
        return Err(CompareError::Usage(
            "--rounds 0 runs nothing: give 1 or more".into(),
        ));
    }
    let side = |prefix: &str, named: &str| -> Result<Side, CompareError> {
        let env = match prefix {
            "b" => options.b_env.clone(),
            _ => vec![],
        };
        Ok(match options.client {
            true => Side {
                label: format!("{prefix}-client"),
                commit: worktree::full_hash(repo, "HEAD", cancel)?,
                named: "HEAD".into(),
                client: Some(ClientSource::parse(named)?),
                env,
            },
            false => Side {
                label: format!("{prefix}-{}", worktree::short_hash(repo, named, cancel)?),
                commit: worktree::full_hash(repo, named, cancel)?,
                named: named.into(),
                client: None,
                env,
            },
        })
    };
    Ok([side("a", &options.a)?, side("b", &options.b)?])
}

/// Runs the whole comparison in the repository holding `start` (usually the current
/// folder); prints progress on stderr and the header and table on stdout.
pub fn run(start: &Path, options: &Options, cancel: &Cancel) -> Result<Outcome, CompareError> {
    let repo = worktree::toplevel(start, cancel)?;
    let [a, b] = sides(&repo, options, cancel)?;
    let target_dir = repo.join("target");
    let work = target_dir.join("compare");
    let criterion = work.join("criterion");
    let labels = [a.label.clone(), b.label.clone()];
    // Results of an earlier comparison under the same labels would mix into this table.
    forget(&criterion, &labels);
    let result =
        build_both(&repo, &work, [a, b], options, cancel).and_then(|built| match options.method {
            Method::Rounds => measure_and_report(&repo, &work, &criterion, built, options, cancel),
            Method::Paired => pair_and_report(&repo, &criterion, built, options, cancel),
        });
    if let Err(e) = &result {
        // A run stopped half-way leaves half a set of baselines, which is no comparison:
        // none is left to be mistaken for one. (A refused comparison keeps its complete set.)
        if matches!(
            e,
            CompareError::Side(_) | CompareError::Git(_) | CompareError::Keep(_)
        ) {
            forget(&criterion, &labels);
        }
    }
    result
}

/// Both sides checked out and built, A first.
fn build_both(
    repo: &Path,
    work: &Path,
    [a, b]: [Side; 2],
    options: &Options,
    cancel: &Cancel,
) -> Result<[Built; 2], CompareError> {
    let target_dir = repo.join("target");
    let built_a = a.build(repo, work, &target_dir, &options.benches, cancel)?;
    let built_b = b.build(repo, work, &target_dir, &options.benches, cancel)?;
    Ok([built_a, built_b])
}

fn measure_and_report(
    repo: &Path,
    work: &Path,
    criterion: &Path,
    [built_a, built_b]: [Built; 2],
    options: &Options,
    cancel: &Cancel,
) -> Result<Outcome, CompareError> {
    let (a, b) = (&built_a.side, &built_b.side);
    let units = units(&built_a, criterion, options, cancel)?;
    let sides = [&built_a, &built_b];
    run_rounds(
        &units,
        1..=options.rounds,
        sides,
        criterion,
        options,
        cancel,
    )?;
    let (la, lb) = (&a.label, &b.label);
    let checked = fingerprint::check(criterion, la, lb, &options.benches, options.force)?;
    for note in &checked.notes {
        eprintln!("compare: {note}");
    }
    let header = |label: &str, record: &Option<crate::criterion_results::RunRecord>| match record {
        Some(r) => format!("{label}: {}", r.fingerprint),
        None => format!("{label}: no fingerprint recorded (its groups reach no cluster)"),
    };
    println!();
    println!("A = {}", header(la, &checked.a));
    println!("B = {}", header(lb, &checked.b));
    for (key, value) in &b.env {
        println!("B runs with {key}={value}");
    }
    println!(
        "{} round(s), each side's bench runs alternating",
        options.rounds
    );
    println!();
    let mut rows = baselines::compare_saved(criterion, la, lb)?;
    let flagged = flagged(&rows);
    if options.confirm > 0 && !flagged.is_empty() {
        let more = options.rounds + 1..=options.rounds + options.confirm;
        run_rounds(&flagged, more, sides, criterion, options, cancel)?;
        rows = baselines::compare_saved(criterion, la, lb)?;
    }
    let confirmed = flagged.iter().map(|(_, s)| s.len()).sum::<usize>();
    if options.confirm > 0 {
        println!(
            "{confirmed} benchmark(s) with a verdict after {} round(s) ran {} more before the verdict below",
            options.rounds, options.confirm
        );
    }
    let table = baselines::render(&rows, la, lb);
    print!("{table}");
    for row in rows.iter().filter(|r| r.verdict == Verdict::Regressed) {
        if let Err(e) = diff_flamegraph(work, row, [&built_a, &built_b], options, cancel) {
            if matches!(
                e,
                CompareError::Side(SideError::Process(ProcessError::Cancelled))
            ) {
                return Err(e);
            }
            eprintln!("compare: no differential flamegraph for {}: {e}", row.a.id);
        }
    }
    let name = format!("compare-{la}-{lb}");
    let report = site::write(&site::Options {
        criterion_dir: criterion.to_path_buf(),
        runs_dir: repo.join("reports").join("runs"),
        out_dir: repo.join("reports").join(&name),
        compare: Some((la.clone(), lb.clone())),
    })?;
    println!(
        "report: {}",
        report.strip_prefix(repo).unwrap_or(&report).display()
    );
    Ok(Outcome {
        rows,
        table,
        report,
    })
}

/// The paired comparison: both sides built, one shared target started, every benchmark
/// measured by pairs of workers (and counted), one table and `paired.json`.
fn pair_and_report(
    repo: &Path,
    criterion: &Path,
    [built_a, built_b]: [Built; 2],
    options: &Options,
    cancel: &Cancel,
) -> Result<Outcome, CompareError> {
    let (a, b) = (&built_a.side, &built_b.side);
    let shared = shared::SharedTarget::start()?;
    eprintln!("compare: both sides measure against {}", shared.fingerprint);
    let plan = lockstep::Plan {
        metric: options.metric,
        processes: options.processes,
        pacing: paired::Pacing {
            budget: Duration::from_secs_f64(options.sample_time),
            ..paired::Pacing::DEFAULT
        },
    };
    let mut measured = vec![];
    for bench in &options.benches {
        let ids = built_a.list(bench, options.filter.as_deref(), criterion, cancel)?;
        let sides = [&built_a, &built_b];
        measured.extend(lockstep::measure(
            sides,
            bench,
            &ids,
            &plan,
            &shared.env,
            cancel,
        )?);
    }
    let result = result::PairedComparison::of(
        [&built_a, &built_b],
        shared.fingerprint.to_string(),
        &plan,
        &measured,
    );
    let name = format!("compare-{}-{}", a.label, b.label);
    let out_dir = repo.join("reports").join(&name);
    let path = out_dir.join("paired.json");
    let json = serde_json::to_string_pretty(&result).unwrap_or_default();
    crate::files::write_atomically(&path, json.as_bytes()).map_err(|source| {
        CompareError::Write {
            path: path.clone(),
            source,
        }
    })?;
    let table = result.table();
    match options.json {
        true => println!("{json}"),
        false => {
            println!();
            println!("A = {}", result.a.describe());
            println!("B = {}", result.b.describe());
            println!("target: {}", result.target);
            println!("{}", result.method);
            println!();
            print!("{table}");
            println!(
                "result: {}",
                path.strip_prefix(repo).unwrap_or(&path).display()
            );
        }
    }
    Ok(Outcome {
        rows: vec![],
        table,
        report: path,
    })
}

/// A bench target and the arguments that select what each of its processes runs.
pub type Units = Vec<(String, Vec<Vec<String>>)>;

/// Runs `rounds` of every unit, A B then B A: drift within a round hits both sides alike
/// over two rounds (and, by benchmark, from one benchmark to the next too). Each process
/// saves its round as a baseline named after its side.
fn run_rounds(
    units: &Units,
    rounds: std::ops::RangeInclusive<usize>,
    [a, b]: [&Built; 2],
    criterion: &Path,
    options: &Options,
    cancel: &Cancel,
) -> Result<(), CompareError> {
    let last = *rounds.end();
    for round in rounds {
        for (bench, selections) in units {
            for (k, selection) in selections.iter().enumerate() {
                let order = match (round + k) % 2 {
                    1 => [a, b],
                    _ => [b, a],
                };
                for side in order {
                    let label = &side.side.label;
                    let baseline = baselines::round_name(label, round);
                    eprintln!(
                        "compare: round {round}/{last}: {bench}{} for {label}",
                        selection.last().map_or(String::new(), |s| format!(" {s}"))
                    );
                    let _ =
                        std::fs::remove_file(crate::criterion_results::RunRecord::path(criterion));
                    let mut run_args = vec!["--save-baseline".to_string(), baseline];
                    if options.quick {
                        run_args.push("--quick".to_string());
                    }
                    run_args.extend(selection.iter().cloned());
                    side.run(bench, &run_args, criterion, None, cancel)?;
                    fingerprint::keep(criterion, label, bench)?;
                }
            }
        }
    }
    Ok(())
}

/// The benchmarks with a verdict, one `--exact` process each: a verdict drawn from two
/// rounds can be a row whose processes fall into two modes, both A's in one and both B's
/// in the other (one chance in eight for a row with two even modes); more rounds of just
/// those rows make that unlikely, and a real change stays flagged.
pub fn flagged(rows: &[Row]) -> Units {
    let mut units: Units = vec![];
    for row in rows.iter().filter(|r| r.verdict != Verdict::WithinNoise) {
        let selection = vec!["--exact".to_string(), row.a.id.clone()];
        match units.iter_mut().find(|(bench, _)| *bench == row.a.group) {
            Some((_, selections)) => selections.push(selection),
            None => units.push((row.a.group.clone(), vec![selection])),
        }
    }
    units
}

/// For each bench target, what each of its processes selects: the filter (by target), or
/// `--exact <id>` for every benchmark side A lists under the filter (by benchmark).
fn units(
    a: &Built,
    criterion: &Path,
    options: &Options,
    cancel: &Cancel,
) -> Result<Units, CompareError> {
    options
        .benches
        .iter()
        .map(|bench| {
            let selections = match options.interleave {
                Interleave::Target => vec![options.filter.iter().cloned().collect()],
                Interleave::Benchmark => a
                    .list(bench, options.filter.as_deref(), criterion, cancel)?
                    .into_iter()
                    .map(|id| vec!["--exact".to_string(), id])
                    .collect(),
            };
            Ok((bench.clone(), selections))
        })
        .collect()
}

/// Profiles one regressed benchmark on both sides (each into its own Criterion folder,
/// `target/compare/profile-<side>`), then colours B's flamegraph by the change from A.
fn diff_flamegraph(
    work: &Path,
    row: &Row,
    sides: [&Built; 2],
    options: &Options,
    cancel: &Cancel,
) -> Result<(), CompareError> {
    let criterion = work.join("criterion");
    let bench_dir = row.b.dir.strip_prefix(&criterion).unwrap_or(&row.b.dir);
    let mut folded = vec![];
    for side in sides {
        let label = &side.side.label;
        eprintln!("compare: profiling {} for {label}", row.a.id);
        let home = work.join(format!("profile-{label}"));
        let args = [
            "--profile-time".to_string(),
            options.profile_time.to_string(),
            "--exact".into(),
            row.a.id.clone(),
        ];
        let limit = Duration::from_secs_f64(options.profile_time * 10.0 + 600.0);
        side.run(&row.a.group, &args, &home, Some(limit), cancel)?;
        folded.push(home.join(bench_dir).join("profile").join(FOLDED));
    }
    let (la, lb) = (&sides[0].side.label, &sides[1].side.label);
    let out = row.diff_flamegraph(la, lb);
    let title = format!("{}: {la} -> {lb}", row.a.id);
    crate::profile::differential(&folded[0], &folded[1], &title, &out)?;
    eprintln!("compare: differential flamegraph: {}", out.display());
    Ok(())
}

/// Removes every Criterion run folder named after one of `labels` under `criterion`, and
/// the sides' kept fingerprints.
fn forget(criterion: &Path, labels: &[String]) {
    fn visit(dir: &Path, labels: &[String]) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for path in entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
            let named = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| labels.iter().any(|l| baselines::is_round_of(n, l)));
            if named && path.join("benchmark.json").is_file() {
                let _ = std::fs::remove_dir_all(&path);
            } else {
                visit(&path, labels);
            }
        }
    }
    visit(criterion, labels);
    for label in labels {
        let _ = std::fs::remove_dir_all(criterion.join("aerobench").join(label));
    }
}
