//! The block printed when a run ends: what ran, then its outcome.

use std::fmt::Write;

use super::latency;
use super::result::{Knobs, Outcome};
use crate::driver::Mode;
use crate::driver::bare::Bare;
use crate::stats::{Figures, Percentiles};

/// The summary block (several lines, ending with a newline).
pub fn block(knobs: &Knobs, outcome: &Outcome) -> String {
    let f = &outcome.figures;
    let mut out = String::from("---- summary ----\n");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(out, "{name:<12}{value}");
    };
    what_ran(knobs, &mut row);
    row("TPS", format!("{:.0}", f.tps));
    row(
        "ops",
        format!(
            "{} (reads {}, writes {}, misses {}) in {} calls",
            f.ops, f.reads, f.writes, f.misses, f.calls
        ),
    );
    row("errors", f.errors.to_string());
    row("timeouts", f.timeouts.to_string());
    if !f.failures.is_empty() {
        let named: Vec<String> = f
            .failures
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        row("failures", named.join(", "));
    }
    row("mismatches", f.mismatches.to_string());
    match &f.service_ns {
        None => row("latency", percentiles(&f.latency_ns)),
        Some(service) => {
            row(
                "response",
                format!(
                    "{}  (from each call's due instant)",
                    percentiles(&f.latency_ns)
                ),
            );
            row(
                "service",
                format!("{}  (from its actual send)", percentiles(service)),
            );
        }
    }
    for (kind, k) in &f.kinds {
        row(kind, of_kind(k));
    }
    if let Some(schedule) = &outcome.open_loop {
        row(
            "schedule",
            format!(
                "{:.0} of {} calls/s; {} calls sent > 1 ms late, {} due calls never sent{}",
                schedule.achieved,
                schedule.asked.rate,
                schedule.late,
                schedule.asked.unsent,
                match schedule.kept_up {
                    true => "",
                    false => ": the client did not keep up with the schedule",
                }
            ),
        );
    }
    let cpu = latency(outcome.cpu_ns_per_op as u64);
    match knobs.self_overhead {
        true => row(
            "overhead",
            format!("{cpu} CPU per op: the harness alone, client call replaced"),
        ),
        false => row("CPU/op", format!("{cpu} (whole process, measured span)")),
    }
    if let Some(counters) = &outcome.per_op {
        row("per op", format!("{} (measured span)", counters.summary()));
    }
    if let Some(opened) = outcome.connections_opened {
        row(
            "connections",
            format!("{opened} opened by the cluster during the run (warm-up included)"),
        );
    }
    if outcome.abandoned > 0 {
        row(
            "abandoned",
            format!("{} tasks still in a call after the end", outcome.abandoned),
        );
    }
    out
}

/// `p50 …  p90 …  p99 …  p99.9 …  max …`.
fn percentiles(p: &Percentiles) -> String {
    format!(
        "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
        latency(p.p50),
        latency(p.p90),
        latency(p.p99),
        latency(p.p999),
        latency(p.max)
    )
}

/// One kind of call's row: its throughput, latency and failures.
fn of_kind(k: &Figures) -> String {
    let service = match &k.service_ns {
        Some(s) => format!("  service p50 {} p99 {}", latency(s.p50), latency(s.p99)),
        None => String::new(),
    };
    format!(
        "TPS {:.0} in {} calls  {}{service}  misses {}  errors {}  timeouts {}",
        k.tps,
        k.calls,
        percentiles(&k.latency_ns),
        k.misses,
        k.errors,
        k.timeouts
    )
}

/// The summary block of a bare run: what ran, then only what a bare loop counts.
pub fn bare_block(knobs: &Knobs, bare: &Bare) -> String {
    let mut out = String::from("---- summary (bare client loop) ----\n");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(out, "{name:<12}{value}");
    };
    what_ran(knobs, &mut row);
    row("TPS", format!("{:.0}", bare.tps()));
    row("ops", format!("{} (calls, failed or not)", bare.ops));
    row("errors", format!("{} (key not found aside)", bare.errors));
    row(
        "CPU/op",
        format!(
            "{} (whole process, measured span; nothing recorded or checked)",
            latency(bare.cpu_ns_per_op() as u64)
        ),
    );
    out
}

/// The rows that say what ran: mode, workload, measured span.
fn what_ran(knobs: &Knobs, row: &mut impl FnMut(&str, String)) {
    row("mode", mode(knobs));
    row(
        "workload",
        format!(
            "{} over {} keys, object {}, batch {}{}",
            knobs.workload.mix,
            knobs.workload.keys,
            knobs.workload.object,
            knobs.workload.batch_size,
            if knobs.seeded { ", seeded" } else { "" }
        ),
    );
    row(
        "measured",
        format!(
            "{:.0} s after {:.0} s warm-up",
            knobs.duration_s, knobs.warmup_s
        ),
    );
}

/// The line printed before the run starts.
pub fn heading(knobs: &Knobs) -> String {
    let overhead = match (knobs.self_overhead, knobs.bare) {
        (true, _) => " (self-overhead: the client call replaced by a ready future)",
        (_, true) => " (bare: nothing around the client call but a counter)",
        _ => "",
    };
    format!(
        "running {}: {} over {} keys for {:.0} s after {:.0} s warm-up{overhead}",
        load(knobs),
        knobs.workload.mix,
        knobs.workload.keys,
        knobs.duration_s,
        knobs.warmup_s
    )
}

/// `async, 32 tasks on 2 workers, closed loop` or `sync, 32 threads, open loop at 5000
/// calls/s`.
fn load(knobs: &Knobs) -> String {
    let callers = match knobs.mode {
        Mode::Async { tasks } => format!("async, {tasks} tasks on {} workers", knobs.workers),
        Mode::Sync { threads } => format!("sync, {threads} threads"),
    };
    match knobs.rate {
        Some(rate) => format!("{callers}, open loop at {rate} calls/s"),
        None => format!("{callers}, closed loop"),
    }
}

fn mode(knobs: &Knobs) -> String {
    let timeout = match knobs.timeout_ms {
        0 => "no per-op timeout".to_string(),
        ms => format!("timeout {ms} ms"),
    };
    let pool = &knobs.pool;
    format!(
        "{}, {timeout}, pool max {} min {} pools {}",
        load(knobs),
        pool.max_conns_per_node,
        pool.min_conns_per_node,
        pool.conn_pools_per_node
    )
}
