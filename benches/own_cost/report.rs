//! The tables and the kept report (`reports/own_cost.{md,json}`): per case, and the two
//! comparisons the run exists for (run ÷ bare, embedded ÷ asd).

use aerobench::driver::Mode;
use aerobench::files::write_atomically;
use serde::Serialize;

use crate::args::Plan;
use crate::cpu::Cpu;
use crate::measure::Tally;
use crate::sides::Side;
use crate::{COMMAND, Case, Loop, Server};

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

/// One case's figures over all rounds.
#[derive(Serialize)]
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) server: Server,
    #[serde(flatten)]
    pub(crate) mode: Mode,
    #[serde(rename = "loop")]
    pub(crate) looped: Loop,
    /// Calls made, failed ones included.
    pub(crate) ops: u64,
    pub(crate) ops_per_sec: f64,
    /// Throughput of each round, in round order.
    pub(crate) ops_per_sec_rounds: Vec<f64>,
    pub(crate) client_us_per_op: Cpu,
    pub(crate) server_us_per_op: Cpu,
    pub(crate) failures: u64,
}

pub(crate) fn rows(tallies: &[(Case, Tally)]) -> Vec<Row> {
    tallies
        .iter()
        .map(|(case, t)| Row {
            name: case.name(),
            server: case.server,
            mode: case.mode,
            looped: case.looped,
            ops: t.ops,
            ops_per_sec: t.ops as f64 / t.seconds,
            ops_per_sec_rounds: t.tps.clone(),
            client_us_per_op: t.client.us_per_op(t.ops),
            server_us_per_op: t.server.us_per_op(t.ops),
            failures: t.failures,
        })
        .collect()
}

/// The harness's price on one server and mode: run over bare.
#[derive(Serialize)]
struct Harness {
    server: Server,
    #[serde(flatten)]
    mode: Mode,
    tps: f64,
    /// The lowest and highest round's TPS ratio.
    tps_rounds: (f64, f64),
    client_cpu: f64,
}

/// The embedded server's price in one mode: embedded over real, both loops' calls together.
#[derive(Serialize)]
struct Servers {
    #[serde(flatten)]
    mode: Mode,
    embedded: Cpu,
    real: Cpu,
    user: f64,
    system: f64,
}

fn find(rows: &[Row], server: Server, mode: Mode, looped: Loop) -> Option<&Row> {
    rows.iter()
        .find(|r| (r.server, r.mode, r.looped) == (server, mode, looped))
}

fn harness(rows: &[Row]) -> Vec<Harness> {
    rows.iter()
        .filter(|r| r.looped == Loop::Run)
        .filter_map(|run| {
            let bare = find(rows, run.server, run.mode, Loop::Bare)?;
            let per_round = run
                .ops_per_sec_rounds
                .iter()
                .zip(&bare.ops_per_sec_rounds)
                .map(|(r, b)| r / b);
            let low = per_round.clone().fold(f64::MAX, f64::min);
            Some(Harness {
                server: run.server,
                mode: run.mode,
                tps: run.ops_per_sec / bare.ops_per_sec,
                tps_rounds: (low, per_round.fold(0.0, f64::max)),
                client_cpu: run.client_us_per_op.total() / bare.client_us_per_op.total(),
            })
        })
        .collect()
}

/// Server CPU per op over both loops' calls of a server and mode.
fn server_cpu(rows: &[Row], server: Server, mode: Mode) -> Option<Cpu> {
    let both = [Loop::Bare, Loop::Run].map(|l| find(rows, server, mode, l));
    let [Some(bare), Some(run)] = both else {
        return None;
    };
    let ops = bare.ops + run.ops;
    let weigh = |r: &Row| r.server_us_per_op.scaled(r.ops as f64 / ops as f64);
    Some(weigh(bare).plus(weigh(run)))
}

fn servers(rows: &[Row]) -> Vec<Servers> {
    let mut modes: Vec<Mode> = rows.iter().map(|r| r.mode).collect();
    modes.dedup();
    modes
        .into_iter()
        .filter_map(|mode| {
            let embedded = server_cpu(rows, Server::Embedded, mode)?;
            let real = server_cpu(rows, Server::Real, mode)?;
            Some(Servers {
                mode,
                embedded,
                real,
                user: embedded.user / real.user,
                system: embedded.system / real.system,
            })
        })
        .collect()
}

/// A ratio with two decimals; `n/a` where the divisor was zero (a span too short for the
/// clock tick).
fn ratio(x: f64) -> String {
    match x.is_finite() {
        true => format!("{x:.2}"),
        false => "n/a".into(),
    }
}

fn cpu(c: Cpu) -> String {
    format!("{:.2} ({:.2} + {:.2})", c.total(), c.user, c.system)
}

fn callers(mode: Mode) -> String {
    format!("{} {}", mode.name(), mode.concurrency())
}

/// The tables, headed by what each server is.
pub(crate) fn render(report: &Report) -> String {
    let Report { plan, load, .. } = report;
    let mut out = format!(
        "own_cost: RU,50 over 100,000 seeded keys, I8, default policies, one node each; \
         {:.1} s per case and round, {} round(s), each row's cases interleaved; load \
         average {} before, {} after\n",
        plan.span.as_secs_f64(),
        plan.rounds,
        load[0],
        load[1]
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
    out.push_str(&harness_table(&report.rows));
    out.push_str(&servers_table(&report.rows));
    out.push_str(
        "\nPer case (CPU in µs per op, user + system):\n\n\
         | case | ops/s (rounds) | client CPU | server CPU |\n|---|---:|---:|---:|\n",
    );
    for r in &report.rows {
        let rounds: Vec<String> = r
            .ops_per_sec_rounds
            .iter()
            .map(|t| format!("{t:.0}"))
            .collect();
        out.push_str(&format!(
            "| {} | {:.0} ({}) | {} | {} |\n",
            r.name,
            r.ops_per_sec,
            rounds.join(", "),
            cpu(r.client_us_per_op),
            cpu(r.server_us_per_op),
        ));
    }
    for r in report.rows.iter().filter(|r| r.failures > 0) {
        out.push_str(&format!(
            "\n{}: {} of {} calls failed (counted above)",
            r.name, r.failures, r.ops
        ));
    }
    out
}

fn harness_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "\nThe harness's price, aerobench run ÷ bare loop (goal: TPS ≥ 0.98, client CPU per op \
         ≤ 1.02):\n\n| server | callers | bare ops/s | run ops/s | TPS run ÷ bare (rounds' \
         range) | bare client µs/op | run client µs/op | CPU run ÷ bare |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for h in harness(rows) {
        let (Some(bare), Some(run)) = (
            find(rows, h.server, h.mode, Loop::Bare),
            find(rows, h.server, h.mode, Loop::Run),
        ) else {
            continue;
        };
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {} ({}–{}) | {} | {} | {} |\n",
            h.server.name(),
            callers(h.mode),
            bare.ops_per_sec,
            run.ops_per_sec,
            ratio(h.tps),
            ratio(h.tps_rounds.0),
            ratio(h.tps_rounds.1),
            cpu(bare.client_us_per_op),
            cpu(run.client_us_per_op),
            ratio(h.client_cpu),
        ));
    }
    out
}

fn servers_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "\nThe embedded server's price, its CPU per op ÷ asd's (goal: user ≤ 0.5):\n\n\
         | callers | embedded µs/op (user + sys) | asd µs/op (user + sys) | user embedded ÷ asd \
         | system embedded ÷ asd |\n|---|---:|---:|---:|---:|\n",
    );
    for s in servers(rows) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            callers(s.mode),
            cpu(s.embedded),
            cpu(s.real),
            ratio(s.user),
            ratio(s.system),
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

/// Writes `reports/own_cost.md` and `.json` through temporary files and renames, so an
/// interrupted run leaves the previous report whole.
pub(crate) fn write_report(table: &str, report: &Report) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let servers_about: serde_json::Map<String, serde_json::Value> = report
        .sides
        .iter()
        .map(|s| {
            let about = serde_json::json!({ "fingerprint": s.fingerprint, "image": s.image });
            (s.server.name().to_string(), about)
        })
        .collect();
    let json = serde_json::json!({
        "command": command(),
        "servers": servers_about,
        "rounds": report.plan.rounds,
        "seconds_per_case_and_round": report.plan.span.as_secs_f64(),
        "load_average_before_after": report.load,
        "run_over_bare": harness(&report.rows),
        "embedded_over_real": servers(&report.rows),
        "rows": report.rows,
    });
    let files = [
        (
            "own_cost.md",
            format!("{table}\nCommand: `{}`\n", command()),
        ),
        (
            "own_cost.json",
            serde_json::to_string_pretty(&json).unwrap_or_default(),
        ),
    ];
    for (name, text) in files {
        if let Err(e) = write_atomically(&dir.join(name), text.as_bytes()) {
            eprintln!("own_cost: {e}");
        }
    }
}
