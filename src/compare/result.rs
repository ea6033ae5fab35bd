//! A paired comparison's result: one typed record that the comparison writes
//! (`paired.json` in its report folder, or stdout with `--format json`), with a schema
//! version that its readers (`scripts/known-change`, `scripts/resolving-power`) check.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Metric;
use super::counts::Count;
use super::estimate::{self, CountChange, TimeChange, Verdict};
use super::lockstep::{Measured, Plan};
use super::side::Built;

/// Bumped whenever a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedComparison {
    pub schema_version: u32,
    pub a: SideRecord,
    pub b: SideRecord,
    /// The target both sides measured against, as the comparison's own client saw it.
    pub target: String,
    /// How it was measured (`--processes`, sampling, what was counted).
    pub method: String,
    /// The |z| every time verdict needed (the table's Bonferroni critical value).
    pub critical_z: f64,
    pub rows: Vec<PairedRow>,
}

/// One side as the comparison names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideRecord {
    pub label: String,
    pub commit: String,
    /// What its workers said they measured against (none for groups without a cluster).
    pub fingerprint: Option<String>,
    /// Variables set for this side only (`--b-env`).
    pub env: Vec<(String, String)>,
}

/// One benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedRow {
    pub id: String,
    pub group: String,
    pub time: Option<TimeChange>,
    pub instructions: Option<CountChange>,
    /// System calls per op, `[a, b]`, from one sample of the first pair of workers.
    pub syscalls: [Option<f64>; 2],
    pub verdict: Verdict,
}

impl PairedComparison {
    /// The result of `measured`, every row at the table's critical value.
    pub fn of(
        sides: [&Built; 2],
        target: String,
        plan: &Plan,
        measured: &[Measured],
    ) -> PairedComparison {
        let critical_z = estimate::critical_z(measured.len());
        let rows = measured
            .iter()
            .map(|m| PairedRow::of(m, group_variance(measured, group_of(&m.id)), critical_z))
            .collect();
        let method = format!(
            "paired: {} pair(s) of workers per benchmark, samples of ~{:?} alternated A B / B A for {:?} per pair; {}",
            plan.processes,
            plan.pacing.sample,
            plan.pacing.budget,
            match plan.metric {
                Metric::Time => "time only",
                Metric::Instructions => "instructions only (callgrind, ASLR off)",
                Metric::Both => "time, and instructions under callgrind (ASLR off)",
            }
        );
        PairedComparison {
            schema_version: SCHEMA_VERSION,
            a: SideRecord::of(sides[0]),
            b: SideRecord::of(sides[1]),
            target,
            method,
            critical_z,
            rows,
        }
    }
}

fn group_of(id: &str) -> &str {
    id.split('/').next().unwrap_or_default()
}

/// The median over `group`'s rows of how far their pairs of workers disagree (0 where
/// no row ran two).
fn group_variance(measured: &[Measured], group: &str) -> f64 {
    let mut variances: Vec<f64> = measured
        .iter()
        .filter(|m| group_of(&m.id) == group)
        .filter_map(|m| estimate::process_variance(&m.samples))
        .collect();
    variances.sort_by(f64::total_cmp);
    variances.get(variances.len() / 2).copied().unwrap_or(0.0)
}

impl SideRecord {
    fn of(built: &Built) -> SideRecord {
        SideRecord {
            label: built.side.label.clone(),
            commit: built.side.commit.clone(),
            fingerprint: measured_against(&built.dir.join("worker.log")),
            env: built.side.env.clone(),
        }
    }

    /// `label: fingerprint`, and the side's own variables.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{}: {}",
            self.label,
            self.fingerprint.as_deref().unwrap_or("no cluster reached")
        );
        for (key, value) in &self.env {
            text.push_str(&format!(" (runs with {key}={value})"));
        }
        text
    }
}

/// The last fingerprint line a side's workers printed.
fn measured_against(log: &Path) -> Option<String> {
    const LINE: &str = "aerobench: measuring against ";
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix(LINE))
        .map(str::to_string)
}

impl PairedRow {
    /// The row of `measured` at the table's critical value.
    pub fn of(measured: &Measured, group_process_var: f64, z: f64) -> PairedRow {
        let group = group_of(&measured.id).to_string();
        let floor = estimate::time_floor(&group);
        let time = estimate::time_change(&measured.samples, z, floor, group_process_var);
        let instructions = match measured.counts {
            [Some(a), Some(b)] => Some(estimate::count_change(a, b)),
            _ => None,
        };
        let syscalls = measured
            .samples
            .first()
            .map_or([None, None], |s| s.syscalls);
        let verdict = estimate::verdict(time.as_ref(), instructions.as_ref());
        PairedRow {
            id: measured.id.clone(),
            group,
            time,
            instructions,
            syscalls,
            verdict,
        }
    }
}

impl PairedComparison {
    /// The Markdown table: per benchmark, time per op on each side, its change and
    /// interval, instructions per op and their change, system calls per op, the verdict.
    pub fn table(&self) -> String {
        let (a, b) = (&self.a.label, &self.b.label);
        let mut out = format!(
            "| benchmark | {a} | {b} | time | interval | MDC | instr/op {a} | instr/op {b} | instructions | syscalls/op | verdict |\n\
             |---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|\n"
        );
        for row in &self.rows {
            let time = row.time.as_ref();
            let count = row.instructions.as_ref();
            let cells = [
                row.id.clone(),
                time.map_or("–".into(), |t| crate::durations::format_ns(t.a_ns)),
                time.map_or("–".into(), |t| crate::durations::format_ns(t.b_ns)),
                time.map_or("–".into(), |t| estimate::percent(t.change)),
                time.map_or("–".into(), |t| {
                    format!(
                        "[{}, {}]",
                        estimate::percent(t.low),
                        estimate::percent(t.high)
                    )
                }),
                time.map_or("–".into(), |t| format!("{:.2}%", t.mdc * 100.0)),
                count.map_or("–".into(), |c| per_op(&c.a)),
                count.map_or("–".into(), |c| per_op(&c.b)),
                count.map_or("–".into(), |c| match c.repeatable {
                    true => estimate::percent(c.change),
                    false => format!("{} (not repeatable)", estimate::percent(c.change)),
                }),
                syscalls(row.syscalls),
                row.verdict.text.clone(),
            ];
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }
}

fn per_op(count: &Count) -> String {
    match count.per_op >= 100.0 {
        true => format!("{:.0}", count.per_op),
        false => format!("{:.1}", count.per_op),
    }
}

fn syscalls([a, b]: [Option<f64>; 2]) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{a:.2} → {b:.2}"),
        _ => "–".into(),
    }
}
