//! `aerobench run` results compared metric by metric (`aerobench diff`): for TPS and the
//! latency percentiles, each side's mean, the change from A to B, a 95% interval of that
//! change, and a verdict. The interval is Welch's t interval on the difference of the two
//! means (the sides need not vary alike), divided by A's mean.
//!
//! With one run per side, the samples are the per-second windows: the only repeated
//! measurements a result holds. That interval shows the noise within each run, not the
//! drift between runs (a machine slower for the whole of one run moves every window of
//! it), so on a noisy machine an A/A pair gets false verdicts. With two runs or more per
//! side, each run's mean over its windows is one sample, so the interval holds the
//! spread between runs too, and CPU per op gets one as well.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::latency;
use crate::criterion_results::compare::Verdict;
use crate::criterion_results::student;
use crate::meta::Fingerprint;
use crate::workload::Access;

/// The verdict of a figure a run holds once (CPU per op): one value per side has no spread.
pub const NO_INTERVAL: &str = "no interval (one value per run)";
/// The knobs the heading names; the rest are printed only where the runs differ in them.
const SHORT_KNOBS: [&str; 10] = [
    "mode",
    "tasks",
    "threads",
    "workload",
    "keys",
    "keys_dist",
    "object",
    "batch_size",
    "rate",
    "duration_s",
];

/// Knobs results gained later, with the value every older result ran with, so an older
/// result still compares with a newer one that kept the default.
const ADDED_KNOBS: [(&str, &str); 3] = [
    ("namespace", "test"),
    ("set", "test"),
    ("keys_dist", "uniform"),
];

/// A per-second figure: its name, its unit, and how it is read from a window.
type Figure = (&'static str, Unit, fn(&Window) -> f64);

/// The figures compared over all calls.
const TOTALS: [Figure; 4] = [
    ("TPS", Unit::PerSecond, |w| w.tps),
    ("p50", Unit::Nanos, |w| w.latency_ns.p50 as f64),
    ("p99", Unit::Nanos, |w| w.latency_ns.p99 as f64),
    ("p99.9", Unit::Nanos, |w| w.latency_ns.p999 as f64),
];
/// The figures compared per kind of call: fewer, since each kind holds part of the calls.
const PER_KIND: [Figure; 2] = [
    ("TPS", Unit::PerSecond, |w| w.tps),
    ("p99", Unit::Nanos, |w| w.latency_ns.p99 as f64),
];

/// Why two files are not compared. Each message is one line naming the file or the
/// difference, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is a bare run's result (a count, no per-second windows): compare results of `aerobench run` without --bare",
        path.display()
    )]
    Bare { path: PathBuf },
    #[error("{} is not an `aerobench run` result: {reason}", path.display())]
    NotAResult { path: PathBuf, reason: String },
    #[error(
        "{} has {windows} per-second window(s) with calls, too few for an interval: run it with -d 2 or more",
        path.display()
    )]
    TooShort { path: PathBuf, windows: usize },
    #[error("{differences}: the runs are not comparable; pass --force to compare anyway")]
    NotComparable { differences: String },
    #[error(
        "{a} run(s) against {b}: give one run per side, or two or more on each side (A1 A2 --vs B1 B2)"
    )]
    Uneven { a: usize, b: usize },
}

/// What diff reads of a result file; the other fields are left unread.
#[derive(Deserialize)]
struct Run {
    fingerprint: Fingerprint,
    knobs: Map<String, Value>,
    outcome: Outcome,
    seconds: Vec<Window>,
}

#[derive(Deserialize)]
struct Outcome {
    cpu_ns_per_op: f64,
}

/// One per-second window, or one kind's part of it.
#[derive(Deserialize)]
struct Window {
    tps: f64,
    calls: u64,
    latency_ns: Percentiles,
    #[serde(default)]
    kinds: BTreeMap<String, Window>,
}

#[derive(Deserialize)]
struct Percentiles {
    p50: u64,
    p99: u64,
    p999: u64,
}

/// What a figure counts, which says how it is printed and which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Calls per second: higher is better.
    PerSecond,
    /// A time: lower is better.
    Nanos,
}

/// One metric of both runs.
#[derive(Debug, Clone)]
pub struct Row {
    pub metric: String,
    pub unit: Unit,
    /// A's mean over its windows (or its whole-run figure).
    pub a: f64,
    pub b: f64,
    /// (B − A) / A.
    pub change: f64,
    /// The 95% interval of `change`; `None` where each run holds one value.
    pub interval: Option<(f64, f64)>,
}

impl Row {
    /// Improved or regressed when the interval excludes no change, by the way the metric
    /// is better; `None` without an interval.
    pub fn verdict(&self) -> Option<Verdict> {
        let (low, high) = self.interval?;
        let (low, high) = match self.unit {
            Unit::PerSecond => (low, high),
            Unit::Nanos => (-high, -low),
        };
        Some(if low > 0.0 {
            Verdict::Improved
        } else if high < 0.0 {
            Verdict::Regressed
        } else {
            Verdict::WithinNoise
        })
    }

    pub fn verdict_text(&self) -> &'static str {
        self.verdict().map_or(NO_INTERVAL, Verdict::label)
    }

    fn cells(&self) -> [String; 6] {
        let value = |v: f64| match self.unit {
            Unit::PerSecond => format!("{v:.0}"),
            Unit::Nanos => latency(v.round() as u64),
        };
        let interval = self.interval.map_or("-".into(), |(low, high)| {
            format!("[{:+.2}%, {:+.2}%]", low * 100.0, high * 100.0)
        });
        [
            self.metric.clone(),
            value(self.a),
            value(self.b),
            format!("{:+.2}%", self.change * 100.0),
            interval,
            self.verdict_text().into(),
        ]
    }
}

/// Both runs compared.
#[derive(Debug, Clone)]
pub struct Diff {
    /// What is compared: both files, their fingerprints, the knobs.
    pub heading: String,
    /// With `--force`: what differs between the runs, so that the table is read with it.
    pub warning: Option<String>,
    pub rows: Vec<Row>,
}

impl Diff {
    /// The heading, the warning, and the table (Markdown, its columns aligned).
    pub fn render(&self) -> String {
        let mut out = format!("{}\n", self.heading);
        if let Some(warning) = &self.warning {
            out.push_str(&format!("warning: {warning}\n"));
        }
        let head = ["metric", "A", "B", "change", "95% interval", "verdict"].map(String::from);
        let rows: Vec<[String; 6]> = std::iter::once(head)
            .chain(self.rows.iter().map(Row::cells))
            .collect();
        out.push_str(&table(&rows));
        out
    }
}

/// Compares the results at `a` with those at `b` (one per side, or two or more on each).
/// Runs whose fingerprints or knobs differ from A's first are refused, since the change
/// would be that difference's; `force` compares them anyway, with a warning naming it.
pub fn compare(a: &[PathBuf], b: &[PathBuf], force: bool) -> Result<Diff, DiffError> {
    let even = (a.len() == 1 && b.len() == 1) || (a.len() >= 2 && b.len() >= 2);
    if !even {
        return Err(DiffError::Uneven {
            a: a.len(),
            b: b.len(),
        });
    }
    let load_all = |paths: &[PathBuf]| paths.iter().map(|p| load(p)).collect::<Result<Vec<_>, _>>();
    let (runs_a, runs_b) = (load_all(a)?, load_all(b)?);
    let mut found: Vec<String> = runs_a
        .iter()
        .chain(&runs_b)
        .skip(1)
        .map(|run| differences(&runs_a[0], run))
        .filter(|d| !d.is_empty())
        .collect();
    found.dedup();
    let differences = found.join("; ");
    if !differences.is_empty() && !force {
        return Err(DiffError::NotComparable { differences });
    }
    Ok(Diff {
        heading: heading(a, &runs_a[0], b, &runs_b[0]),
        warning: (!differences.is_empty())
            .then(|| format!("{differences}; compared anyway (--force)")),
        rows: rows(&runs_a, &runs_b),
    })
}

/// The run at `path`, with at least two windows that saw calls.
fn load(path: &Path) -> Result<Run, DiffError> {
    let bytes = std::fs::read(path).map_err(|source| DiffError::Unreadable {
        path: path.into(),
        source,
    })?;
    let not_a_result = |e: serde_json::Error| DiffError::NotAResult {
        path: path.into(),
        reason: e.to_string(),
    };
    let value: Value = serde_json::from_slice(&bytes).map_err(not_a_result)?;
    if value.get("bare").is_some() {
        return Err(DiffError::Bare { path: path.into() });
    }
    let mut run: Run = serde_json::from_value(value).map_err(not_a_result)?;
    for (name, value) in ADDED_KNOBS {
        run.knobs.entry(name).or_insert_with(|| value.into());
    }
    let windows = active(&run, None).len();
    if windows < 2 {
        return Err(DiffError::TooShort {
            path: path.into(),
            windows,
        });
    }
    Ok(run)
}

/// The windows of `run`, or of its `kind` of calls, that saw calls: one without (a stall,
/// a lost server) has no latency to show, and its zeros would read as the fastest second of
/// the run.
fn active<'a>(run: &'a Run, kind: Option<&str>) -> Vec<&'a Window> {
    run.seconds
        .iter()
        .filter_map(|w| match kind {
            None => Some(w),
            Some(kind) => w.kinds.get(kind),
        })
        .filter(|w| w.calls > 0)
        .collect()
}

/// What makes the runs incomparable, e.g. `fingerprints differ (nodes=1 vs nodes=3)`;
/// empty when nothing does.
fn differences(a: &Run, b: &Run) -> String {
    let fingerprint: Vec<String> = fields(&a.fingerprint.comparable_part())
        .into_iter()
        .zip(fields(&b.fingerprint.comparable_part()))
        .filter(|(x, y)| x != y)
        .map(|(x, y)| format!("{x} vs {y}"))
        .collect();
    let names: BTreeSet<&String> = a.knobs.keys().chain(b.knobs.keys()).collect();
    let knobs: Vec<String> = names
        .into_iter()
        .filter(|name| a.knobs.get(*name) != b.knobs.get(*name))
        .map(|name| {
            let show = |knobs: &Map<String, Value>| knobs.get(name).map_or("(absent)".into(), knob);
            format!("{name}={} vs {name}={}", show(&a.knobs), show(&b.knobs))
        })
        .collect();
    [("fingerprints", fingerprint), ("knobs", knobs)]
        .into_iter()
        .filter(|(_, found)| !found.is_empty())
        .map(|(part, found)| format!("{part} differ ({})", found.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// [`Fingerprint::comparable_part`]'s `name=value` fields, a value's own spaces (a server's
/// description may hold some) kept with it.
fn fields(part: &str) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for word in part.split(' ') {
        let starts_field = word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|c| c.is_ascii_lowercase())
        });
        match fields.last_mut() {
            Some(field) if !starts_field => {
                field.push(' ');
                field.push_str(word);
            }
            _ => fields.push(word.into()),
        }
    }
    fields
}

/// A knob's value as typed on the command line: strings without quotes.
fn knob(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `A: <file> (target=… nodes=… commit=…) vs B: <file> (…); knobs: …`, with each side's
/// knobs where they differ, and how the interval was drawn.
fn heading(a: &[PathBuf], run_a: &Run, b: &[PathBuf], run_b: &Run) -> String {
    let side = |paths: &[PathBuf], run: &Run| {
        let f = &run.fingerprint;
        let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        format!(
            "{} (target={} nodes={} commit={})",
            files.join(" "),
            f.target,
            f.nodes,
            f.commit
        )
    };
    let samples = match a.len() {
        1 => {
            "interval from each run's per-second windows: noise within the runs only; give \
              two runs or more per side (--vs) to include the drift between runs"
        }
        _ => "interval from the spread between runs, each run's mean one sample",
    };
    let (knobs_a, knobs_b) = (short_knobs(&run_a.knobs), short_knobs(&run_b.knobs));
    let knobs = match knobs_a == knobs_b {
        true => knobs_a,
        false => format!("A {knobs_a}; B {knobs_b}"),
    };
    format!(
        "A: {} vs B: {}; knobs: {knobs}\n{samples}",
        side(a, run_a),
        side(b, run_b)
    )
}

/// The [`SHORT_KNOBS`] a run set, as `name=value` words.
fn short_knobs(knobs: &Map<String, Value>) -> String {
    SHORT_KNOBS
        .into_iter()
        .filter_map(|name| {
            knobs
                .get(name)
                .filter(|v| !v.is_null())
                .map(|v| format!("{name}={}", knob(v)))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The totals, each kind both sides had in two samples or more, and CPU per op.
fn rows(a: &[Run], b: &[Run]) -> Vec<Row> {
    let mut rows: Vec<Row> = TOTALS
        .iter()
        .map(|&(name, unit, value)| {
            let (sa, sb) = (samples(a, None, value), samples(b, None, value));
            welch(name.into(), unit, &sa, &sb)
        })
        .collect();
    for kind in Access::ALL.map(Access::name) {
        for &(name, unit, value) in &PER_KIND {
            let (sa, sb) = (samples(a, Some(kind), value), samples(b, Some(kind), value));
            if sa.len() >= 2 && sb.len() >= 2 {
                rows.push(welch(format!("{kind} {name}"), unit, &sa, &sb));
            }
        }
    }
    let cpu = |runs: &[Run]| -> Vec<f64> { runs.iter().map(|r| r.outcome.cpu_ns_per_op).collect() };
    let (cpu_a, cpu_b) = (cpu(a), cpu(b));
    rows.push(match a.len() {
        1 => Row {
            metric: "CPU per op".into(),
            unit: Unit::Nanos,
            a: cpu_a[0],
            b: cpu_b[0],
            change: (cpu_b[0] - cpu_a[0]) / cpu_a[0],
            interval: None,
        },
        _ => welch("CPU per op".into(), Unit::Nanos, &cpu_a, &cpu_b),
    });
    rows
}

/// The samples of `value` on one side: one run's windows with calls, or each run's mean
/// over them when the side has several runs (runs without two such windows left out).
fn samples(runs: &[Run], kind: Option<&str>, value: fn(&Window) -> f64) -> Vec<f64> {
    let of = |run: &Run| -> Vec<f64> { active(run, kind).iter().map(|w| value(w)).collect() };
    match runs {
        [run] => of(run),
        _ => runs
            .iter()
            .map(of)
            .filter(|xs| xs.len() >= 2)
            .map(|xs| xs.iter().sum::<f64>() / xs.len() as f64)
            .collect(),
    }
}

/// The row of a metric from both sides' samples (two or more each): the means, their
/// relative change, and Welch's 95% t interval of the difference of the means, with the
/// Welch–Satterthwaite degrees of freedom, relative to A's mean.
fn welch(metric: String, unit: Unit, a: &[f64], b: &[f64]) -> Row {
    let ((mean_a, var_a), (mean_b, var_b)) = (mean_and_variance(a), mean_and_variance(b));
    let se2 = var_a + var_b;
    let half = match se2 > 0.0 {
        true => {
            let df = se2.powi(2)
                / (var_a.powi(2) / (a.len() - 1) as f64 + var_b.powi(2) / (b.len() - 1) as f64);
            student::quantile(0.975, df) * se2.sqrt()
        }
        false => 0.0,
    };
    let difference = mean_b - mean_a;
    Row {
        metric,
        unit,
        a: mean_a,
        b: mean_b,
        change: difference / mean_a,
        interval: Some(((difference - half) / mean_a, (difference + half) / mean_a)),
    }
}

/// The mean of `xs` (two or more) and the variance of that mean (sample variance / n).
fn mean_and_variance(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let variance = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, variance / n)
}

/// `rows` as a Markdown table, each column as wide as its widest cell; the numbers
/// right-aligned.
fn table(rows: &[[String; 6]]) -> String {
    const RIGHT: [bool; 6] = [false, true, true, true, false, false];
    let mut widths = [0; 6];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        out.push_str(&line(
            (0..6)
                .map(|c| match RIGHT[c] {
                    true => format!("{:>w$}", row[c], w = widths[c]),
                    false => format!("{:<w$}", row[c], w = widths[c]),
                })
                .collect(),
        ));
        if i == 0 {
            out.push_str(&line(
                (0..6)
                    .map(|c| match RIGHT[c] {
                        true => format!("{}:", "-".repeat(widths[c] - 1)),
                        false => "-".repeat(widths[c]),
                    })
                    .collect(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A per-second window of `tps` calls per second and a p99 of `p99_us`, its reads and
    /// writes alike.
    fn window(tps: f64, p99_us: u64) -> Value {
        let figures = |tps: f64| {
            json!({
                "seconds": 1.0, "tps": tps, "ops": tps as u64, "calls": tps as u64,
                "latency_ns": { "p50": p99_us * 400, "p90": p99_us * 700, "p99": p99_us * 1000,
                                "p999": p99_us * 3000, "max": p99_us * 5000 },
            })
        };
        let mut total = figures(tps);
        total["kinds"] = json!({ "read": figures(tps / 2.0), "write": figures(tps / 2.0) });
        total
    }

    /// A run result of `windows` (TPS, p99 in µs) against `nodes` nodes with `tasks` tasks.
    fn result(windows: &[(f64, u64)], nodes: usize, tasks: usize) -> Value {
        json!({
            "fingerprint": {
                "target": "embedded", "nodes": nodes, "hosts": ["127.0.0.1:3000"],
                "network": "loopback", "server": "aerobench-server/7.2.0.0", "client": "3.0.0",
                "commit": "abc", "machine": "vm/2c/x", "cpus": "shared",
            },
            "knobs": { "mode": "async", "tasks": tasks, "workload": "RU,50", "keys": 1000,
                       "duration_s": 5.0, "rate": null },
            "outcome": { "tps": 1000.0, "cpu_ns_per_op": 40_000.0 },
            "seconds": windows.iter().map(|&(tps, p99)| window(tps, p99)).collect::<Vec<_>>(),
        })
    }

    /// Writes `a` and `b` to a directory of this test's and compares them.
    fn diff(name: &str, a: &Value, b: &Value, force: bool) -> Result<Diff, DiffError> {
        let (pa, pb) = (write(name, "a.json", a), write(name, "b.json", b));
        compare(&[pa], &[pb], force)
    }

    fn write(test: &str, file: &str, content: &Value) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("aerobench-diff-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(file);
        std::fs::write(&path, content.to_string()).unwrap();
        path
    }

    fn row<'a>(diff: &'a Diff, metric: &str) -> &'a Row {
        diff.rows.iter().find(|r| r.metric == metric).expect(metric)
    }

    const STEADY: [(f64, u64); 5] = [
        (1000.0, 100),
        (1020.0, 104),
        (990.0, 98),
        (1010.0, 103),
        (995.0, 99),
    ];

    #[test]
    fn an_a_a_pair_is_within_noise_everywhere() {
        let mut with_a_stall = STEADY.to_vec();
        with_a_stall.push((0.0, 0));
        let mut b = STEADY;
        b.reverse();
        let diff = diff(
            "aa",
            &result(&with_a_stall, 1, 16),
            &result(&b, 1, 16),
            false,
        )
        .unwrap();
        let metrics: Vec<&str> = diff.rows.iter().map(|r| r.metric.as_str()).collect();
        assert_eq!(
            metrics,
            [
                "TPS",
                "p50",
                "p99",
                "p99.9",
                "read TPS",
                "read p99",
                "write TPS",
                "write p99",
                "CPU per op"
            ]
        );
        for row in &diff.rows[..8] {
            assert_eq!(row.verdict(), Some(Verdict::WithinNoise), "{row:?}");
        }
        assert_eq!(diff.rows[8].verdict_text(), NO_INTERVAL);
        assert_eq!(
            row(&diff, "TPS").a,
            1003.0,
            "the window without calls is skipped"
        );
        assert!(diff.warning.is_none());
        assert!(
            diff.heading.contains("nodes=1 commit=abc"),
            "{}",
            diff.heading
        );
    }

    #[test]
    fn higher_latency_in_every_window_regresses_and_higher_tps_improves() {
        let slower = STEADY.map(|(tps, p99)| (tps * 1.2, p99 * 2));
        let diff = diff(
            "slower",
            &result(&STEADY, 1, 16),
            &result(&slower, 1, 16),
            false,
        )
        .unwrap();
        for metric in ["p99", "p99.9", "read p99", "write p99"] {
            assert_eq!(
                row(&diff, metric).verdict(),
                Some(Verdict::Regressed),
                "{metric}"
            );
        }
        let tps = row(&diff, "TPS");
        assert_eq!(tps.verdict(), Some(Verdict::Improved));
        let (low, high) = tps.interval.unwrap();
        assert!(low < 0.2 && 0.2 < high, "{tps:?}");
        assert!(diff.render().contains("| p99 "), "{}", diff.render());
    }

    /// A `--verify` run's result holds a `verify` block and the `verify` knob: two of them
    /// compare; against a run without, the knob refuses them unless forced.
    #[test]
    fn verified_runs_compare_with_each_other_and_with_force() {
        let mut verified = result(&STEADY, 1, 4);
        verified["knobs"]["verify"] = true.into();
        verified["verify"] = json!({ "keys_checked": 1000, "lost_writes": 0, "stale_reads": 0,
                                     "unexpected": 0, "unverified": 0 });
        assert!(diff("verified", &verified, &verified, false).is_ok());
        let plain = result(&STEADY, 1, 4);
        let refused = diff("verified-plain", &plain, &verified, false).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("verify=(absent) vs verify=true"),
            "{refused}"
        );
        assert!(diff("verified-plain", &verified, &plain, true).is_ok());
    }

    #[test]
    fn differing_runs_are_refused_unless_forced() {
        let a = result(&STEADY, 1, 16);
        for (b, named) in [
            (
                result(&STEADY, 3, 16),
                "fingerprints differ (nodes=1 vs nodes=3)",
            ),
            (
                result(&STEADY, 1, 32),
                "knobs differ (tasks=16 vs tasks=32)",
            ),
        ] {
            let refused = diff("differ", &a, &b, false).unwrap_err().to_string();
            assert!(
                refused.starts_with(named) && refused.contains("--force"),
                "{refused}"
            );
            let forced = diff("differ", &a, &b, true).unwrap();
            assert!(forced.warning.unwrap().starts_with(named));
        }
    }

    /// Object lists and key distributions tell runs apart; a result from before the key
    /// distribution, namespace and set were knobs ran with their defaults.
    #[test]
    fn workload_vocabulary_knobs_tell_runs_apart() {
        let with = |knobs: Value| {
            let mut run = result(&STEADY, 1, 16);
            for (name, value) in knobs.as_object().unwrap() {
                run["knobs"][name] = value.clone();
            }
            run
        };
        let old = result(&STEADY, 1, 16);
        let new = with(json!({ "namespace": "test", "set": "test", "keys_dist": "uniform" }));
        assert!(diff("vocabulary", &old, &new, false).is_ok());
        for (a, b, named) in [
            (
                with(json!({ "object": "I8" })),
                with(json!({ "object": "I8,S100" })),
                "knobs differ (object=I8 vs object=I8,S100)",
            ),
            (
                old.clone(),
                with(json!({ "keys_dist": "zipf,0.99" })),
                "knobs differ (keys_dist=uniform vs keys_dist=zipf,0.99)",
            ),
            (
                old.clone(),
                with(json!({ "set": "other" })),
                "knobs differ (set=test vs set=other)",
            ),
        ] {
            let refused = diff("vocabulary", &a, &b, false).unwrap_err().to_string();
            assert!(refused.starts_with(named), "{refused}");
        }
    }

    /// Two runs per side, A's second and B's first 10% slower throughout: the windows of
    /// A's first run against B's first call that a regression, the spread between runs
    /// does not.
    #[test]
    fn several_runs_per_side_take_in_the_drift_between_runs() {
        let slow = STEADY.map(|(tps, p99)| (tps * 0.9, p99 * 11 / 10));
        let files = [
            write("drift", "a1.json", &result(&STEADY, 1, 16)),
            write("drift", "a2.json", &result(&slow, 1, 16)),
            write("drift", "b1.json", &result(&slow, 1, 16)),
            write("drift", "b2.json", &result(&STEADY, 1, 16)),
        ];
        let single = compare(&files[..1], &files[2..3], false).unwrap();
        assert_eq!(row(&single, "TPS").verdict(), Some(Verdict::Regressed));
        assert!(single.heading.contains("noise within the runs only"));
        let runs = compare(&files[..2], &files[2..], false).unwrap();
        for row in &runs.rows {
            assert_eq!(row.verdict(), Some(Verdict::WithinNoise), "{row:?}");
        }
        assert!(runs.heading.contains("spread between runs"));
        let uneven = compare(&files[..1], &files[2..], false).unwrap_err();
        assert!(
            uneven.to_string().contains("two or more on each side"),
            "{uneven}"
        );
    }

    #[test]
    fn bad_files_get_a_one_line_error() {
        let one = result(&STEADY[..1], 1, 16);
        let bare = json!({ "fingerprint": {}, "knobs": {}, "bare": { "tps": 1.0 } });
        for (name, content, says) in [
            (
                "one",
                one,
                "1 per-second window(s) with calls, too few for an interval: run it with -d 2",
            ),
            ("bare", bare, "is a bare run's result"),
            (
                "other",
                json!({ "seconds": [] }),
                "is not an `aerobench run` result: missing field",
            ),
        ] {
            let path = write("bad", name, &content);
            let good = write("bad", "good.json", &result(&STEADY, 1, 16));
            let message = compare(&[good], std::slice::from_ref(&path), false)
                .unwrap_err()
                .to_string();
            assert!(
                message.contains(says) && message.contains(&*path.to_string_lossy()),
                "{message}"
            );
            assert!(!message.contains('\n'));
        }
        let missing = PathBuf::from("/nonexistent/a.json");
        let missing = std::slice::from_ref(&missing);
        let message = compare(missing, missing, false).unwrap_err().to_string();
        assert!(
            message.starts_with("cannot read /nonexistent/a.json: "),
            "{message}"
        );
    }
}
