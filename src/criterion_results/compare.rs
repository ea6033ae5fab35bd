//! Two saved baselines compared benchmark by benchmark: the relative change of the mean
//! time with a bootstrap confidence interval, and a verdict by Criterion's own rule.
//!
//! Criterion compares a run with one baseline, but `--baseline` cannot be combined with
//! `--save-baseline`, and interleaved runs of two commits need both saved. So the change is
//! computed here from the two baselines' raw samples (`sample.json`), the way Criterion
//! does: resample each side with replacement, take the ratio of means, read the 2.5th and
//! 97.5th percentiles. The verdict applies Criterion's threshold rule: a change counts only
//! when the whole interval lies beyond ±1% noise.

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
    /// Relative change of the mean time from A to B (0.05 = 5% slower).
    pub change: Estimate,
    pub verdict: Verdict,
    /// The smallest relative change these two runs' spreads and sample counts could have
    /// flagged (see [`min_detectable`]).
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

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Standard error of the mean of `values`, relative to the mean.
fn relative_se(values: &[f64]) -> f64 {
    let (n, m) = (values.len() as f64, mean(values));
    let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    var.sqrt() / (m * n.sqrt())
}

/// The minimum detectable change of a compare of samples `a` and `b`: the noise threshold
/// plus [`DETECT_Z`] standard errors of the relative difference of their means. A smaller
/// true change usually ends "within noise"; that verdict says nothing about it.
pub fn min_detectable(a: &[f64], b: &[f64]) -> f64 {
    NOISE + DETECT_Z * relative_se(a).hypot(relative_se(b))
}

/// The minimum detectable change of a compare of run `run` of `result` with another run
/// as spread as itself.
pub fn run_mdc(result: &BenchResult, run: &str) -> Option<f64> {
    let times = per_iteration_times(result, run)?;
    Some(min_detectable(&times, &times))
}

/// `2.3%`, or `7.1% ⚠ goal 5%` when above the group's goal.
pub fn mdc_text(mdc: f64, group: &str) -> String {
    let goal = mdc_goal(group);
    match mdc > goal {
        true => format!("{:.1}% ⚠ goal {:.0}%", mdc * 100.0, goal * 100.0),
        false => format!("{:.1}%", mdc * 100.0),
    }
}

/// Bootstrap estimate of `mean(b) / mean(a) - 1`.
pub fn relative_change(a: &[f64], b: &[f64]) -> Estimate {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5eed);
    let mut resample = |values: &[f64]| -> f64 {
        let total: f64 = (0..values.len())
            .map(|_| values[rng.random_range(0..values.len())])
            .sum();
        total / values.len() as f64
    };
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| resample(b) / resample(a) - 1.0)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((RESAMPLES as f64 - 1.0) * q) as usize];
    Estimate {
        point_estimate: mean(b) / mean(a) - 1.0,
        confidence_interval: Interval {
            lower_bound: at(0.025),
            upper_bound: at(0.975),
        },
    }
}

/// Compares every benchmark present in both baselines `a` and `b` under `root`.
pub fn compare(root: &Path, a: &str, b: &str) -> Vec<Row> {
    let b_results = load(root, b);
    load(root, a)
        .into_iter()
        .filter_map(|ra| {
            let rb = b_results.iter().find(|r| r.id == ra.id)?.clone();
            let (ta, tb) = (per_iteration_times(&ra, a)?, per_iteration_times(&rb, b)?);
            let change = relative_change(&ta, &tb);
            Some(Row {
                verdict: Verdict::of(&change),
                mdc: min_detectable(&ta, &tb),
                a: ra,
                b: rb,
                change,
            })
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
        "| benchmark | {a} | {b} | change | 95% CI | verdict | smallest detectable |\n\
         |---|---:|---:|---:|---|---|---:|\n"
    );
    for row in rows {
        let ci = row.change.confidence_interval;
        out.push_str(&format!(
            "| {} | {} | {} | {:+.2}% | [{:+.2}%, {:+.2}%] | {} | {} |\n",
            row.a.id,
            format_ns(row.a.time_ns.point_estimate),
            format_ns(row.b.time_ns.point_estimate),
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

    #[test]
    fn bootstrap_brackets_the_true_change() {
        let a: Vec<f64> = (0..50).map(|i| 100.0 + (i % 5) as f64).collect();
        let b: Vec<f64> = a.iter().map(|v| v * 1.2).collect();
        let change = relative_change(&a, &b);
        assert!((change.point_estimate - 0.2).abs() < 1e-9);
        let ci = change.confidence_interval;
        assert!(ci.lower_bound < 0.2 + 1e-9 && ci.upper_bound > 0.2 - 1e-9);
        assert_eq!(Verdict::of(&change), Verdict::Regressed);
        assert_eq!(Verdict::of(&relative_change(&b, &a)), Verdict::Improved);
        assert_eq!(Verdict::of(&relative_change(&a, &a)), Verdict::WithinNoise);
    }

    /// The MDC grows with the spread, shrinks with the sample count, and never falls
    /// below the noise threshold.
    #[test]
    fn minimum_detectable_change_follows_spread_and_samples() {
        let spread = |n: usize, width: f64| -> Vec<f64> {
            (0..n)
                .map(|i| 100.0 + width * ((i % 2) as f64 - 0.5))
                .collect()
        };
        let flat = vec![100.0; 10];
        assert_eq!(min_detectable(&flat, &flat), NOISE);
        let (narrow, wide) = (spread(10, 2.0), spread(10, 20.0));
        assert!(min_detectable(&wide, &wide) > min_detectable(&narrow, &narrow));
        let more = spread(1000, 20.0);
        assert!(min_detectable(&more, &more) < min_detectable(&wide, &wide));
        // Ten samples spread ±10% (relative sd 10.5%): SE 3.3% per side, 4.7% for the
        // difference, times 2.8, plus 1%.
        let expected = NOISE + DETECT_Z * (2.0f64).sqrt() * (0.1054 / 10f64.sqrt());
        assert!((min_detectable(&wide, &wide) - expected).abs() < 1e-3);
    }
}
