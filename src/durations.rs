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

/// A latency a person writes (`1ms`, `250us`, `250µs`, `1.5ms`, `900ns`, `2s`) in
/// nanoseconds, or a one-line error naming the accepted forms.
pub fn parse_latency(s: &str) -> Result<u64, String> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'));
    let (number, unit) = s.split_at(split.unwrap_or(s.len()));
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => f64::NAN,
    };
    match number.parse::<f64>().map(|n| n * scale) {
        Ok(ns) if ns.is_finite() && ns >= 1.0 => Ok(ns.round() as u64),
        _ => Err(format!(
            "invalid latency {s:?}: use a number and a unit, e.g. 1ms, 250us, 1.5ms"
        )),
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

    #[test]
    fn latencies_people_write() {
        assert_eq!(parse_latency("1ms"), Ok(1_000_000));
        assert_eq!(parse_latency("1.5ms"), Ok(1_500_000));
        assert_eq!(parse_latency("250us"), Ok(250_000));
        assert_eq!(parse_latency("250µs"), Ok(250_000));
        assert_eq!(parse_latency("2s"), Ok(2_000_000_000));
        for bad in ["1", "ms", "1 h", "-1ms", "0ms", ""] {
            assert!(
                parse_latency(bad).unwrap_err().contains("e.g. 1ms"),
                "{bad}"
            );
        }
    }
}
