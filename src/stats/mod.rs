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
pub use latency::{Latency, Percentiles};
pub use outcome::{Counts, Failure, Row};

/// The counts and latencies of some calls: one second of a run, or all of it.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub counts: Counts,
    pub latency: Latency,
}

impl Tally {
    /// One call: how long it took and what happened to each of its keys.
    pub fn record(&mut self, latency_ns: u64, rows: &[Row]) {
        self.counts.calls += 1;
        rows.iter().for_each(|&row| self.counts.add(row));
        self.latency.record(latency_ns);
    }

    /// Empties it for reuse, without giving back the histogram's memory.
    pub fn reset(&mut self) {
        self.counts = Counts::default();
        self.latency.reset();
    }

    pub fn merge(&mut self, other: &Tally) {
        self.counts.merge(&other.counts);
        self.latency.merge(&other.latency);
    }
}
