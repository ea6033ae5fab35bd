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

/// A percentile curve: `[percentile, nanoseconds]` pairs, ascending.
pub type Curve = Vec<[f64; 2]>;

impl Latency {
    /// The latency at the percentiles a percentile plot draws, 1 − 10^(−k/4) for k = 0, 1, …
    /// while at least one call lies beyond it, then the exact maximum at 100.
    pub fn curve(&self) -> Curve {
        let count = self.count() as f64;
        if count == 0.0 {
            return Curve::new();
        }
        let mut curve: Curve = (0..)
            .map(|k| 1.0 - 10f64.powf(-f64::from(k) / 4.0))
            .take_while(|q| (1.0 - q) * count >= 1.0)
            .map(|q| {
                let ns = self.histogram.value_at_quantile(q).min(self.max);
                [q * 100.0, ns as f64]
            })
            .collect();
        curve.push([100.0, self.max as f64]);
        curve
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
    fn the_curve_climbs_to_the_maximum() {
        let mut l = Latency::default();
        (1..=10_000).for_each(|v| l.record(v * 1000));
        let curve = l.curve();
        assert_eq!(curve[0][0], 0.0);
        assert_eq!(curve.last().unwrap(), &[100.0, 10_000_000.0]);
        assert!(
            curve
                .windows(2)
                .all(|w| w[0][0] < w[1][0] && w[0][1] <= w[1][1])
        );
        let p99 = curve.iter().find(|p| (p[0] - 99.0).abs() < 1e-9).unwrap();
        assert!((p99[1] - 9_900_000.0).abs() <= 9_900.0, "{p99:?}");
        assert!(
            curve.iter().all(|p| p[0] <= 99.99 || p[0] == 100.0),
            "one call in 10,000"
        );
        assert!(Latency::default().curve().is_empty());
    }

    #[test]
    fn empty_is_all_zero() {
        assert_eq!(Latency::default().percentiles(), Percentiles::default());
    }
}
