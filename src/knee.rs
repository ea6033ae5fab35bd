//! The knee: the highest rate whose response-time percentiles stay under a service-level
//! objective with no failures, which is what a user sizing a cluster asks ("how far can I
//! push before p99 passes 1 ms?").
//!
//! A closed-loop run gives the ceiling. Open-loop steps at fixed shares of it climb until
//! one misses the SLA; bisection between the last step that held and the first that missed
//! narrows the knee to an interval. Every step is judged on its own measured figures.

use serde::Serialize;

use crate::driver::OpenLoop;
use crate::stats::{Figures, Percentiles};

/// The shares of the ceiling the climb tries, in order.
pub const CLIMB: [f64; 6] = [0.1, 0.25, 0.5, 0.75, 0.9, 1.0];

/// Response-time bounds in nanoseconds; `None` is not checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sla {
    pub p50_ns: Option<u64>,
    pub p99_ns: Option<u64>,
    pub p999_ns: Option<u64>,
}

impl Sla {
    /// Why `figures` miss the SLA, or `None` if they hold it: a percentile over its bound,
    /// a failed call, or a schedule the client did not keep.
    pub fn missed(&self, figures: &Figures, schedule: &OpenLoop) -> Option<String> {
        let p = &figures.latency_ns;
        let bounds = [
            ("p50", self.p50_ns, p.p50),
            ("p99", self.p99_ns, p.p99),
            ("p99.9", self.p999_ns, p.p999),
        ];
        for (name, bound, got) in bounds {
            if bound.is_some_and(|bound| got > bound) {
                return Some(format!("{name} over the SLA"));
            }
        }
        let failed = figures.errors + figures.timeouts;
        if failed > 0 {
            return Some(format!("{failed} calls failed"));
        }
        if schedule.unsent > 0 {
            return Some(format!("{} due calls never sent", schedule.unsent));
        }
        None
    }

    pub fn is_empty(&self) -> bool {
        *self == Sla::default()
    }
}

/// One step of the search: a rate and what it measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Calls per second asked for.
    pub rate: u64,
    /// Calls per second completed.
    pub achieved: f64,
    /// Response times, from each call's due instant.
    pub latency_ns: Percentiles,
    pub errors: u64,
    pub timeouts: u64,
    pub unsent: u64,
    /// Why it missed the SLA; `None` if it held it.
    pub missed: Option<String>,
}

impl Point {
    /// The step at `schedule.rate`, judged against `sla`.
    pub fn of(sla: &Sla, figures: &Figures, schedule: &OpenLoop) -> Point {
        Point {
            rate: schedule.rate,
            achieved: figures.calls as f64 / figures.seconds,
            latency_ns: figures.latency_ns,
            errors: figures.errors,
            timeouts: figures.timeouts,
            unsent: schedule.unsent,
            missed: sla.missed(figures, schedule),
        }
    }

    pub fn held(&self) -> bool {
        self.missed.is_none()
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Knee {
    /// Calls per second of the closed-loop run.
    pub ceiling: f64,
    /// Every step, by rate.
    pub curve: Vec<Point>,
    /// The highest rate that held the SLA; `None` if none did.
    pub held: Option<u64>,
    /// The lowest rate above it that missed; `None` if every step up to the ceiling held.
    pub missed: Option<u64>,
}

/// Climbs [`CLIMB`] shares of `ceiling`, then bisects `bisections` times between the last
/// rate that held and the first that missed; `measure` runs one step and judges it.
pub fn search<E>(
    ceiling: f64,
    bisections: usize,
    mut measure: impl FnMut(u64) -> Result<Point, E>,
) -> Result<Knee, E> {
    let mut curve = Vec::new();
    let (mut held, mut missed) = (None, None);
    let mut rates: Vec<u64> = CLIMB.iter().map(|s| rate(s * ceiling)).collect();
    rates.dedup();
    for rate in rates {
        let point = measure(rate)?;
        let ok = point.held();
        curve.push(point);
        match ok {
            true => held = Some(rate),
            false => {
                missed = Some(rate);
                break;
            }
        }
    }
    if let Some(mut high) = missed {
        let mut low = held.unwrap_or(0);
        for _ in 0..bisections {
            let mid = (low + high) / 2;
            if mid <= low {
                break;
            }
            let point = measure(mid)?;
            match point.held() {
                true => (low, held) = (mid, Some(mid)),
                false => (high, missed) = (mid, Some(mid)),
            }
            curve.push(point);
        }
    }
    curve.sort_by_key(|p| p.rate);
    Ok(Knee {
        ceiling,
        curve,
        held,
        missed,
    })
}

/// A share of the ceiling as a whole rate, at least 1 call per second.
fn rate(calls_per_s: f64) -> u64 {
    (calls_per_s.round() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step of a system whose p99 is 100 µs up to `knee` calls/s, 10 ms above it.
    fn step(knee: u64) -> impl FnMut(u64) -> Result<Point, ()> {
        move |rate| {
            let p99 = if rate <= knee { 100_000 } else { 10_000_000 };
            let sla = Sla {
                p99_ns: Some(1_000_000),
                ..Sla::default()
            };
            let mut figures = Figures::of(&Default::default(), std::time::Duration::from_secs(1));
            figures.latency_ns.p99 = p99;
            Ok(Point::of(&sla, &figures, &OpenLoop { rate, unsent: 0 }))
        }
    }

    #[test]
    fn the_knee_is_bracketed_by_a_step_that_held_and_one_that_missed() {
        let knee = search(10_000.0, 4, step(6_300)).unwrap();
        let (held, missed) = (knee.held.unwrap(), knee.missed.unwrap());
        assert!(held <= 6_300 && 6_300 < missed, "{held} {missed}");
        assert!(
            missed - held <= 2_500 / 16 + 1,
            "four halvings of 5,000..7,500"
        );
        let rates: Vec<u64> = knee.curve.iter().map(|p| p.rate).collect();
        assert!(rates.is_sorted(), "{rates:?}");
        for p in &knee.curve {
            assert_eq!(p.held(), p.rate <= 6_300, "{p:?}");
        }
    }

    #[test]
    fn a_system_that_holds_up_to_the_ceiling_has_no_missed_rate() {
        let knee = search(5_000.0, 3, step(u64::MAX)).unwrap();
        assert_eq!((knee.held, knee.missed), (Some(5_000), None));
        assert_eq!(knee.curve.len(), CLIMB.len());
    }

    #[test]
    fn a_system_that_never_holds_is_bisected_down_from_the_first_step() {
        let knee = search(10_000.0, 3, step(300)).unwrap();
        assert!(knee.held.is_some_and(|h| h <= 300), "{knee:?}");
        let failures = Sla {
            p99_ns: Some(1),
            ..Sla::default()
        };
        let mut figures = Figures::of(&Default::default(), std::time::Duration::from_secs(1));
        figures.timeouts = 2;
        let open = OpenLoop {
            rate: 10,
            unsent: 0,
        };
        assert_eq!(failures.missed(&figures, &open).unwrap(), "2 calls failed");
    }
}
