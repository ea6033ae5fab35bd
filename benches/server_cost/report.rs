//! The table and the kept report (`reports/server_cost.{md,json}`).

use aerobench::files::write_atomically;
use serde::Serialize;

use crate::args::Plan;
use crate::cpu::Cpu;
use crate::measure::Tally;
use crate::sides::Side;
use crate::{COMMAND, Case, Op, Server};

/// What a run found, with the conditions it ran under.
pub(crate) struct Report<'a> {
    pub(crate) sides: &'a [Side],
    pub(crate) rows: Vec<Row>,
    pub(crate) plan: Plan,
    pub(crate) skipped: Option<String>,
    /// `/proc/loadavg`'s 1, 5 and 15 minute figures before and after measuring: other
    /// work on the machine shows in every number.
    pub(crate) load: [String; 2],
}

pub(crate) fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Serialize)]
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) server: Server,
    pub(crate) op: Op,
    pub(crate) tasks: usize,
    pub(crate) ops: u64,
    pub(crate) client_us_per_op: Cpu,
    pub(crate) server_us_per_op: Cpu,
    pub(crate) ops_per_sec: f64,
    /// The slowest and fastest round.
    pub(crate) ops_per_sec_range: (f64, f64),
    /// Real over embedded for the same op and task count: client CPU, server CPU, ops/s.
    pub(crate) vs_embedded: Option<(f64, f64, f64)>,
    /// Failed ops (counted in `ops`) and the last one's message.
    pub(crate) failures: u64,
    pub(crate) last_failure: Option<String>,
}

pub(crate) fn rows(tallies: &[(Case, Tally)]) -> Vec<Row> {
    let figures = |t: &Tally| {
        let (client, server) = (t.client.us_per_op(t.ops), t.server.us_per_op(t.ops));
        (client, server, t.ops as f64 / t.seconds)
    };
    let embedded = |case: &Case| {
        tallies
            .iter()
            .find(|(c, _)| c.server == Server::Embedded && (c.op, c.tasks) == (case.op, case.tasks))
            .map(|(_, t)| figures(t))
    };
    tallies
        .iter()
        .map(|(case, tally)| {
            let (client, server, tps) = figures(tally);
            let vs_embedded =
                embedded(case)
                    .filter(|_| case.server == Server::Real)
                    .map(|(c, s, t)| {
                        (
                            client.total() / c.total(),
                            server.total() / s.total(),
                            tps / t,
                        )
                    });
            let fold = |f: fn(f64, f64) -> f64, start| tally.tps.iter().copied().fold(start, f);
            Row {
                name: case.name(),
                server: case.server,
                op: case.op,
                tasks: case.tasks,
                ops: tally.ops,
                client_us_per_op: client,
                server_us_per_op: server,
                ops_per_sec: tps,
                ops_per_sec_range: (fold(f64::min, f64::MAX), fold(f64::max, 0.0)),
                vs_embedded,
                failures: tally.failures,
                last_failure: tally.last_failure.clone(),
            }
        })
        .collect()
}

/// The table, headed by what each server is.
pub(crate) fn render(report: &Report) -> String {
    let Report { plan, load, .. } = report;
    let mut out = format!(
        "server_cost: per op, {} gets and {} puts per row and round (fewer when not a multiple \
         of the tasks), {} round(s), the servers interleaved; one node each, default client \
         policy; load average {} before, {} after\n",
        plan.ops, plan.ops, plan.rounds, load[0], load[1]
    );
    for side in report.sides {
        let image = side
            .image
            .as_deref()
            .map_or(String::new(), |i| format!(" image={i}"));
        let name = side.server.name();
        out.push_str(&format!("{name}: {}{image}\n", side.fingerprint));
    }
    if let Some(why) = &report.skipped {
        out.push_str(&format!("real: skipped: {why}\n"));
    }
    out.push_str(
        "\n| op | tasks | server | client CPU µs/op (user + sys) | server CPU µs/op (user + sys) \
         | ops/s (rounds' range) | real ÷ embedded: client CPU, server CPU, ops/s |\n\
         |---|---:|---|---:|---:|---:|---|\n",
    );
    for r in &report.rows {
        let cpu = |c: Cpu| format!("{:.2} ({:.2} + {:.2})", c.total(), c.user, c.system);
        // A zero below (a run too short for the clock tick) has no ratio.
        let ratio = |x: f64| match x.is_finite() {
            true => format!("{x:.2}"),
            false => "n/a".into(),
        };
        let ratios = r.vs_embedded.map_or(String::new(), |(c, s, t)| {
            format!("{}, {}, {}", ratio(c), ratio(s), ratio(t))
        });
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.0} ({:.0}–{:.0}) | {ratios} |\n",
            r.op.name(),
            r.tasks,
            r.server.name(),
            cpu(r.client_us_per_op),
            cpu(r.server_us_per_op),
            r.ops_per_sec,
            r.ops_per_sec_range.0,
            r.ops_per_sec_range.1,
        ));
    }
    for r in report.rows.iter().filter(|r| r.failures > 0) {
        let last = r.last_failure.as_deref().unwrap_or_default();
        let last = last.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push_str(&format!(
            "\n{}: {} of {} ops failed (counted above), the last: {last}",
            r.name, r.failures, r.ops
        ));
    }
    out
}

/// The command as run, with the image variables that chose the real server.
pub(crate) fn command() -> String {
    let vars: String = ["AEROBENCH_IMAGE", "AEROBENCH_IMAGE_TAG"]
        .iter()
        .filter_map(|k| Some(format!("{k}={} ", std::env::var(k).ok()?)))
        .collect();
    format!("{vars}{COMMAND}")
}

/// Writes `reports/server_cost.md` and `.json` through temporary files and renames, so
/// an interrupted run leaves the previous report whole.
pub(crate) fn write_report(table: &str, report: &Report) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let servers: serde_json::Map<String, serde_json::Value> = report
        .sides
        .iter()
        .map(|s| {
            let about = serde_json::json!({ "fingerprint": s.fingerprint, "image": s.image });
            (s.server.name().to_string(), about)
        })
        .collect();
    let json = serde_json::json!({
        "command": command(),
        "servers": servers,
        "rounds": report.plan.rounds,
        "ops_per_row_and_round": report.plan.ops,
        "load_average_before_after": report.load,
        "rows": report.rows,
    });
    let files = [
        (
            "server_cost.md",
            format!("{table}\nCommand: `{}`\n", command()),
        ),
        (
            "server_cost.json",
            serde_json::to_string_pretty(&json).unwrap_or_default(),
        ),
    ];
    for (name, text) in files {
        if let Err(e) = write_atomically(&dir.join(name), text.as_bytes()) {
            eprintln!("server_cost: {e}");
        }
    }
}
