//! The numbers a report shows for a span of a run: throughput, counts, percentiles.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::{Part, Percentiles, Tally};
use crate::workload::Access;

/// A [`Tally`] over a span, as reported (per second, or for the whole measured run): the
/// totals, and the same figures per kind of call.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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
    /// Open loop: calls sent more than 1 ms after they were due (the client fell behind).
    pub late: u64,
    /// Every failure by name, timeouts included.
    pub failures: BTreeMap<String, u64>,
    /// Response time: from the instant a call was due in an open-loop run, from its send
    /// in a closed loop (where the two are the same).
    pub latency_ns: Percentiles,
    /// Open loop only: service time, from the instant a call was actually sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_ns: Option<Percentiles>,
    /// The same figures for each kind of call that ran (`read`, `write`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub kinds: BTreeMap<&'static str, Figures>,
}

impl Figures {
    pub fn of(tally: &Tally, span: Duration) -> Figures {
        let mut figures = Figures::of_part(&tally.total(), span);
        figures.kinds = Access::ALL
            .into_iter()
            .zip(&tally.kinds)
            .filter(|(_, part)| part.counts.calls > 0)
            .map(|(access, part)| (access.name(), Figures::of_part(part, span)))
            .collect();
        figures
    }

    fn of_part(part: &Part, span: Duration) -> Figures {
        let c = &part.counts;
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
            late: c.late,
            failures: c.failures(),
            latency_ns: part.latency.percentiles(),
            service_ns: (part.service.count() > 0).then(|| part.service.percentiles()),
            kinds: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Call, Failure, Row};

    fn call(access: Access, response_us: u64, service_us: Option<u64>) -> Call {
        Call {
            access,
            response: Duration::from_micros(response_us),
            service: service_us.map(Duration::from_micros),
        }
    }

    #[test]
    fn tps_is_successful_ops_over_the_span() {
        let mut tally = Tally::default();
        tally.record(call(Access::Read, 1, None), &[Row::Hit, Row::Miss]);
        tally.record(
            call(Access::Write, 3, None),
            &[Row::Written, Row::Failed(Failure::Timeout)],
        );
        let f = Figures::of(&tally, Duration::from_millis(500));
        assert_eq!((f.ops, f.calls, f.timeouts, f.misses), (3, 2, 1, 1));
        assert_eq!(f.tps, 6.0);
        assert_eq!(f.latency_ns.max, 3_000);
        assert_eq!(
            f.service_ns, None,
            "a closed loop has no separate service time"
        );
    }

    #[test]
    fn kinds_sum_to_the_totals() {
        let mut tally = Tally::default();
        tally.record(call(Access::Read, 2_000, Some(50)), &[Row::Hit]);
        tally.record(call(Access::Read, 40, Some(40)), &[Row::Miss]);
        tally.record(
            call(Access::Write, 70, Some(60)),
            &[Row::Failed(Failure::Timeout)],
        );
        tally.record(call(Access::Write, 90, Some(80)), &[Row::Written]);
        let f = Figures::of(&tally, Duration::from_secs(1));
        let (read, write) = (&f.kinds["read"], &f.kinds["write"]);
        assert_eq!((read.calls, read.ops, read.misses, read.late), (2, 2, 1, 1));
        assert_eq!((write.calls, write.ops, write.timeouts), (2, 1, 1));
        for field in [
            |f: &Figures| f.calls,
            |f: &Figures| f.ops,
            |f: &Figures| f.timeouts,
            |f: &Figures| f.late,
        ] {
            assert_eq!(field(read) + field(write), field(&f));
        }
        assert_eq!(f.tps, read.tps + write.tps);
        assert_eq!(
            read.latency_ns.max, 2_000_000,
            "response, from the due instant"
        );
        assert_eq!(
            read.service_ns.unwrap().max,
            50_000,
            "service, from the send"
        );
        assert_eq!(f.latency_ns.max, 2_000_000);
        assert!(read.kinds.is_empty());
    }
}
