//! What the doctor prints: a line per probe as it ends, then the table (suspect,
//! verdict, evidence, fix) and the ceiling.

use std::fmt::Write;

use super::Diagnosis;
use super::probes::{Change, Sample};
use super::verdict::Verdict;
use crate::durations::format_ns;

/// One probe's line.
pub fn probe_line(s: &Sample) -> String {
    let change = match s.probe.change {
        Change::AsGiven => "as given".to_string(),
        Change::PoolSized => format!("pool {}", s.probe.max_conns_per_node),
        Change::TimeoutsOff => "timeouts off".to_string(),
        Change::MoreTasks => format!("{} tasks", s.probe.tasks),
        Change::Repeat => "as given again".to_string(),
    };
    format!(
        "{:<12}{change:<14} TPS {:>9.0}  p50 {:>10}  p99.9 {:>10}  failed {:>6}  CPU/op {:>10}  client {:.2} cores (busiest thread {:.2}){}",
        "probe",
        s.tps,
        format_ns(s.p50_ns as f64),
        format_ns(s.p999_ns as f64),
        s.failed,
        format_ns(s.cpu_ns_per_op),
        s.cpu.client_cores,
        s.cpu.busiest_thread,
        s.cpu
            .server_cores
            .map_or(String::new(), |c| format!(", server {c:.2} cores")),
    )
}

/// The table and the ceiling.
pub fn table(d: &Diagnosis) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<24}{:<11}evidence / fix", "suspect", "verdict");
    for f in &d.findings {
        let _ = writeln!(
            out,
            "{:<24}{:<11}{}",
            f.suspect.title(),
            f.verdict.word(),
            f.evidence
        );
        if f.verdict != Verdict::RuledOut {
            let _ = writeln!(out, "{:<35}fix: {}", "", f.fix);
        }
    }
    let _ = writeln!(out, "{}", ceiling_line(d));
    out
}

/// `ceiling     connection pool: <evidence>`, measured against the fingerprint.
pub fn ceiling_line(d: &Diagnosis) -> String {
    let named = d.ceiling.and_then(|s| d.finding(s)).map_or(
        "no suspect ruled in: none of these resources bound this run".to_string(),
        |f| format!("{}: {}; fix: {}", f.suspect.title(), f.evidence, f.fix),
    );
    format!(
        "ceiling     {named}\n            (measured against {}, {:.0} s)",
        d.fingerprint, d.seconds
    )
}
