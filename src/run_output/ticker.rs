//! The per-second ticker line: the window's throughput, counts and latency.

use super::latency;
use crate::stats::Figures;

/// The line for window `k` (0-based), labelled with the second it ends at.
pub fn line(k: usize, f: &Figures) -> String {
    format!(
        "{:>4}s  TPS {:>8.0}  reads {:>8}  writes {:>8}  misses {:>6}  errors {:>6}  timeouts {:>6}  p50 {:>8}  p99 {:>8}",
        k + 1,
        f.tps,
        f.reads,
        f.writes,
        f.misses,
        f.errors,
        f.timeouts,
        latency(f.latency_ns.p50),
        latency(f.latency_ns.p99),
    )
}
