//! Nanoseconds written for people: both formats the suite prints live here, so each is
//! defined once.

/// Nanoseconds with a unit a person reads at a glance (`1.50 µs`): the Criterion tables.
pub fn format_ns(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{:.2} s", n / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

/// A latency in nanoseconds as µs (or ms from 10 ms up), 3 significant digits, without a
/// space (`45.2µs`): the run's ticker and summary, where columns are narrow.
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
    use super::*;

    #[test]
    fn formats_units() {
        assert_eq!(format_ns(12.34), "12.3 ns");
        assert_eq!(format_ns(1_500.0), "1.50 µs");
        assert_eq!(format_ns(2_500_000.0), "2.50 ms");
    }

    #[test]
    fn latency_keeps_three_digits() {
        assert_eq!(latency(45_250), "45.2µs");
        assert_eq!(latency(812), "0.81µs");
        assert_eq!(latency(123_456), "123µs");
        assert_eq!(latency(12_345_678), "12.3ms");
    }
}
