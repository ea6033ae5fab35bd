//! What a run shows and keeps: the per-second ticker line, the summary block, the seeding
//! progress bar, and the JSON result file.
//!
//! - [`ticker`]: one line per window.
//! - [`summary`]: the block printed at the end.
//! - [`result`]: the JSON result (fingerprint, knobs, outcome, per-second series).
//! - [`progress`]: the seeding progress bar.

pub mod progress;
pub mod result;
pub mod summary;
pub mod ticker;

/// A latency in nanoseconds as µs (or ms from 10 ms up), 3 significant digits.
pub fn latency(ns: u64) -> String {
    let us = ns as f64 / 1000.0;
    match us {
        us if us >= 10_000.0 => format!("{:.1}ms", us / 1000.0),
        us if us >= 100.0 => format!("{us:.0}µs"),
        us if us >= 10.0 => format!("{us:.1}µs"),
        us => format!("{us:.2}µs"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn latency_keeps_three_digits() {
        assert_eq!(super::latency(45_250), "45.2µs");
        assert_eq!(super::latency(812), "0.81µs");
        assert_eq!(super::latency(123_456), "123µs");
        assert_eq!(super::latency(12_345_678), "12.3ms");
    }
}
