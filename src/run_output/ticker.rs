//! The per-second ticker line: the window's throughput, counts and latency, then the same
//! for each kind of call (reads, writes), as asbench prints them.

use super::latency;
use crate::stats::Figures;

/// The line for window `k` (0-based), labelled with the second it ends at.
pub fn line(k: usize, f: &Figures) -> String {
    let mut line = format!(
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
    );
    if f.service_ns.is_some() {
        line.push_str(&format!("  late {:>6}", f.late));
    }
    for (kind, k) in &f.kinds {
        line.push_str(&format!(
            "  | {kind} TPS {:>7.0} p50 {:>8} p99 {:>8} miss {} err {} tmo {}",
            k.tps,
            latency(k.latency_ns.p50),
            latency(k.latency_ns.p99),
            k.misses,
            k.errors,
            k.timeouts
        ));
    }
    line
}
