//! What a fault did to a run, read from its one-second windows: when it showed, when the
//! run was back, the worst window, and every failure by name.
//!
//! The resolution is the window: a fault that shows within its first second is detected
//! "within 1 s", not at a finer instant.

use std::collections::BTreeMap;

use serde::Serialize;

use super::plan::FaultSpec;
use crate::server::fault::Fault;
use crate::stats::Figures;

/// A window is back to normal at this share of the pre-fault TPS, with no failure.
pub const RECOVERED_SHARE: f64 = 0.9;
/// After a node is lost for good the run has recovered, at a new level, once every window
/// to the end (at least [`STEADY_WINDOWS`]) is free of failures and within this share of
/// their mean TPS: the ceiling moved with the capacity, and the rate is steady at it.
pub const LEVEL_BAND: f64 = 0.1;
pub const STEADY_WINDOWS: usize = 2;

/// The effect of one fault.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    pub fault: FaultSpec,
    /// Mean TPS of the windows before the fault; `None` if it starts in the first second.
    pub baseline_tps: Option<f64>,
    /// From the fault to the end of the first window that shows it (TPS under
    /// [`RECOVERED_SHARE`] of the baseline, or a failure); `None`: no window showed it.
    pub detected_after_s: Option<f64>,
    /// From the fault to the start of the first window after that one that is back to
    /// normal; `None`: not recovered by the end of the run.
    pub recovered_after_s: Option<f64>,
    /// The mean TPS from recovery to the end over the baseline: about 1 when the run came
    /// back, less when a lost node took capacity with it; `None` when not recovered.
    pub level_share: Option<f64>,
    /// The worst p99 of the windows from the fault until recovery (or the end).
    pub worst_p99_ns: u64,
    /// Failures by name over the same windows, timeouts included.
    pub failures: BTreeMap<String, u64>,
    /// The client's retries over the same windows, where it can tell (see
    /// [`super::retries`]); `None` where it cannot.
    pub retries: Option<u64>,
}

impl Effect {
    /// Reads `fault`'s effect from `seconds`, the run's one-second windows, and `retries`,
    /// the client's retries in each of them where it can tell.
    pub fn of(fault: FaultSpec, seconds: &[Figures], retries: Option<&[u64]>) -> Effect {
        let first = (fault.at.as_secs_f64() as usize).min(seconds.len());
        let before = &seconds[..first];
        let baseline_tps =
            (!before.is_empty()).then(|| before.iter().map(|w| w.tps).sum::<f64>() / first as f64);
        let normal = |w: &Figures| {
            w.errors + w.timeouts == 0
                && baseline_tps.is_none_or(|tps| w.tps >= RECOVERED_SHARE * tps)
        };
        let at = fault.at.as_secs_f64();
        let lasting = fault.kind == Fault::Kill && fault.for_.is_none();
        let back = |i: usize| normal(&seconds[i]) || (lasting && steady(&seconds[i..]));
        let detected = (first..seconds.len()).find(|&i| !normal(&seconds[i]));
        let recovered = detected.and_then(|d| (d + 1..seconds.len()).find(|&i| back(i)));
        let span = first..recovered.unwrap_or(seconds.len());
        let affected = &seconds[span.clone()];
        let mut failures = BTreeMap::new();
        for (name, n) in affected.iter().flat_map(|w| &w.failures) {
            *failures.entry(name.clone()).or_insert(0) += n;
        }
        Effect {
            fault,
            baseline_tps,
            detected_after_s: detected.map(|i| (i + 1) as f64 - at),
            recovered_after_s: recovered.map(|i| (i as f64 - at).max(0.0)),
            level_share: recovered
                .zip(baseline_tps)
                .map(|(i, before)| mean_tps(&seconds[i..]) / before.max(1e-9)),
            worst_p99_ns: affected.iter().map(|w| w.latency_ns.p99).max().unwrap_or(0),
            failures,
            retries: retries.map(|r| r.get(span).unwrap_or_default().iter().sum()),
        }
    }
}

fn mean_tps(windows: &[Figures]) -> f64 {
    windows.iter().map(|w| w.tps).sum::<f64>() / windows.len().max(1) as f64
}

/// At least [`STEADY_WINDOWS`] windows, none failing, each within [`LEVEL_BAND`] of their
/// mean TPS.
fn steady(windows: &[Figures]) -> bool {
    let mean = mean_tps(windows);
    windows.len() >= STEADY_WINDOWS
        && windows
            .iter()
            .all(|w| w.errors + w.timeouts == 0 && (w.tps - mean).abs() <= LEVEL_BAND * mean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::plan::FaultSpec;

    fn window(tps: f64, timeouts: u64, p99: u64) -> Figures {
        let mut w = Figures {
            tps,
            timeouts,
            ..Figures::default()
        };
        w.latency_ns.p99 = p99;
        if timeouts > 0 {
            w.failures.insert("timeout".into(), timeouts);
        }
        w
    }

    #[test]
    fn a_hang_is_detected_in_its_window_and_recovered_after() {
        let seconds = [
            window(1000.0, 0, 1_000),
            window(1000.0, 0, 1_000),
            window(400.0, 32, 1_000_000_000),
            window(300.0, 32, 1_000_000_000),
            window(950.0, 0, 2_000),
            window(1000.0, 0, 1_000),
        ];
        let fault: FaultSpec = "2s:1:hang:2s".parse().unwrap();
        let effect = Effect::of(fault, &seconds, Some(&[0, 0, 7, 5, 1, 0]));
        assert_eq!(effect.baseline_tps, Some(1000.0));
        assert_eq!(effect.detected_after_s, Some(1.0));
        assert_eq!(effect.recovered_after_s, Some(2.0));
        assert_eq!(effect.worst_p99_ns, 1_000_000_000);
        assert_eq!(effect.failures["timeout"], 64);
        assert_eq!(
            effect.retries,
            Some(12),
            "the retries of the affected windows"
        );
    }

    #[test]
    fn a_fault_that_never_clears_is_not_recovered() {
        let seconds = [
            window(1000.0, 0, 1),
            window(500.0, 0, 9),
            window(500.0, 0, 8),
        ];
        let effect = Effect::of("1s:1:slow=5ms".parse().unwrap(), &seconds, None);
        assert_eq!(effect.detected_after_s, Some(1.0));
        assert_eq!(effect.recovered_after_s, None);
        assert_eq!(effect.worst_p99_ns, 9);
        assert_eq!(effect.retries, None, "the client could not tell");
    }

    #[test]
    fn a_node_lost_for_good_recovers_at_a_new_level() {
        let seconds = [
            window(900.0, 0, 1),
            window(300.0, 40, 9),
            window(610.0, 0, 2),
            window(600.0, 0, 2),
            window(590.0, 0, 2),
        ];
        let effect = Effect::of("1s:1:kill".parse().unwrap(), &seconds, None);
        assert_eq!(effect.recovered_after_s, Some(1.0));
        assert!((effect.level_share.unwrap() - 600.0 / 900.0).abs() < 1e-9);
        let healed = Effect::of("1s:1:kill:3s".parse().unwrap(), &seconds, None);
        assert_eq!(
            healed.recovered_after_s, None,
            "a kill undone must come back to 90%"
        );
        let failing = [
            window(900.0, 0, 1),
            window(300.0, 40, 9),
            window(600.0, 3, 2),
            window(600.0, 0, 2),
        ];
        let effect = Effect::of("1s:1:kill".parse().unwrap(), &failing, None);
        assert_eq!(
            effect.recovered_after_s, None,
            "one window left is not a steady level"
        );
    }

    #[test]
    fn a_fault_the_client_hides_shows_no_effect() {
        let seconds = [
            window(1000.0, 0, 1),
            window(990.0, 0, 1),
            window(1000.0, 0, 1),
        ];
        let effect = Effect::of("1s:1:drop".parse().unwrap(), &seconds, None);
        assert_eq!(
            (effect.detected_after_s, effect.recovered_after_s),
            (None, None)
        );
        assert!(effect.failures.is_empty());
    }
}
