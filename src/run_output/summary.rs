//! The block printed when a run ends: what ran, then its outcome.

use std::fmt::Write;

use super::latency;
use super::result::{Knobs, Outcome, Seeding};
use crate::driver::Mode;
use crate::driver::bare::Bare;
use crate::faults::Effect;
use crate::faults::effect::RECOVERED_SHARE;
use crate::stats::{Figures, Percentiles};
use crate::verify::Findings;

/// The summary block (several lines, ending with a newline); `seed` is the seeding
/// phase's figures, when the run seeded, and `verify` what `--verify` found.
pub fn block(
    knobs: &Knobs,
    outcome: &Outcome,
    seed: Option<&Seeding>,
    verify: Option<&Findings>,
) -> String {
    let f = &outcome.figures;
    let mut out = String::from("---- summary ----\n");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(out, "{name:<12}{value}");
    };
    what_ran(knobs, &mut row);
    if let Some(seed) = seed {
        row("seeding", seeding(seed));
    }
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
        row(&kind_name(knobs, kind), of_kind(k));
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
    for effect in &outcome.faults {
        row("fault", fault(effect));
    }
    if let Some(found) = verify {
        row("verify", verified(found));
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

/// A fault's row: what it was, when it showed and cleared (to the one-second window), the
/// worst window's p99 and the failures it caused.
fn fault(effect: &Effect) -> String {
    let seconds = |s: Option<f64>| s.map(|s| format!("{s:.1} s"));
    let timing = match (
        seconds(effect.detected_after_s),
        seconds(effect.recovered_after_s),
    ) {
        (None, _) => "no effect seen in any window".to_string(),
        (Some(d), None) => format!("seen within {d}, not recovered by the end"),
        (Some(d), Some(r)) => match effect.level_share {
            Some(level) if level < RECOVERED_SHARE => format!(
                "seen within {d}, recovered after {r}: failures stopped and the rate steady at {:.0}% of before",
                level * 100.0
            ),
            _ => format!("seen within {d}, recovered after {r}"),
        },
    };
    let failures: Vec<String> = effect
        .failures
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    let retries = match effect.retries {
        Some(n) => format!("; retries {n}"),
        None => String::new(),
    };
    format!(
        "{}: {timing}; worst p99 {}; failures: {}{retries}",
        effect.fault,
        latency(effect.worst_p99_ns),
        match failures.is_empty() {
            true => "none".to_string(),
            false => failures.join(", "),
        }
    )
}

/// The `--verify` row: keys read back and what was wrong, each count named as in the JSON.
fn verified(found: &Findings) -> String {
    format!(
        "{} keys read back: lost_writes {}, stale_reads {}, unexpected {}, unverified {}{}",
        found.keys_checked,
        found.lost_writes,
        found.stale_reads,
        found.unexpected,
        found.unverified,
        match found.clean() {
            true => " (no acknowledged write lost)",
            false => "",
        }
    )
}

/// The seeding phase's row: keys, time, rate, failures and batch-call latency.
fn seeding(seed: &Seeding) -> String {
    let p = &seed.latency_ns;
    format!(
        "{} keys in {:.2} s, TPS {:.0}, errors {}, timeouts {}, per batch call p50 {}  p99 {}  max {}",
        seed.keys,
        seed.seconds,
        seed.tps,
        seed.errors,
        seed.timeouts,
        latency(p.p50),
        latency(p.p99),
        latency(p.max)
    )
}

/// `read` or `write`, as `batch read` or `batch write` when calls carry several keys.
fn kind_name(knobs: &Knobs, kind: &str) -> String {
    match knobs.workload.batch_size {
        1 => kind.to_string(),
        _ => format!("batch {kind}"),
    }
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
    let w = &knobs.workload;
    row(
        "workload",
        format!(
            "{} over {} keys in {}, {} keys, object {}, batch {}{}",
            w.mix,
            w.keys,
            space(knobs),
            w.keys_dist,
            w.object,
            w.batch_size,
            if knobs.seeded { ", seeded" } else { "" }
        ) + verify_split(knobs),
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
    let w = &knobs.workload;
    format!(
        "running {}: {} over {} keys in {}, {} keys, {} for {:.0} s after {:.0} s warm-up{overhead}{}",
        load(knobs),
        w.mix,
        w.keys,
        space(knobs),
        w.keys_dist,
        calls(knobs),
        knobs.duration_s,
        knobs.warmup_s,
        verify_split(knobs)
    )
}

/// Under `--verify`, how the keys are written: the numbers are of that workload.
fn verify_split(knobs: &Knobs) -> &'static str {
    match knobs.workload.verify {
        true => ", verified (each key written by one task)",
        false => "",
    }
}

/// `namespace.set`, or the namespace alone for keys in no set.
fn space(knobs: &Knobs) -> String {
    match knobs.workload.set {
        "" => format!("namespace {} (no set)", knobs.workload.namespace),
        set => format!("{}.{set}", knobs.workload.namespace),
    }
}

/// What each call does: `single-key calls`, or `batch reads and writes of 8 keys`.
fn calls(knobs: &Knobs) -> String {
    let w = &knobs.workload;
    let kinds = match w.mix.read_pct() {
        0 => "writes",
        100 => "reads",
        _ => "reads and writes",
    };
    match w.batch_size {
        1 => format!("single-key {kinds}"),
        n => format!("batch {kinds} of {n} keys"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Call, Row, Tally};
    use crate::workload::{Access, Workload};
    use std::time::Duration;

    fn knobs(workload: Workload) -> Knobs {
        Knobs {
            seeded: true,
            ..Knobs::of_workload(workload)
        }
    }

    fn outcome() -> Outcome {
        let mut tally = Tally::default();
        for access in Access::ALL {
            let call = Call {
                access,
                response: Duration::from_micros(5),
                service: None,
            };
            tally.record(call, &[Row::Written]);
        }
        Outcome::of_figures(Figures::of(&tally, Duration::from_secs(1)))
    }

    #[test]
    fn each_fault_gets_a_row_saying_when_it_showed_and_cleared() {
        let hang = Effect {
            fault: "5s:1:hang:5s".parse().unwrap(),
            baseline_tps: Some(1000.0),
            detected_after_s: Some(1.0),
            recovered_after_s: Some(6.0),
            level_share: Some(1.0),
            worst_p99_ns: 250_000_000,
            failures: [("timeout".to_string(), 48)].into(),
            retries: Some(3),
        };
        let unseen = Effect {
            fault: "2s:0:drop".parse().unwrap(),
            detected_after_s: None,
            recovered_after_s: None,
            failures: Default::default(),
            retries: None,
            ..hang.clone()
        };
        let lost = Effect {
            fault: "5s:2:kill".parse().unwrap(),
            level_share: Some(0.67),
            ..hang.clone()
        };
        let mut outcome = outcome();
        outcome.faults = vec![hang, unseen, lost];
        let block = block(&knobs(Workload::default()), &outcome, None, None);
        assert!(
            block.contains("5s:2:kill: seen within 1.0 s, recovered after 6.0 s: failures stopped and the rate steady at 67% of before"),
            "{block}"
        );
        assert!(block.contains(
            "fault       5s:1:hang:5s: seen within 1.0 s, recovered after 6.0 s; worst p99 250.0ms; failures: timeout 48; retries 3"
        ), "{block}");
        assert!(
            block.contains("fault       2s:0:drop: no effect seen in any window"),
            "{block}"
        );
    }

    #[test]
    fn a_verified_run_gets_a_row_with_every_count() {
        let verified = knobs(Workload {
            verify: true,
            ..Workload::default()
        });
        let found = Findings {
            keys_checked: 1000,
            lost_writes: 2,
            stale_reads: 1,
            unexpected: 0,
            unverified: 3,
        };
        let shown = block(&verified, &outcome(), None, Some(&found));
        assert!(
            shown.contains(
                "verify      1000 keys read back: lost_writes 2, stale_reads 1, unexpected 0, unverified 3\n"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("verified (each key written by one task)"),
            "{shown}"
        );
        let clean = Findings {
            keys_checked: 1000,
            ..Findings::default()
        };
        let shown = block(&verified, &outcome(), None, Some(&clean));
        assert!(shown.contains("(no acknowledged write lost)"), "{shown}");
        let plain = block(&knobs(Workload::default()), &outcome(), None, None);
        assert!(!plain.contains("verif"), "{plain}");
    }

    #[test]
    fn the_heading_names_the_key_space_distribution_and_calls() {
        let (namespace, set) = Workload::names("bar", "");
        let batched = knobs(Workload {
            namespace,
            set,
            keys_dist: "zipf,0.9".parse().unwrap(),
            batch_size: 8,
            ..Workload::default()
        });
        let line = heading(&batched);
        for part in [
            "namespace bar (no set)",
            "zipf,0.9 keys",
            "batch reads and writes of 8 keys",
        ] {
            assert!(line.contains(part), "{part}: {line}");
        }
        let single = heading(&knobs(Workload::default()));
        assert!(
            single.contains("test.test, uniform keys, single-key reads and writes"),
            "{single}"
        );
    }

    #[test]
    fn the_block_shows_the_seeding_and_names_batch_calls() {
        let seed = Seeding {
            keys: 1000,
            seconds: 0.25,
            tps: 4000.0,
            errors: 0,
            timeouts: 0,
            latency_ns: Default::default(),
        };
        let batched = knobs(Workload {
            batch_size: 4,
            object: "I,B:10".parse().unwrap(),
            ..Workload::default()
        });
        let block = block(&batched, &outcome(), Some(&seed), None);
        assert!(
            block.contains("seeding     1000 keys in 0.25 s, TPS 4000"),
            "{block}"
        );
        assert!(
            block.contains("batch read  TPS") && block.contains("batch write TPS"),
            "{block}"
        );
        assert!(block.contains("object I8,B10, batch 4"), "{block}");
        let single = super::block(&knobs(Workload::default()), &outcome(), None, None);
        assert!(
            !single.contains("seeding") && single.contains("\nread        TPS"),
            "{single}"
        );
    }
}
