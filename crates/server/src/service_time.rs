//! Time spent serving record requests, per node and per kind of request, so a benchmark
//! can split a get's time into the server's share and the client's instead of inferring it.
//!
//! A request is timed from the moment its frame is complete to the moment its reply is
//! written to the socket: one clock read pair per request and two relaxed adds, no lock.
//! The totals are an aerobench extension, answered to the info name [`INFO_NAME`]; the
//! real server answers an unknown name with an empty value, which [`parse`] reads as
//! "unknown".

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::MAX_NODES;
use super::command::Kind;

/// The info name that answers [`ServiceTimes::info_value`].
pub const INFO_NAME: &str = "aerobench-service-time";

/// The kinds of request timed, in answer order.
pub const KINDS: [&str; 7] = [
    "get", "exists", "put", "delete", "touch", "operate", "batch",
];

/// What a timed request was: one record command, or one batch with all its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Single(Kind),
    Batch,
}

impl Request {
    /// The request's place in [`KINDS`] and in a [`parse`]d answer.
    pub fn index(self) -> usize {
        match self {
            Request::Single(Kind::Get) => 0,
            Request::Single(Kind::Exists) => 1,
            Request::Single(Kind::Put) => 2,
            Request::Single(Kind::Delete) => 3,
            Request::Single(Kind::Touch) => 4,
            Request::Single(Kind::Operate) => 5,
            Request::Batch => 6,
        }
    }
}

/// Requests served and the nanoseconds they took, for one kind (summed when read from
/// several nodes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Total {
    pub count: u64,
    pub sum_ns: u64,
}

#[derive(Default)]
struct Slot {
    count: AtomicU64,
    sum_ns: AtomicU64,
}

/// Per node, per kind: requests served and the time they took.
#[derive(Default)]
pub struct ServiceTimes {
    nodes: [[Slot; KINDS.len()]; MAX_NODES],
}

impl ServiceTimes {
    /// Adds one request of node `node` that took `elapsed`.
    pub fn record(&self, node: usize, request: Request, elapsed: Duration) {
        let slot = &self.nodes[node][request.index()];
        slot.count.fetch_add(1, Ordering::Relaxed);
        slot.sum_ns
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Node `node`'s totals as an info value: `get=<count>:<sum_ns>;exists=…` in [`KINDS`]
    /// order.
    pub fn info_value(&self, node: usize) -> String {
        let slots = self.nodes.get(node).into_iter().flatten();
        KINDS
            .iter()
            .zip(slots)
            .map(|(kind, s)| {
                let load = |v: &AtomicU64| v.load(Ordering::Relaxed);
                format!("{kind}={}:{}", load(&s.count), load(&s.sum_ns))
            })
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// The totals of an [`INFO_NAME`] answer, per kind in [`KINDS`] order; `None` for any
/// other answer (the real server's empty value, an error), meaning unknown.
pub fn parse(value: &str) -> Option<[Total; KINDS.len()]> {
    let mut totals = [Total::default(); KINDS.len()];
    let mut pairs = value.split(';');
    for (kind, total) in KINDS.iter().zip(&mut totals) {
        let (name, numbers) = pairs.next()?.split_once('=')?;
        let (count, sum_ns) = numbers.split_once(':')?;
        if name != *kind {
            return None;
        }
        *total = Total {
            count: count.parse().ok()?,
            sum_ns: sum_ns.parse().ok()?,
        };
    }
    Some(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_what_it_recorded_per_node_and_parses_back() {
        let times = ServiceTimes::default();
        times.record(1, Request::Single(Kind::Get), Duration::from_nanos(700));
        times.record(1, Request::Single(Kind::Get), Duration::from_nanos(300));
        times.record(1, Request::Batch, Duration::from_nanos(5));
        let value = times.info_value(1);
        assert_eq!(
            value,
            "get=2:1000;exists=0:0;put=0:0;delete=0:0;touch=0:0;operate=0:0;batch=1:5"
        );
        let totals = parse(&value).unwrap();
        assert_eq!(
            totals[0],
            Total {
                count: 2,
                sum_ns: 1000
            }
        );
        assert_eq!(
            totals[6],
            Total {
                count: 1,
                sum_ns: 5
            }
        );
        assert_eq!(parse(&times.info_value(0)).unwrap()[0], Total::default());
    }

    #[test]
    fn anything_else_is_unknown() {
        for other in [
            "",
            "ERROR:4:unrecognized command",
            "get=1:2",
            "put=1:2;get=1:2",
        ] {
            assert_eq!(parse(other), None, "{other:?}");
        }
    }
}
