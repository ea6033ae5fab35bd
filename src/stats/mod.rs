//! What a run counted: each call's latency and each key's outcome, per second and in
//! total.
//!
//! - [`latency`]: the HDR histogram and its percentiles.
//! - [`outcome`]: what happened to each key, and the counts by outcome.
//! - [`figures`]: the numbers a report shows for a span (TPS, counts, percentiles).

pub mod figures;
pub mod latency;
pub mod outcome;

pub use figures::Figures;
pub use latency::{Curve, Latency, Percentiles};
pub use outcome::{Counts, Failure, Row};

use std::time::Duration;

use crate::workload::Access;

/// How long a call sent later than its due instant may lag before it counts as late (the
/// open-loop client fell behind its schedule, rather than the pacer's wake-up being late).
pub const LATE: Duration = Duration::from_millis(1);

/// One call as the driver timed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub access: Access,
    /// From the instant it was due (open loop) or sent (closed loop) to its answer.
    pub response: Duration,
    /// Open loop only: from the instant it was actually sent to its answer.
    pub service: Option<Duration>,
}

impl Call {
    /// Whether it was sent more than [`LATE`] after it was due.
    pub fn late(&self) -> bool {
        self.service
            .is_some_and(|service| self.response.saturating_sub(service) > LATE)
    }
}

/// The counts and latencies of some calls of one kind.
#[derive(Debug, Clone, Default)]
pub struct Part {
    pub counts: Counts,
    /// Response times (open loop: from the due instant; closed loop: from the send).
    pub latency: Latency,
    /// Service times, from the actual send; recorded in open-loop runs only.
    pub service: Latency,
}

impl Part {
    fn merge(&mut self, other: &Part) {
        self.counts.merge(&other.counts);
        self.latency.merge(&other.latency);
        self.service.merge(&other.service);
    }
}

/// The counts and latencies of some calls, by kind (read, write): one second of a run,
/// or all of it.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub kinds: [Part; 2],
}

impl Tally {
    /// One call: how long it took and what happened to each of its keys.
    pub fn record(&mut self, call: Call, rows: &[Row]) {
        let part = &mut self.kinds[call.access as usize];
        part.counts.calls += 1;
        part.counts.late += u64::from(call.late());
        rows.iter().for_each(|&row| part.counts.add(row));
        part.latency.record(call.response.as_nanos() as u64);
        if let Some(service) = call.service {
            part.service.record(service.as_nanos() as u64);
        }
    }

    /// Empties it for reuse, without giving back the histograms' memory.
    pub fn reset(&mut self) {
        for part in &mut self.kinds {
            part.counts = Counts::default();
            part.latency.reset();
            part.service.reset();
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        for (mine, theirs) in self.kinds.iter_mut().zip(&other.kinds) {
            mine.merge(theirs);
        }
    }

    /// Every kind together.
    pub fn total(&self) -> Part {
        let mut total = self.kinds[0].clone();
        total.merge(&self.kinds[1]);
        total
    }
}
