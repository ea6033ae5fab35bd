//! The numbers a report shows for a span of a run: throughput, counts, percentiles.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::{Percentiles, Tally};

/// A [`Tally`] over a span, as reported (per second, or for the whole measured run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Length of the span.
    pub seconds: f64,
    /// Successful key ops per second (a miss is a success; failures are not throughput).
    pub tps: f64,
    pub ops: u64,
    pub calls: u64,
    pub reads: u64,
    pub writes: u64,
    pub misses: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub mismatches: u64,
    /// Every failure by name, timeouts included.
    pub failures: BTreeMap<String, u64>,
    pub latency_ns: Percentiles,
}

impl Figures {
    pub fn of(tally: &Tally, span: Duration) -> Figures {
        let c = &tally.counts;
        let seconds = span.as_secs_f64();
        Figures {
            seconds,
            tps: if seconds > 0.0 {
                c.ops() as f64 / seconds
            } else {
                0.0
            },
            ops: c.ops(),
            calls: c.calls,
            reads: c.reads,
            writes: c.writes,
            misses: c.misses,
            errors: c.errors,
            timeouts: c.timeouts,
            mismatches: c.mismatches,
            failures: c.failures(),
            latency_ns: tally.latency.percentiles(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Row;

    #[test]
    fn tps_is_successful_ops_over_the_span() {
        let mut tally = Tally::default();
        tally.record(1_000, &[Row::Hit, Row::Miss]);
        tally.record(
            3_000,
            &[Row::Written, Row::Failed(crate::stats::Failure::Timeout)],
        );
        let f = Figures::of(&tally, Duration::from_millis(500));
        assert_eq!((f.ops, f.calls, f.timeouts, f.misses), (3, 2, 1, 1));
        assert_eq!(f.tps, 6.0);
        assert_eq!(f.latency_ns.max, 3_000);
    }
}
