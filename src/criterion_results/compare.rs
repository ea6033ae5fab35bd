//! Two saved baselines compared benchmark by benchmark: the relative change of each
//! benchmark's median time with a bootstrap confidence interval, the smallest change the
//! runs could have detected, and a verdict by Criterion's own rule.
//!
//! Criterion compares a run with one baseline, but `--baseline` cannot be combined with
//! `--save-baseline`, and interleaved runs of two commits need both saved. So the change is
//! computed here from the baselines' raw samples (`sample.json`): resample, take the ratio
//! of medians, read the 2.5th and 97.5th percentiles. A baseline may hold several rounds
//! (`label`, `label@2`, …, run alternately with the other side's), and then the resampling
//! draws rounds too, so drift between rounds widens the interval instead of passing for a
//! change. The verdict applies Criterion's threshold rule: a change counts only when the
//! whole interval lies beyond ±1% noise.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Deserialize;

use super::{BenchResult, Estimate, Interval, format_ns, load};

/// Criterion's default noise threshold.
pub const NOISE: f64 = 0.01;
const RESAMPLES: usize = 10_000;
/// A two-sided 95% interval's z plus the z of 80% power: a true change of the minimum
/// detectable size gets a verdict in four compares out of five.
const DETECT_Z: f64 = 1.96 + 0.84;

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

/// The change from A to B in the centre, with its bootstrap distribution's 95% interval
/// and standard deviation.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub estimate: Estimate,
    pub sd: f64,
}

impl Change {
    /// The minimum detectable change: the noise threshold plus [`DETECT_Z`] standard
    /// deviations of the estimated change. A smaller true change usually ends "within
    /// noise"; that verdict says nothing about it.
    pub fn mdc(&self) -> f64 {
        NOISE + DETECT_Z * self.sd
    }
}

/// `centre(B) / centre(A) - 1` over paired rounds (round k of A and of B ran back to
/// back), by a two-level bootstrap: each resample draws rounds with replacement, then each
/// drawn round's samples. So the interval holds the drift between rounds as well as the
/// spread within them; with one round each it is the usual bootstrap of the two runs.
pub fn relative_change(a: &[Vec<f64>], b: &[Vec<f64>]) -> Change {
    let paired = a.len().min(b.len()).max(1);
    let (a, b) = (&a[..paired.min(a.len())], &b[..paired.min(b.len())]);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5eed);
    let mut buffer = Vec::new();
    let mut resample = |values: &[f64], rng: &mut Xoshiro256PlusPlus| -> f64 {
        buffer.clear();
        buffer.extend((0..values.len()).map(|_| values[rng.random_range(0..values.len())]));
        centre(&buffer)
    };
    let mut changes: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let (mut ca, mut cb) = (0.0, 0.0);
            for _ in 0..paired {
                let round = rng.random_range(0..paired);
                ca += resample(&a[round], &mut rng);
                cb += resample(&b[round], &mut rng);
            }
            cb / ca - 1.0
        })
        .collect();
    changes.sort_by(f64::total_cmp);
    let at = |q: f64| changes[((RESAMPLES as f64 - 1.0) * q) as usize];
    let mean = changes.iter().sum::<f64>() / RESAMPLES as f64;
    let var = changes.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (RESAMPLES - 1) as f64;
    Change {
        estimate: Estimate {
            point_estimate: side_centre(b) / side_centre(a) - 1.0,
            confidence_interval: Interval {
                lower_bound: at(0.025),
                upper_bound: at(0.975),
            },
        },
        sd: var.sqrt(),
    }
}

/// The minimum detectable change of a compare of run `run` of `result` with another run
/// as spread as itself.
pub fn run_mdc(result: &BenchResult, run: &str) -> Option<f64> {
    let times = vec![per_iteration_times(result, run)?];
    Some(relative_change(&times, &times).mdc())
}

/// `2.3%`, or `7.1% ⚠ goal 5%` when above the group's goal.
pub fn mdc_text(mdc: f64, group: &str) -> String {
    let goal = mdc_goal(group);
    match mdc > goal {
        true => format!("{:.1}% ⚠ goal {:.0}%", mdc * 100.0, goal * 100.0),
        false => format!("{:.1}%", mdc * 100.0),
    }
}

/// Compares every benchmark present in both baselines `a` and `b` under `root`.
pub fn compare(root: &Path, a: &str, b: &str) -> Vec<Row> {
    let b_results = load(root, b);
    load(root, a)
        .into_iter()
        .filter_map(|ra| {
            let rb = b_results.iter().find(|r| r.id == ra.id)?.clone();
            let (ta, tb) = (rounds(&ra, a), rounds(&rb, b));
            let paired = ta.len().min(tb.len());
            let (ta, tb) = (&ta[..paired], &tb[..paired]);
            let change = relative_change(ta, tb);
            Some(Row {
                verdict: Verdict::of(&change.estimate),
                mdc: change.mdc(),
                a_ns: side_centre(ta),
                b_ns: side_centre(tb),
                rounds: paired,
                change: change.estimate,
                a: ra,
                b: rb,
            })
        })
        .filter(|row| row.rounds > 0)
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
        "| benchmark | {a} (median) | {b} (median) | change | 95% CI | verdict | smallest detectable |\n\
         |---|---:|---:|---:|---|---|---:|\n"
    );
    for row in rows {
        let ci = row.change.confidence_interval;
        out.push_str(&format!(
            "| {} | {} | {} | {:+.2}% | [{:+.2}%, {:+.2}%] | {} | {} |\n",
            row.a.id,
            format_ns(row.a_ns),
            format_ns(row.b_ns),
            row.change.point_estimate * 100.0,
            ci.lower_bound * 100.0,
            ci.upper_bound * 100.0,
            row.verdict_text(),
            row.mdc_text(),
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
        assert!(paired.sd > relative_change(&one(&fast), &one(&fast)).sd);
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
        let mdc = |v: &Vec<Vec<f64>>| relative_change(v, v).mdc();
        let flat = one(&[100.0; 10]);
        assert_eq!(mdc(&flat), NOISE);
        let (narrow, wide) = (spread(11, 2.0), spread(11, 20.0));
        assert!(mdc(&wide) > mdc(&narrow));
        assert!(mdc(&spread(1100, 20.0)) < mdc(&wide));
    }

    #[test]
    fn rounds_are_named_after_their_baseline() {
        assert_eq!(round_name("a-1234", 1), "a-1234");
        assert_eq!(round_name("a-1234", 3), "a-1234@3");
        assert!(is_round_of("a-1234@3", "a-1234") && is_round_of("a-1234", "a-1234"));
        assert!(!is_round_of("a-12345", "a-1234") && !is_round_of("a-1234@x", "a-1234"));
    }
}
