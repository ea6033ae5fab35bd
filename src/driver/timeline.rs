//! A run's clock: warm-up, then the measured span cut into one-second windows at fixed
//! instants. A call belongs to the window its completion instant falls in; calls that end
//! in warm-up or after the end belong to none, so they are in no figure.

use std::time::{Duration, Instant};

/// Length of a ticker window.
pub const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    /// When measuring starts (warm-up ends).
    pub measure: Instant,
    pub end: Instant,
}

impl Timeline {
    pub fn new(start: Instant, warmup: Duration, duration: Duration) -> Timeline {
        let measure = start + warmup;
        Timeline {
            measure,
            end: measure + duration,
        }
    }

    /// Windows in the measured span; the last one is shorter when the span is not a
    /// whole number of seconds.
    pub fn windows(&self) -> usize {
        let span = self.end - self.measure;
        span.as_nanos().div_ceil(WINDOW.as_nanos()) as usize
    }

    /// The window a call ending at `t` counts in.
    pub fn window_of(&self, t: Instant) -> Option<usize> {
        if t < self.measure || t >= self.end {
            return None;
        }
        Some(((t - self.measure).as_nanos() / WINDOW.as_nanos()) as usize)
    }

    /// Where window `k` ends.
    pub fn window_end(&self, k: usize) -> Instant {
        (self.measure + WINDOW * (k as u32 + 1)).min(self.end)
    }

    pub fn window_len(&self, k: usize) -> Duration {
        let start = self.measure + WINDOW * k as u32;
        self.window_end(k) - start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cut_the_measured_span_only() {
        let start = Instant::now();
        let t = Timeline::new(start, Duration::from_secs(1), Duration::from_millis(2500));
        assert_eq!(t.windows(), 3);
        assert_eq!(t.window_of(start), None, "warm-up");
        assert_eq!(t.window_of(t.measure), Some(0));
        assert_eq!(
            t.window_of(t.measure + Duration::from_millis(1999)),
            Some(1)
        );
        assert_eq!(t.window_of(t.end - Duration::from_nanos(1)), Some(2));
        assert_eq!(t.window_of(t.end), None, "after the end");
        let lens: Vec<_> = (0..3).map(|k| t.window_len(k)).collect();
        assert_eq!(lens, [WINDOW, WINDOW, Duration::from_millis(500)]);
        assert_eq!(t.window_end(2), t.end);
    }
}
