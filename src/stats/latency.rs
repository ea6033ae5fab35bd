//! Latency of every call (not a sample of them), in nanoseconds at 3 significant digits.

use hdrhistogram::Histogram;
use serde::Serialize;

/// A latency histogram plus the exact largest value (the histogram only keeps 3 digits).
#[derive(Debug, Clone)]
pub struct Latency {
    histogram: Histogram<u64>,
    max: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            histogram: Histogram::new(3).expect("3 significant digits is a valid precision"),
            max: 0,
        }
    }
}

impl Latency {
    pub fn record(&mut self, ns: u64) {
        // Auto-resizing: only a value past the histogram's whole range (centuries) fails.
        if self.histogram.record(ns).is_err() {
            self.histogram.saturating_record(ns);
        }
        self.max = self.max.max(ns);
    }

    /// Empties it, keeping the histogram's grown counts array for the next values.
    pub fn reset(&mut self) {
        self.histogram.reset();
        self.max = 0;
    }

    pub fn merge(&mut self, other: &Latency) {
        self.histogram
            .add(&other.histogram)
            .expect("auto-resizing histograms accept any addend");
        self.max = self.max.max(other.max);
    }

    /// Calls recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// p50, p90, p99, p99.9 (to 3 significant digits, never above the maximum) and the
    /// exact maximum; all zero when nothing was recorded.
    pub fn percentiles(&self) -> Percentiles {
        let at = |q: f64| match self.count() {
            0 => 0,
            _ => self.histogram.value_at_quantile(q).min(self.max),
        };
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: self.max,
        }
    }
}

/// Latency percentiles in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_every_value() {
        let mut a = Latency::default();
        let mut b = Latency::default();
        (1..=500).for_each(|v| a.record(v * 1000));
        (501..=1000).for_each(|v| b.record(v * 1000));
        b.record(12_345_678);
        a.merge(&b);
        let p = a.percentiles();
        assert_eq!(a.count(), 1001);
        assert_eq!(p.max, 12_345_678, "exact");
        for (got, want) in [
            (p.p50, 501_000),
            (p.p90, 901_000),
            (p.p99, 991_000),
            (p.p999, 1_000_000),
        ] {
            assert!(got.abs_diff(want) <= want / 1000, "{got} vs {want}");
        }
    }

    #[test]
    fn empty_is_all_zero() {
        assert_eq!(Latency::default().percentiles(), Percentiles::default());
    }
}
