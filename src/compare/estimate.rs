//! What a paired comparison concludes for one benchmark, from each kind of evidence apart:
//! time (the pairs' log ratios) and instructions (two counted runs per side), then the
//! verdict that names which evidence carried it.
//!
//! **Time.** Within one pair of workers the estimate is the 10%-trimmed mean of the pairs'
//! log ratios `ln(b/a)`, its standard error from the winsorized variance (a preempted
//! sample moves neither). Over several pairs of workers the estimate is their mean, and its
//! standard error never below what the pairs of workers disagree by, so a difference
//! between processes that no pairing inside them removes widens the interval. A change is
//! flagged when `|z|` reaches the table's critical value (Bonferroni: every row of the table
//! holds at 95% together) and the change is beyond the group's noise floor.
//!
//! **Instructions.** A change is flagged when it is beyond the larger of the count floor
//! and four times how far either side's two runs disagreed; a row whose runs disagree by
//! more than [`UNREPEATABLE`] gives no count verdict.

use serde::{Deserialize, Serialize};

use super::counts::Count;
use super::paired::Samples;
use crate::criterion_results::compare::{FAMILY_ERROR, POWER_Z};
use crate::criterion_results::student;

/// Where only CPU work is timed (no socket, no server).
pub fn cpu_only(group: &str) -> bool {
    matches!(group, "key" | "rng" | "timer")
}

/// The smallest time change a paired comparison is meant to resolve in `group`.
pub fn time_goal(group: &str) -> f64 {
    match cpu_only(group) {
        true => 0.01,
        false => 0.03,
    }
}

/// Time changes smaller than this are not called, however sure: a third of the goal.
pub fn time_floor(group: &str) -> f64 {
    time_goal(group) / 3.0
}

/// Instruction-count changes smaller than this are not called.
pub const COUNT_FLOOR: f64 = 0.001;
/// A row whose two counted runs differ by more than this has no count verdict.
pub const UNREPEATABLE: f64 = 0.02;
/// Each tail of the pairs' log ratios left out of the trimmed mean.
const TRIM: f64 = 0.1;

/// Which way a change went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// B costs more.
    Regressed,
    /// B costs less.
    Improved,
}

impl Direction {
    fn of(change: f64) -> Direction {
        match change > 0.0 {
            true => Direction::Regressed,
            false => Direction::Improved,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Direction::Regressed => "regressed",
            Direction::Improved => "improved",
        }
    }
}

/// The critical |z| for a table of `rows` rows.
pub fn critical_z(rows: usize) -> f64 {
    let per_row = FAMILY_ERROR / rows.max(1) as f64;
    student::quantile(1.0 - per_row / 2.0, 1e9)
}

/// The time evidence of one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeChange {
    /// Median time per op over all samples, each side.
    pub a_ns: f64,
    pub b_ns: f64,
    /// `b/a − 1` and its interval at the table's confidence.
    pub change: f64,
    pub low: f64,
    pub high: f64,
    pub z: f64,
    /// The smallest change this row could have detected (flagged four times in five).
    pub mdc: f64,
    pub floor: f64,
    pub pairs: usize,
    pub processes: usize,
    /// Each pair of workers' own change, in the order they ran.
    pub per_process: Vec<f64>,
    pub flagged: Option<Direction>,
}

/// Each pair of workers' trimmed mean log ratio and its standard error.
fn per_process(samples: &[Samples]) -> Vec<(f64, f64)> {
    samples
        .iter()
        .filter_map(|s| {
            let logs: Vec<f64> = s
                .pairs
                .iter()
                .filter(|[a, b]| *a > 0 && *b > 0)
                .map(|[a, b]| (*b as f64 / *a as f64).ln())
                .collect();
            trimmed(&logs)
        })
        .collect()
}

/// How far one pair of workers' mean log ratio strays from another's on this row: the
/// variance of the pairs of workers' means (`None` with fewer than two).
pub fn process_variance(samples: &[Samples]) -> Option<f64> {
    let each = per_process(samples);
    if each.len() < 2 {
        return None;
    }
    let k = each.len() as f64;
    let mean = each.iter().map(|(m, _)| m).sum::<f64>() / k;
    Some(each.iter().map(|(m, _)| (m - mean).powi(2)).sum::<f64>() / (k - 1.0))
}

/// The time change the samples of every pair of workers show, at critical value `z_crit`.
/// `group_variance` is [`process_variance`] pooled over the row's group (the median of its
/// rows'), a floor that a row's own few pairs of workers cannot talk their way under.
pub fn time_change(
    samples: &[Samples],
    z_crit: f64,
    floor: f64,
    group_variance: f64,
) -> Option<TimeChange> {
    let each = per_process(samples);
    if each.is_empty() {
        return None;
    }
    let k = each.len() as f64;
    let mean = each.iter().map(|(m, _)| m).sum::<f64>() / k;
    let within = each.iter().map(|(_, se)| se * se).sum::<f64>() / (k * k);
    let own = process_variance(samples).unwrap_or(0.0) / k;
    let se = within
        .max(own)
        .max(group_variance / k)
        .sqrt()
        .max(f64::MIN_POSITIVE);
    let z = mean / se;
    let change = mean.exp() - 1.0;
    let per_op = |side: usize| {
        let mut ns: Vec<f64> = samples
            .iter()
            .flat_map(|s| s.pairs.iter().map(move |p| p[side] as f64 / s.iters as f64))
            .collect();
        ns.sort_by(f64::total_cmp);
        ns[ns.len() / 2]
    };
    let flagged = (z.abs() >= z_crit && change.abs() >= floor).then(|| Direction::of(change));
    Some(TimeChange {
        a_ns: per_op(0),
        b_ns: per_op(1),
        change,
        low: (mean - z_crit * se).exp() - 1.0,
        high: (mean + z_crit * se).exp() - 1.0,
        z,
        mdc: ((z_crit + POWER_Z) * se).exp_m1().max(floor),
        floor,
        pairs: samples.iter().map(|s| s.pairs.len()).sum(),
        processes: samples.len(),
        per_process: each.iter().map(|(m, _)| m.exp_m1()).collect(),
        flagged,
    })
}

/// The trimmed mean of `values` and its standard error (Tukey and McLaughlin: the
/// winsorized standard deviation over (1 − 2·trim)·√n); `None` for fewer than 3 values.
fn trimmed(values: &[f64]) -> Option<(f64, f64)> {
    let n = values.len();
    if n < 3 {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let g = (TRIM * n as f64).floor() as usize;
    let kept = &sorted[g..n - g];
    let mean = kept.iter().sum::<f64>() / kept.len() as f64;
    let (low, high) = (sorted[g], sorted[n - 1 - g]);
    let winsorized: Vec<f64> = sorted.iter().map(|v| v.clamp(low, high)).collect();
    let w_mean = winsorized.iter().sum::<f64>() / n as f64;
    let w_var = winsorized.iter().map(|v| (v - w_mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    let se = w_var.sqrt() / ((1.0 - 2.0 * g as f64 / n as f64) * (n as f64).sqrt());
    Some((mean, se))
}

/// The instruction-count evidence of one row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CountChange {
    pub a: Count,
    pub b: Count,
    pub change: f64,
    /// The smallest change called on this row.
    pub threshold: f64,
    /// Both sides' runs repeated within [`UNREPEATABLE`].
    pub repeatable: bool,
    pub flagged: Option<Direction>,
}

pub fn count_change(a: Count, b: Count) -> CountChange {
    let change = b.per_op / a.per_op - 1.0;
    let repeat = a.repeat.max(b.repeat);
    let threshold = COUNT_FLOOR.max(4.0 * repeat);
    let repeatable = repeat <= UNREPEATABLE;
    CountChange {
        a,
        b,
        change,
        threshold,
        repeatable,
        flagged: (repeatable && change.abs() >= threshold).then(|| Direction::of(change)),
    }
}

/// One row's verdict and the evidence that carried it, e.g. `+3.1% time, +2.9%
/// instructions: regressed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// `None`: within noise on every measure taken.
    pub direction: Option<Direction>,
    pub text: String,
}

pub fn verdict(time: Option<&TimeChange>, count: Option<&CountChange>) -> Verdict {
    let t = time.and_then(|t| t.flagged);
    let c = count.and_then(|c| c.flagged);
    let time_text = |t: &TimeChange| format!("{} time", percent(t.change));
    let count_text = |c: &CountChange| format!("{} instructions", percent(c.change));
    let (direction, text) = match (time, t, count, c) {
        (Some(tc), Some(d), Some(cc), Some(e)) if d == e => (
            Some(d),
            format!("{}, {}: {}", time_text(tc), count_text(cc), d.label()),
        ),
        (Some(tc), Some(d), Some(cc), Some(_)) => (
            Some(d),
            format!(
                "{}, {}: {} in time, instructions the other way",
                time_text(tc),
                count_text(cc),
                d.label()
            ),
        ),
        (Some(tc), Some(d), Some(cc), None) => (
            Some(d),
            format!(
                "{}, {}: {} in time only (instructions unchanged: layout, cache, or noise)",
                time_text(tc),
                count_text(cc),
                d.label()
            ),
        ),
        (Some(tc), Some(d), None, _) => (Some(d), format!("{}: {}", time_text(tc), d.label())),
        (_, None, Some(cc), Some(e)) => (
            Some(e),
            format!(
                "{}: {} in instructions (time within noise{})",
                count_text(cc),
                e.label(),
                time.map_or(String::new(), |t| format!(
                    ", no change > {}",
                    unsigned(t.mdc)
                ))
            ),
        ),
        (time, _, count, _) => {
            let mut bounds = vec![];
            if let Some(t) = time {
                bounds.push(format!("time > {}", unsigned(t.mdc)));
            }
            if let Some(c) = count.filter(|c| c.repeatable) {
                bounds.push(format!("instructions > {}", unsigned(c.threshold)));
            }
            let text = match bounds.is_empty() {
                true => "within noise".to_string(),
                false => format!("within noise (no change in {})", bounds.join(", ")),
            };
            (None, text)
        }
    };
    Verdict { direction, text }
}

/// `+1.23%`.
pub fn percent(change: f64) -> String {
    format!("{:+.2}%", change * 100.0)
}

fn unsigned(change: f64) -> String {
    format!("{:.2}%", change * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(ratios: &[f64]) -> Samples {
        Samples {
            iters: 10,
            pairs: ratios
                .iter()
                .map(|r| [1_000_000, (1_000_000.0 * r) as u64])
                .collect(),
            syscalls: [None, None],
        }
    }

    #[test]
    fn a_steady_ratio_is_called_and_the_same_code_is_not() {
        let z = critical_z(84);
        let wobble: Vec<f64> = (0..200)
            .map(|i| 1.0 + 0.01 * ((i % 7) as f64 - 3.0) / 3.0)
            .collect();
        let changed: Vec<f64> = wobble.iter().map(|r| r * 1.02).collect();
        let same = time_change(&[samples(&wobble)], z, 0.003, 0.0).unwrap();
        assert_eq!(same.flagged, None, "{same:?}");
        let slower = time_change(&[samples(&changed)], z, 0.003, 0.0).unwrap();
        assert_eq!(slower.flagged, Some(Direction::Regressed), "{slower:?}");
        assert!(slower.low < 0.02 && 0.02 < slower.high, "{slower:?}");
    }

    /// Two pairs of workers that disagree widen the interval: each alone looks sure, the
    /// two together do not.
    #[test]
    fn workers_that_disagree_widen_the_interval() {
        let z = critical_z(84);
        let up: Vec<f64> = (0..200).map(|i| 1.02 + 0.001 * (i % 3) as f64).collect();
        let down: Vec<f64> = (0..200).map(|i| 0.98 + 0.001 * (i % 3) as f64).collect();
        let one = time_change(&[samples(&up)], z, 0.003, 0.0).unwrap();
        assert!(one.flagged.is_some());
        let both = time_change(&[samples(&up), samples(&down)], z, 0.003, 0.0).unwrap();
        assert_eq!(both.flagged, None, "{both:?}");
        assert!(both.high - both.low > 0.03, "{both:?}");
        let pooled = time_change(&[samples(&up)], z, 0.003, 0.02f64.powi(2)).unwrap();
        assert_eq!(
            pooled.flagged, None,
            "the group's spread holds for one pair too"
        );
    }

    #[test]
    fn a_preempted_sample_moves_nothing() {
        let z = critical_z(84);
        let mut ratios = vec![1.0; 100];
        ratios[10] = 3.0;
        let t = time_change(&[samples(&ratios)], z, 0.003, 0.0).unwrap();
        assert_eq!(t.flagged, None);
        assert!(t.change.abs() < 1e-9, "{t:?}");
    }

    fn count(per_op: f64, repeat: f64) -> Count {
        Count {
            per_op,
            repeat,
            iters: 1000,
        }
    }

    #[test]
    fn counts_are_called_beyond_their_repeat_spread() {
        let c = count_change(count(1000.0, 0.0), count(1005.0, 0.0));
        assert_eq!(c.flagged, Some(Direction::Regressed));
        let noisy = count_change(count(1000.0, 0.004), count(1005.0, 0.002));
        assert_eq!(noisy.flagged, None, "{noisy:?}");
        let wild = count_change(count(1000.0, 0.1), count(2000.0, 0.0));
        assert_eq!((wild.repeatable, wild.flagged), (false, None));
    }

    #[test]
    fn the_verdict_names_its_evidence() {
        let z = critical_z(10);
        let steady: Vec<f64> = (0..200).map(|i| 1.03 + 0.001 * (i % 3) as f64).collect();
        let time = time_change(&[samples(&steady)], z, 0.003, 0.0).unwrap();
        let more = count_change(count(1000.0, 0.0), count(1029.0, 0.0));
        let same = count_change(count(1000.0, 0.0), count(1000.0, 0.0));
        let both = verdict(Some(&time), Some(&more));
        assert_eq!(both.direction, Some(Direction::Regressed));
        assert!(
            both.text.ends_with("+2.90% instructions: regressed"),
            "{}",
            both.text
        );
        let alone = verdict(Some(&time), Some(&same));
        assert!(alone.text.contains("time only"), "{}", alone.text);
        let counted = verdict(None, Some(&more));
        assert!(counted.text.contains("in instructions"), "{}", counted.text);
        assert_eq!(verdict(None, Some(&same)).direction, None);
    }
}
