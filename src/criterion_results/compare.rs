//! Two saved baselines compared benchmark by benchmark: the relative change of each
//! benchmark's median time with a confidence interval, the smallest change the runs could
//! have detected, and a verdict by Criterion's own rule.
//!
//! Criterion compares a run with one baseline, but `--baseline` cannot be combined with
//! `--save-baseline`, and interleaved runs of two commits need both saved. So the change is
//! computed here from the baselines' raw samples (`sample.json`). A baseline may hold several
//! rounds (`label`, `label@2`, …, each a process of its own run alternately with the other
//! side's); the interval then comes from how the rounds' ratios of medians disagree (see
//! [`changes`]), and it is wide enough to hold for every benchmark of the table at once. The
//! verdict applies Criterion's threshold rule: a change counts only when the whole interval
//! lies beyond ±1% noise.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Deserialize;

use super::{BenchResult, Estimate, Interval, format_ns, load, student};

/// Criterion's default noise threshold.
pub const NOISE: f64 = 0.01;
/// Resamples of the within-run bootstrap (one round, where no rounds show the drift).
const RESAMPLES: usize = 4_000;
/// The chance that a comparison calls a change anywhere among its benchmarks when there is
/// none: each interval is widened (Bonferroni) so that all of them together hold at 95%.
/// At 95% each, a table of 85 benchmarks would show four verdicts for nothing.
pub const FAMILY_ERROR: f64 = 0.05;
/// The z of 80% power: a true change of the minimum detectable size gets a verdict in four
/// comparisons out of five.
pub const POWER_Z: f64 = 0.84;

/// The smallest change each group is meant to resolve (issue 14's goal): 2% where only
/// CPU work is timed, 5% where a socket or a server is in the loop.
pub fn mdc_goal(group: &str) -> f64 {
    match group {
        "key" | "rng" | "timer" => 0.02,
        _ => 0.05,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Improved,
    Regressed,
    WithinNoise,
}

impl Verdict {
    pub fn of(change: &Estimate) -> Verdict {
        let Interval {
            lower_bound,
            upper_bound,
        } = change.confidence_interval;
        if upper_bound < -NOISE {
            Verdict::Improved
        } else if lower_bound > NOISE {
            Verdict::Regressed
        } else {
            Verdict::WithinNoise
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Regressed => "regressed",
            Verdict::WithinNoise => "within noise",
        }
    }
}

/// One benchmark in both baselines.
#[derive(Debug, Clone)]
pub struct Row {
    pub a: BenchResult,
    pub b: BenchResult,
    /// Each side's [`centre`] (ns per iteration), averaged over its rounds.
    pub a_ns: f64,
    pub b_ns: f64,
    /// How many paired rounds the change is estimated from.
    pub rounds: usize,
    /// Relative change of the centre from A to B (0.05 = 5% slower).
    pub change: Estimate,
    pub verdict: Verdict,
    /// The smallest relative change these two runs' spreads and sample counts could have
    /// flagged (see [`Change::mdc`]).
    pub mdc: f64,
}

impl Row {
    /// The verdict, with what "within noise" rules out: no change beyond the interval's
    /// farther bound.
    pub fn verdict_text(&self) -> String {
        let ci = self.change.confidence_interval;
        match self.verdict {
            Verdict::WithinNoise => format!(
                "within noise (no change > {:.1}%)",
                ci.lower_bound.abs().max(ci.upper_bound.abs()) * 100.0
            ),
            v => v.label().into(),
        }
    }

    /// The MDC, flagged when it misses the group's goal.
    pub fn mdc_text(&self) -> String {
        mdc_text(self.mdc, &self.a.group)
    }

    /// Where the differential flamegraph of this benchmark from `a` to `b` is drawn: beside
    /// B's own profile, so Criterion's page and the report find it.
    pub fn diff_flamegraph(&self, a: &str, b: &str) -> PathBuf {
        self.b.dir.join("profile").join(format!("diff-{a}-{b}.svg"))
    }
}

/// No benchmark holds both baselines: nothing to compare.
#[derive(Debug, thiserror::Error)]
#[error(
    "no benchmark has both baselines {a} and {b} under {}: save them with `cargo bench -- --save-baseline <name>`",
    root.display()
)]
pub struct NoCommonBaselines {
    pub root: PathBuf,
    pub a: String,
    pub b: String,
}

#[derive(Deserialize)]
struct Sample {
    iters: Vec<f64>,
    times: Vec<f64>,
}

/// Per-iteration times of one run (`<bench dir>/<run>/sample.json`).
fn per_iteration_times(result: &BenchResult, run: &str) -> Option<Vec<f64>> {
    let text = std::fs::read_to_string(result.dir.join(run).join("sample.json")).ok()?;
    let sample: Sample = serde_json::from_str(&text).ok()?;
    Some(
        sample
            .times
            .iter()
            .zip(&sample.iters)
            .map(|(t, i)| t / i)
            .collect(),
    )
}

/// The name of round `round` (from 1) of baseline `label`: the label itself, then
/// `label@2`, `label@3`, … (what `aerobench compare --rounds` saves).
pub fn round_name(label: &str, round: usize) -> String {
    match round {
        1 => label.to_string(),
        n => format!("{label}@{n}"),
    }
}

/// Whether run folder `name` is a round of baseline `label`.
pub fn is_round_of(name: &str, label: &str) -> bool {
    name == label
        || name
            .strip_prefix(label)
            .and_then(|rest| rest.strip_prefix('@'))
            .is_some_and(|n| n.parse::<usize>().is_ok())
}

/// The per-iteration times of every saved round of `label`, in round order.
fn rounds(result: &BenchResult, label: &str) -> Vec<Vec<f64>> {
    (1..)
        .map_while(|round| per_iteration_times(result, &round_name(label, round)))
        .collect()
}

/// The centre of one run: the median of its per-iteration sample times. Criterion reports
/// the mean (and a slope); on a shared machine one preempted sample in thirty moves the mean
/// by percents and leaves the median where it was, so comparisons and the MDC use the
/// median.
pub fn centre(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The centre of a side: the mean over its rounds of each round's [`centre`].
fn side_centre(rounds: &[Vec<f64>]) -> f64 {
    rounds.iter().map(|r| centre(r)).sum::<f64>() / rounds.len().max(1) as f64
}

/// One benchmark's rounds, reduced to what its interval needs.
struct Paired {
    /// `ln(centre(B) / centre(A))` of each round.
    logs: Vec<f64>,
    /// With one round: the bootstrap variance of that log ratio and its degrees of freedom
    /// (the samples'); drift between processes is then not seen.
    within: Option<(f64, f64)>,
}

impl Paired {
    fn new(a: &[Vec<f64>], b: &[Vec<f64>]) -> Paired {
        let logs: Vec<f64> = a
            .iter()
            .zip(b)
            .map(|(a, b)| (centre(b) / centre(a)).ln())
            .collect();
        let within = (logs.len() == 1).then(|| {
            let df = (a[0].len() + b[0].len()).saturating_sub(2).max(1) as f64;
            (bootstrap_variance(&a[0], &b[0]), df)
        });
        Paired { logs, within }
    }

    fn rounds(&self) -> usize {
        self.logs.len()
    }

    fn mean(&self) -> f64 {
        self.logs.iter().sum::<f64>() / self.logs.len() as f64
    }

    /// The sample variance of the rounds' log ratios (none with one round).
    fn between(&self) -> Option<f64> {
        let n = self.logs.len();
        (n >= 2).then(|| {
            let m = self.mean();
            self.logs.iter().map(|l| (l - m).powi(2)).sum::<f64>() / (n - 1) as f64
        })
    }
}

/// The variance of `ln(median(B*) / median(A*))` over resamples of `a` and `b`.
fn bootstrap_variance(a: &[f64], b: &[f64]) -> f64 {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5eed);
    let mut buffer = Vec::new();
    let mut resample = |values: &[f64], rng: &mut Xoshiro256PlusPlus| -> f64 {
        buffer.clear();
        buffer.extend((0..values.len()).map(|_| values[rng.random_range(0..values.len())]));
        centre(&buffer)
    };
    let logs: Vec<f64> = (0..RESAMPLES)
        .map(|_| (resample(b, &mut rng) / resample(a, &mut rng)).ln())
        .collect();
    let mean = logs.iter().sum::<f64>() / RESAMPLES as f64;
    logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (RESAMPLES - 1) as f64
}

/// The change from A to B with its interval, and the smallest change it could have seen.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub estimate: Estimate,
    /// Minimum detectable change: the slowdown whose log ratio exceeds the noise
    /// threshold's by the interval's half-width plus [`POWER_Z`] standard errors. A smaller
    /// true change usually ends "within noise"; that verdict says nothing about it.
    pub mdc: f64,
}

/// The changes of benchmarks compared together (`paired`, with each one's group): a
/// t interval on the mean of the rounds' log ratios, at a level that holds for all of them
/// at once. A process (one round of one side) is the unit: samples within it share its
/// state (where its threads ran, what else ran), and processes differ by more than their
/// samples spread, so with two rounds or more the variance is the rounds' own, never taken
/// below the mean of its group's (whose processes share the machine's drift and the kind of
/// work) nor below the table's median (a group of two rows whose rounds happened to agree
/// would otherwise vouch for itself), with the degrees of freedom of every round of the
/// table. With one round it is the
/// samples' bootstrap variance, which cannot see the drift between processes.
fn changes(paired: &[(&str, Paired)]) -> Vec<Change> {
    let level = 1.0 - FAMILY_ERROR / (2.0 * paired.len().max(1) as f64);
    let between: Vec<(&str, f64)> = paired
        .iter()
        .filter_map(|(g, p)| Some((*g, p.between()?)))
        .collect();
    let table = centre(&between.iter().map(|(_, v)| *v).collect::<Vec<_>>());
    let pooled = |group: &str| -> f64 {
        let members: Vec<f64> = between
            .iter()
            .filter(|(g, _)| *g == group)
            .map(|(_, v)| *v)
            .collect();
        let mean = members.iter().sum::<f64>() / members.len().max(1) as f64;
        mean.max(table)
    };
    let df: f64 = paired
        .iter()
        .map(|(_, p)| p.rounds().saturating_sub(1) as f64)
        .sum();
    paired
        .iter()
        .map(|(group, p)| {
            let (variance, df) = match (p.between(), p.within) {
                (Some(own), _) => (own.max(pooled(group)) / p.rounds() as f64, df),
                (None, Some(within)) => within,
                (None, None) => (0.0, 1.0),
            };
            let se = variance.sqrt();
            let q = student::quantile(level, df);
            let (mean, half) = (p.mean(), q * se);
            Change {
                estimate: Estimate {
                    point_estimate: mean.exp() - 1.0,
                    confidence_interval: Interval {
                        lower_bound: (mean - half).exp() - 1.0,
                        upper_bound: (mean + half).exp() - 1.0,
                    },
                },
                // The interval is symmetric in log ratio: a slowdown of this size puts its
                // lower bound beyond +1% four times in five.
                mdc: (1.0 + NOISE) * ((q + POWER_Z) * se).exp() - 1.0,
            }
        })
        .collect()
}

/// The change from A's rounds to B's, for one benchmark compared alone.
pub fn relative_change(a: &[Vec<f64>], b: &[Vec<f64>]) -> Change {
    changes(&[("", Paired::new(a, b))])[0]
}

/// The minimum detectable change of a compare of run `run` of `result` with another run
/// as spread as itself, from this run's samples alone.
pub fn run_mdc(result: &BenchResult, run: &str) -> Option<f64> {
    let times = vec![per_iteration_times(result, run)?];
    Some(relative_change(&times, &times).mdc)
}

/// `2.3%`, or `7.1% ⚠ goal 5%` when above the group's goal.
pub fn mdc_text(mdc: f64, group: &str) -> String {
    let goal = mdc_goal(group);
    match mdc > goal {
        true => format!("{:.1}% ⚠ goal {:.0}%", mdc * 100.0, goal * 100.0),
        false => format!("{:.1}%", mdc * 100.0),
    }
}

/// A benchmark found in both baselines, with each side's rounds of per-iteration times
/// (as many rounds on each side).
struct Found {
    a: BenchResult,
    b: BenchResult,
    a_rounds: Vec<Vec<f64>>,
    b_rounds: Vec<Vec<f64>>,
}

/// Compares every benchmark present in both baselines `a` and `b` under `root`.
pub fn compare(root: &Path, a: &str, b: &str) -> Vec<Row> {
    let b_results = load(root, b);
    let found: Vec<Found> = load(root, a)
        .into_iter()
        .filter_map(|ra| {
            let rb = b_results.iter().find(|r| r.id == ra.id)?.clone();
            let (mut a_rounds, mut b_rounds) = (rounds(&ra, a), rounds(&rb, b));
            let paired = a_rounds.len().min(b_rounds.len());
            a_rounds.truncate(paired);
            b_rounds.truncate(paired);
            (paired > 0).then_some(Found {
                a: ra,
                b: rb,
                a_rounds,
                b_rounds,
            })
        })
        .collect();
    let paired: Vec<(&str, Paired)> = found
        .iter()
        .map(|f| (f.a.group.as_str(), Paired::new(&f.a_rounds, &f.b_rounds)))
        .collect();
    let changes = changes(&paired);
    found
        .into_iter()
        .zip(changes)
        .map(|(f, change)| Row {
            verdict: Verdict::of(&change.estimate),
            mdc: change.mdc,
            a_ns: side_centre(&f.a_rounds),
            b_ns: side_centre(&f.b_rounds),
            rounds: f.a_rounds.len(),
            change: change.estimate,
            a: f.a,
            b: f.b,
        })
        .collect()
}

/// Like [`compare`], but an empty comparison is an error: a caller that saved both baselines
/// expects rows, and an empty table would hide that the runs saved nothing.
pub fn compare_saved(root: &Path, a: &str, b: &str) -> Result<Vec<Row>, NoCommonBaselines> {
    let rows = compare(root, a, b);
    if rows.is_empty() {
        return Err(NoCommonBaselines {
            root: root.into(),
            a: a.into(),
            b: b.into(),
        });
    }
    Ok(rows)
}

/// The comparison as a Markdown table.
pub fn render(rows: &[Row], a: &str, b: &str) -> String {
    let mut out = format!(
        "| benchmark | {a} (median) | {b} (median) | change | 95% CI | verdict | smallest detectable | rounds |\n\
         |---|---:|---:|---:|---|---|---:|---:|\n"
    );
    for row in rows {
        let ci = row.change.confidence_interval;
        out.push_str(&format!(
            "| {} | {} | {} | {:+.2}% | [{:+.2}%, {:+.2}%] | {} | {} | {} |\n",
            row.a.id,
            format_ns(row.a_ns),
            format_ns(row.b_ns),
            row.change.point_estimate * 100.0,
            ci.lower_bound * 100.0,
            ci.upper_bound * 100.0,
            row.verdict_text(),
            row.mdc_text(),
            row.rounds,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(values: &[f64]) -> Vec<Vec<f64>> {
        vec![values.to_vec()]
    }

    #[test]
    fn bootstrap_brackets_the_true_change() {
        let a: Vec<f64> = (0..50).map(|i| 100.0 + (i % 5) as f64).collect();
        let b: Vec<f64> = a.iter().map(|v| v * 1.2).collect();
        let change = relative_change(&one(&a), &one(&b)).estimate;
        assert!((change.point_estimate - 0.2).abs() < 1e-9);
        let ci = change.confidence_interval;
        assert!(ci.lower_bound < 0.2 + 1e-9 && ci.upper_bound > 0.2 - 1e-9);
        assert_eq!(Verdict::of(&change), Verdict::Regressed);
        let back = relative_change(&one(&b), &one(&a)).estimate;
        assert_eq!(Verdict::of(&back), Verdict::Improved);
        let same = relative_change(&one(&a), &one(&a)).estimate;
        assert_eq!(Verdict::of(&same), Verdict::WithinNoise);
    }

    /// A few stalled samples move the mean by a quarter and the median not at all.
    #[test]
    fn stalled_samples_do_not_move_the_centre() {
        let a: Vec<f64> = (0..30).map(|i| 100.0 + (i % 3) as f64).collect();
        let mut b = a.clone();
        b[3] = 1_000.0;
        b[17] = 1_500.0;
        let change = relative_change(&one(&a), &one(&b)).estimate;
        assert!(change.point_estimate.abs() < 0.01, "{change:?}");
        assert_eq!(Verdict::of(&change), Verdict::WithinNoise);
    }

    /// The machine was 10% slower while B ran in round 1 and while A ran in round 2 (A B,
    /// then B A): round 1 alone would call it a regression; both rounds together see the
    /// drift as spread.
    #[test]
    fn drift_between_rounds_is_not_a_change() {
        let fast: Vec<f64> = (0..30).map(|i| 100.0 + (i % 3) as f64).collect();
        let slow: Vec<f64> = fast.iter().map(|v| v * 1.1).collect();
        let first = relative_change(&one(&fast), &one(&slow)).estimate;
        assert_eq!(Verdict::of(&first), Verdict::Regressed);
        let a = vec![fast.clone(), slow.clone()];
        let b = vec![slow.clone(), fast.clone()];
        let paired = relative_change(&a, &b);
        assert_eq!(Verdict::of(&paired.estimate), Verdict::WithinNoise);
        // The rounds show in the spread: wider than either round's own.
        assert!(paired.mdc > relative_change(&one(&fast), &one(&fast)).mdc);
    }

    /// The MDC grows with the spread, shrinks with the sample count, and never falls
    /// below the noise threshold.
    #[test]
    fn minimum_detectable_change_follows_spread_and_samples() {
        let spread = |n: usize, width: f64| -> Vec<Vec<f64>> {
            one(&(0..n)
                .map(|i| 100.0 + width * ((i * 7 % 11) as f64 / 10.0 - 0.5))
                .collect::<Vec<_>>())
        };
        let mdc = |v: &Vec<Vec<f64>>| relative_change(v, v).mdc;
        let flat = one(&[100.0; 10]);
        assert!((mdc(&flat) - NOISE).abs() < 1e-12);
        let (narrow, wide) = (spread(11, 2.0), spread(11, 20.0));
        assert!(mdc(&wide) > mdc(&narrow));
        assert!(mdc(&spread(1100, 20.0)) < mdc(&wide));
    }

    /// Two rows of a small group whose two rounds happened to agree on +10% are no verdict
    /// in a table whose processes differ by ±20%: their variance is floored at the table's.
    #[test]
    fn a_small_group_does_not_vouch_for_itself() {
        let run = |log: f64| -> Vec<f64> { vec![100.0 * log.exp(); 30] };
        let pair = |first: f64, second: f64| -> Paired {
            Paired::new(&[run(0.0), run(0.0)], &[run(first), run(second)])
        };
        let mut table: Vec<(&str, Paired)> = (0..20)
            .map(|i| {
                let swing = 0.1 + 0.1 * (i % 2) as f64;
                ("noisy", pair(swing, -swing))
            })
            .collect();
        table.extend((0..2).map(|_| ("small", pair(0.1, 0.0995))));
        let small = changes(&table)[20];
        assert_eq!(
            Verdict::of(&small.estimate),
            Verdict::WithinNoise,
            "{small:?}"
        );
        // Alone, the same two rows would have called it.
        let alone = changes(&table[20..])[0];
        assert_eq!(
            Verdict::of(&alone.estimate),
            Verdict::Regressed,
            "{alone:?}"
        );
    }

    #[test]
    fn rounds_are_named_after_their_baseline() {
        assert_eq!(round_name("a-1234", 1), "a-1234");
        assert_eq!(round_name("a-1234", 3), "a-1234@3");
        assert!(is_round_of("a-1234@3", "a-1234") && is_round_of("a-1234", "a-1234"));
        assert!(!is_round_of("a-12345", "a-1234") && !is_round_of("a-1234@x", "a-1234"));
    }
}
