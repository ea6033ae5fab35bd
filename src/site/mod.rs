//! The report a person opens: `reports/<name>/index.html` and `summary.md`, built from
//! Criterion's saved results, the CLI's JSON results and the run's fingerprint, so nobody
//! needs to know Criterion's folder layout.
//!
//! One set of [`Table`]s is rendered twice, as HTML and as Markdown, so the two files
//! always say the same thing. The page is static: inline CSS, no script, no network; links
//! are relative and only made to files that exist, so it opens from the file system.

mod doctor;
pub mod plots;
pub mod waterfall;

use std::path::{Component, Path, PathBuf};

use crate::clock::utc_date;
use crate::criterion_results::RunRecord;
use crate::criterion_results::{self, BenchResult, compare, fit};
use crate::files::{WriteError, write_atomically};
use crate::op_counters::OpCounters;
use crate::profile::FLAMEGRAPH;
use crate::server_share::ServerShare;

/// What to build the report from, and where.
pub struct Options {
    pub criterion_dir: PathBuf,
    /// Directory of the CLI's JSON results (`reports/runs`).
    pub runs_dir: PathBuf,
    pub out_dir: PathBuf,
    /// Two saved baselines to compare, if any.
    pub compare: Option<(String, String)>,
}

/// A table cell: text, optionally linking to a file.
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub link: Option<String>,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell { text, link: None }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::from(text.to_string())
    }
}

/// A titled table with an optional explanation and picture.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub title: String,
    pub intro: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// Image files beside the page, shown under the title.
    pub images: Vec<String>,
}

/// Why no report was written.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(
        "no Criterion results under {} and no run results: run `cargo bench` (or `cargo bench -- --quick`) or `aerobench run` first",
        .0.display()
    )]
    NoResults(PathBuf),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Builds the report; returns the path of `index.html`. A report of runs and knees alone
/// (no `cargo bench` yet) leaves out the sections that need Criterion's results.
pub fn write(options: &Options) -> Result<PathBuf, SiteError> {
    let results = criterion_results::load(&options.criterion_dir, "new");
    let runs = json_files(&options.runs_dir);
    let knees = json_files(&knees_dir(options));
    let diagnoses = json_files(&doctor::dir(options));
    if results.is_empty() && runs.is_empty() && knees.is_empty() && diagnoses.is_empty() {
        return Err(SiteError::NoResults(options.criterion_dir.clone()));
    }
    let mut tables = vec![run_table(options)];
    let share = ServerShare::load(&options.criterion_dir);
    let server = waterfall::server_cost(share.as_ref());
    if let Some(stack) = waterfall::stack(&results, server.clone().ok()) {
        write_atomically(
            &options.out_dir.join("waterfall.svg"),
            waterfall::waterfall_svg(&stack).as_bytes(),
        )?;
        tables.push(layer_table(&stack, server.err()));
    }
    if !results.is_empty() {
        tables.push(batch_table(&results));
    }
    tables.push(workload_table(options, &runs)?);
    tables.push(knee_table(options, &knees)?);
    tables.push(doctor::table(options, &diagnoses));
    if let Some((a, b)) = &options.compare {
        tables.push(comparison_table(options, a, b));
    }
    tables.extend(group_tables(options, &results));
    let index = options.out_dir.join("index.html");
    write_atomically(&index, html(&tables).as_bytes())?;
    write_atomically(
        &options.out_dir.join("summary.md"),
        markdown(&tables).as_bytes(),
    )?;
    Ok(index)
}

fn run_table(options: &Options) -> Table {
    let path = RunRecord::path(&options.criterion_dir);
    let record: Option<RunRecord> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let rows = match record {
        Some(r) => {
            let f = r.fingerprint;
            vec![
                ("target", f.target),
                ("nodes", format!("{} ({})", f.nodes, f.hosts.join(", "))),
                ("server", f.server),
                ("client", format!("aerospike-core {}", f.client)),
                ("commit", f.commit),
                ("machine", f.machine),
                ("date", utc_date(r.started_unix)),
            ]
        }
        None => vec![(
            "fingerprint",
            format!("missing: {} not found", path.display()),
        )],
    };
    Table {
        title: "Run".into(),
        intro: "What every number below was measured against (the last `cargo bench` run).".into(),
        headers: vec!["measured against", "value"],
        rows: rows
            .into_iter()
            .map(|(k, v)| vec![k.into(), v.into()])
            .collect(),
        images: Vec::new(),
    }
}

/// The waterfall's table; `server_unknown` says why the server's share is not in it.
fn layer_table(stack: &[waterfall::Layer], server_unknown: Option<String>) -> Table {
    let server = match server_unknown {
        None => "The server row is the server's own time per get during the get's benchmark, \
                 measured by the server itself (see its note; a range where a histogram gave it)."
            .to_string(),
        Some(why) => format!(
            "The server's share is unknown ({why}), so the top row includes the server's work."
        ),
    };
    Table {
        title: "Where one get's time goes".into(),
        intro: format!(
            "Each layer's own cost, from the TCP floor up to the whole get; the top row is the \
             get minus every layer below it. Costs are Criterion estimates from the layer \
             groups. {server}"
        ),
        headers: vec!["layer", "cost", "cumulative", "per op (profiled)", "note"],
        rows: stack
            .iter()
            .rev()
            .map(|l| {
                let ns = criterion_results::format_ns;
                let cost = match l.bounds_ns {
                    Some((low, high)) => format!("{} ({} to {})", ns(l.cost_ns), ns(low), ns(high)),
                    None => ns(l.cost_ns),
                };
                let counters = l.bench_dir.as_deref().and_then(OpCounters::load);
                vec![
                    l.name.clone().into(),
                    cost.into(),
                    ns(l.cumulative_ns).into(),
                    counters.map_or("–".into(), |c| c.summary()).into(),
                    l.note.clone().into(),
                ]
            })
            .collect(),
        images: vec!["waterfall.svg".into()],
    }
}

fn batch_table(results: &[BenchResult]) -> Table {
    let rows = ["read", "write"]
        .iter()
        .filter_map(|kind| {
            let points: Vec<(f64, f64)> = results
                .iter()
                .filter(|r| r.group == "batch" && r.function.as_deref() == Some(kind))
                .filter_map(|r| Some((r.value.as_deref()?.parse().ok()?, r.time_ns.point_estimate)))
                .collect();
            let model = fit::fit(&points)?;
            Some(vec![
                format!("batch {kind}").into(),
                criterion_results::format_ns(model.fixed_ns).into(),
                criterion_results::format_ns(model.per_key_ns).into(),
                criterion_results::format_ns(model.rms_error_ns).into(),
                format!("{:.4}", model.r_squared).into(),
                points.len().to_string().into(),
            ])
        })
        .collect();
    Table {
        title: "Batch model".into(),
        intro: "Time per batch call fitted as fixed cost + marginal cost × keys over the measured \
                sizes (least squares). The fixed part is what batching amortizes."
            .into(),
        headers: vec![
            "operation",
            "fixed cost",
            "per key",
            "fit RMS error",
            "R²",
            "sizes",
        ],
        rows,
        images: Vec::new(),
    }
}

/// The JSON files in `dir`, by name, with their parsed content (unreadable ones skipped).
fn json_files(dir: &Path) -> Vec<(PathBuf, serde_json::Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let doc = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
            Some((path, doc))
        })
        .collect()
}

/// The file name without its extension.
fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// Writes `drawn` (if a plot was drawn) to `plots/<name>.svg` beside the page and returns
/// its relative path; a plot the library fails to draw is left out of the page.
fn save_plot(
    options: &Options,
    name: &str,
    drawn: Option<plots::Drawn>,
) -> Result<Option<String>, SiteError> {
    let Some(Ok(svg)) = drawn else {
        return Ok(None);
    };
    let relative = format!("plots/{name}.svg");
    write_atomically(&options.out_dir.join(&relative), svg.as_bytes())?;
    Ok(Some(relative))
}

/// The runs' table and plots; `runs` are the JSON results in `options.runs_dir`.
fn workload_table(
    options: &Options,
    runs: &[(PathBuf, serde_json::Value)],
) -> Result<Table, SiteError> {
    let lines: Vec<plots::Line> = runs
        .iter()
        .filter_map(|(path, doc)| plots::Line::of(&stem(path), doc))
        .collect();
    let mut images: Vec<String> = save_plot(options, "distribution", plots::distribution(&lines))?
        .into_iter()
        .collect();
    for (path, doc) in runs {
        images.extend(save_plot(
            options,
            &stem(path),
            plots::seconds(&stem(path), doc),
        )?);
    }
    let rows = runs
        .iter()
        .map(|(path, doc)| workload_row(doc, relative_link(&options.out_dir, path)))
        .collect();
    Ok(Table {
        title: "Workloads".into(),
        intro: format!(
            "Runs of `aerobench run`, one row per JSON result in {}. Closed-loop latency runs \
             from each call's send; an open-loop run's (at a fixed rate, dashed in the \
             percentile plot) is response time, from the instant each call was due.",
            options.runs_dir.display()
        ),
        headers: vec![
            "result",
            "mode",
            "tasks",
            "TPS",
            "p50 / p99 / p99.9",
            "errors",
            "timeouts",
            "mismatches",
        ],
        rows,
        images,
    })
}

/// Where `aerobench knee` saves: `knees/` beside the runs' folder.
fn knees_dir(options: &Options) -> PathBuf {
    options.runs_dir.with_file_name("knees")
}

/// The knees found by `aerobench knee`.
fn knee_table(
    options: &Options,
    knees: &[(PathBuf, serde_json::Value)],
) -> Result<Table, SiteError> {
    let dir = knees_dir(options);
    let mut images = Vec::new();
    for (path, doc) in knees {
        images.extend(save_plot(
            options,
            &stem(path),
            plots::knee(&stem(path), doc),
        )?);
    }
    let rate = |v: &serde_json::Value| v.as_u64().map_or("none".into(), |r| format!("{r}/s"));
    let rows = knees
        .iter()
        .map(|(path, doc)| {
            let knee = &doc["knee"];
            let sla = ["p50_ns", "p99_ns", "p999_ns"]
                .iter()
                .filter_map(|k| {
                    Some(format!(
                        "{} ≤ {:.0} µs",
                        &k[..k.len() - 3],
                        doc["sla"][k].as_f64()? / 1000.0
                    ))
                })
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                Cell {
                    text: stem(path),
                    link: Some(relative_link(&options.out_dir, path)),
                },
                sla.into(),
                format!("{:.0}/s", knee["ceiling"].as_f64().unwrap_or(f64::NAN)).into(),
                rate(&knee["held"]).into(),
                rate(&knee["missed"]).into(),
            ]
        })
        .collect();
    Ok(Table {
        title: "Knees".into(),
        intro: format!(
            "Results of `aerobench knee` in {}: the highest rate that held the SLA, and the \
             lowest above it that missed; the knee lies between them.",
            dir.display()
        ),
        headers: vec!["result", "SLA", "closed-loop ceiling", "held", "missed"],
        rows,
        images,
    })
}

fn workload_row(doc: &serde_json::Value, link: String) -> Vec<Cell> {
    let knobs = &doc["knobs"];
    let out = &doc["outcome"];
    let us = |p: &str| {
        format!(
            "{:.0}",
            out["latency_ns"][p].as_f64().unwrap_or(f64::NAN) / 1000.0
        )
    };
    let concurrency = knobs.get("tasks").or_else(|| knobs.get("threads"));
    let name = Path::new(&link)
        .file_name()
        .map_or(link.clone(), |n| n.to_string_lossy().into_owned());
    let mut mode = knobs["mode"].as_str().unwrap_or("?").to_string();
    for (knob, label) in [
        ("batch_size", "batch"),
        ("timeout_ms", "timeout ms"),
        ("max_conns_per_node", "max conns"),
    ] {
        mode.push_str(&format!(", {label} {}", knobs[knob]));
    }
    if let Some(rate) = knobs["rate"].as_u64() {
        mode.push_str(&format!(", open loop {rate}/s"));
    }
    if knobs["self_overhead"].as_bool() == Some(true) {
        mode.push_str(", self-overhead");
    }
    vec![
        Cell {
            text: name,
            link: Some(link),
        },
        mode.into(),
        concurrency.map_or("?".into(), ToString::to_string).into(),
        format!("{:.0}", out["tps"].as_f64().unwrap_or(f64::NAN)).into(),
        format!("{} / {} / {} µs", us("p50"), us("p99"), us("p999")).into(),
        format!("{}", out["errors"]).into(),
        format!("{}", out["timeouts"]).into(),
        format!("{}", out["mismatches"]).into(),
    ]
}

fn comparison_table(options: &Options, a: &str, b: &str) -> Table {
    let rows = compare::compare(&options.criterion_dir, a, b)
        .iter()
        .map(|row| {
            let ci = row.change.confidence_interval;
            let diff = row.diff_flamegraph(a, b);
            let verdict = Cell {
                text: row.verdict_text(),
                link: diff
                    .is_file()
                    .then(|| relative_link(&options.out_dir, &diff)),
            };
            vec![
                row.a.id.clone().into(),
                criterion_results::format_ns(row.a_ns).into(),
                criterion_results::format_ns(row.b_ns).into(),
                format!("{:+.2}%", row.change.point_estimate * 100.0).into(),
                format!(
                    "[{:+.2}%, {:+.2}%]",
                    ci.lower_bound * 100.0,
                    ci.upper_bound * 100.0
                )
                .into(),
                verdict,
                row.mdc_text().into(),
            ]
        })
        .collect();
    Table {
        title: format!("Baseline comparison: {a} → {b}"),
        intro: format!(
            "Relative change of the median with an interval that holds for the whole table at \
             95% (from how the interleaved rounds disagree; with one round, from the samples \
             alone); a verdict needs the whole interval beyond ±{:.0}% (Criterion's rule). A \
             regressed verdict links its differential flamegraph where one was made \
             (scripts/compare). Smallest detectable: the change these runs would flag four \
             times in five; ⚠ marks one above the group's goal (2% for CPU-only groups, 5% \
             with I/O).",
            compare::NOISE * 100.0
        ),
        headers: vec![
            "benchmark",
            "A (median)",
            "B (median)",
            "change",
            "95% CI",
            "verdict",
            "smallest detectable",
        ],
        rows,
        images: Vec::new(),
    }
}

fn group_tables(options: &Options, results: &[BenchResult]) -> Vec<Table> {
    let mut groups: Vec<&str> = results.iter().map(|r| r.group.as_str()).collect();
    groups.dedup();
    groups
        .into_iter()
        .map(|group| Table {
            title: format!("Group {group}"),
            intro: "Smallest detectable: the change a compare of this run with one as spread \
                    would flag four times in five, from this run's samples alone (separate \
                    processes differ by more: compare with rounds to see it); ⚠ marks one \
                    above the group's goal. Per op: heap allocations (bytes), voluntary + \
                    involuntary context switches of the client process, and connections \
                    the cluster accepted, counted while the benchmark was profiled \
                    (`cargo bench -- --profile-time 5`), work outside the timed region \
                    included."
                .into(),
            headers: vec![
                "benchmark",
                "time",
                "95% CI",
                "smallest detectable",
                "per element",
                "per op (profiled)",
                "Criterion",
                "flamegraph",
            ],
            rows: results
                .iter()
                .filter(|r| r.group == group)
                .map(|r| benchmark_row(options, r))
                .collect(),
            images: Vec::new(),
        })
        .collect()
}

fn benchmark_row(options: &Options, r: &BenchResult) -> Vec<Cell> {
    let ci = r.time_ns.confidence_interval;
    let link_if = |path: PathBuf, text: &str| match path.is_file() {
        true => Cell {
            text: text.into(),
            link: Some(relative_link(&options.out_dir, &path)),
        },
        false => Cell::from("–"),
    };
    vec![
        r.id.clone().into(),
        criterion_results::format_ns(r.time_ns.point_estimate).into(),
        format!(
            "[{}, {}]",
            criterion_results::format_ns(ci.lower_bound),
            criterion_results::format_ns(ci.upper_bound)
        )
        .into(),
        compare::run_mdc(r, "new")
            .map_or("–".into(), |mdc| compare::mdc_text(mdc, &r.group))
            .into(),
        match r.elements {
            Some(n) => format!("{} × {n}", criterion_results::format_ns(r.per_element_ns())),
            None => "–".into(),
        }
        .into(),
        OpCounters::load(&r.dir)
            .map_or("–".into(), |c| c.summary())
            .into(),
        link_if(r.dir.join("report").join("index.html"), "report"),
        link_if(r.dir.join("profile").join(FLAMEGRAPH), "flamegraph"),
    ]
}

/// The path of `target` relative to directory `from`, with `/` separators.
pub fn relative_link(from: &Path, target: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (from, target) = (absolute(from), absolute(target));
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = target.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..".to_string(), from.len() - common);
    let downs = to[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}\
th{background:#f3f3f3}td:nth-child(n+2){font-variant-numeric:tabular-nums}p.intro{color:#555}";

fn html(tables: &[Table]) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>aerobench report</title>\
         <style>{STYLE}</style></head><body>\n<h1>aerobench report</h1>\n"
    );
    for t in tables {
        page.push_str(&format!("<h2>{}</h2>\n", escape(&t.title)));
        if !t.intro.is_empty() {
            page.push_str(&format!("<p class=\"intro\">{}</p>\n", escape(&t.intro)));
        }
        for image in &t.images {
            page.push_str(&format!(
                "<p><img src=\"{}\" alt=\"{}\"></p>\n",
                escape(image),
                escape(&t.title)
            ));
        }
        if t.rows.is_empty() {
            page.push_str("<p><em>No results yet.</em></p>\n");
            continue;
        }
        page.push_str("<table><tr>");
        for h in &t.headers {
            page.push_str(&format!("<th>{}</th>", escape(h)));
        }
        page.push_str("</tr>\n");
        for row in &t.rows {
            page.push_str("<tr>");
            for cell in row {
                let text = escape(&cell.text);
                match &cell.link {
                    Some(link) => {
                        page.push_str(&format!("<td><a href=\"{}\">{text}</a></td>", escape(link)))
                    }
                    None => page.push_str(&format!("<td>{text}</td>")),
                }
            }
            page.push_str("</tr>\n");
        }
        page.push_str("</table>\n");
    }
    page.push_str("</body></html>\n");
    page
}

fn markdown(tables: &[Table]) -> String {
    let mut out = String::from("# aerobench report\n");
    for t in tables {
        out.push_str(&format!("\n## {}\n\n", t.title));
        if !t.intro.is_empty() {
            out.push_str(&format!("{}\n\n", t.intro));
        }
        for image in &t.images {
            out.push_str(&format!("![{}]({image})\n\n", t.title));
        }
        if t.rows.is_empty() {
            out.push_str("_No results yet._\n");
            continue;
        }
        out.push_str(&format!("| {} |\n", t.headers.join(" | ")));
        out.push_str(&format!("|{}\n", "---|".repeat(t.headers.len())));
        for row in &t.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match &c.link {
                    Some(link) => format!("[{}]({link})", c.text),
                    None => c.text.replace('|', "\\|"),
                })
                .collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op_counters::Reading;

    #[test]
    fn a_saved_diagnosis_shows_with_its_ceiling_and_evidence() {
        let root = std::env::temp_dir().join(format!("aerobench-site-doc-{}", std::process::id()));
        let options = Options {
            criterion_dir: root.join("criterion"),
            runs_dir: root.join("runs"),
            out_dir: root.join("out"),
            compare: None,
        };
        let finding = |suspect: &str, verdict: &str, evidence: &str| serde_json::json!({"suspect": suspect, "verdict": verdict, "evidence": evidence, "fix": "x"});
        let diagnosis = serde_json::json!({
            "schema_version": 1,
            "fingerprint": {"target": "embedded", "nodes": 1, "network": "loopback", "cpus": "shared", "commit": "abc"},
            "ceiling": "connection_pool",
            "findings": [
                finding("connection_pool", "ruled_in", "256 tasks per node on 16 connections"),
                finding("failures", "ruled_in", "2% failed"),
                finding("routing", "ruled_out", "found 1 of 1 nodes"),
            ],
        });
        write_atomically(
            &doctor::dir(&options).join("d.json"),
            &serde_json::to_vec(&diagnosis).unwrap(),
        )
        .unwrap();
        write(&options).unwrap();
        let summary = std::fs::read_to_string(options.out_dir.join("summary.md")).unwrap();
        let row = summary
            .lines()
            .find(|l| l.contains("d.json") || l.contains("| d"))
            .unwrap();
        for expected in [
            "connection_pool",
            "256 tasks per node on 16 connections",
            "failures",
            "commit=abc",
        ] {
            assert!(row.contains(expected), "{expected}: {row}");
        }
        assert!(!row.contains("found 1 of 1"), "{row}");
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn links() {
        assert_eq!(
            relative_link(Path::new("/r/reports/x"), Path::new("/r/target/c/a.svg")),
            "../../target/c/a.svg"
        );
    }

    #[test]
    fn builds_a_report_from_criterion_results() {
        let root = std::env::temp_dir().join(format!("aerobench-site-{}", std::process::id()));
        let criterion = root.join("criterion");
        for (id, ns) in [("floor/tokio", 20_000.0), ("single_op/async/get", 30_000.0)] {
            crate::criterion_results::write_run(&criterion, id, "new", ns, None).unwrap();
        }
        for n in [1u64, 2, 4, 8] {
            crate::criterion_results::write_run(
                &criterion,
                &format!("batch/read/{n}"),
                "new",
                20_000.0 + 100.0 * n as f64,
                Some(n),
            )
            .unwrap();
        }
        let options = Options {
            criterion_dir: criterion,
            runs_dir: root.join("runs"),
            out_dir: root.join("out"),
            compare: None,
        };
        let index = write(&options).unwrap();
        let page = std::fs::read_to_string(&index).unwrap();
        assert!(page.contains("encode/decode and the rest"));
        assert!(
            page.contains("share is unknown (not recorded"),
            "no recorded share: the page says so"
        );
        assert!(!page.contains(waterfall::SERVER));
        let share = ServerShare {
            fingerprint: crate::meta::Fingerprint {
                target: "embedded".into(),
                ..Default::default()
            },
            gets: 10,
            mean_ns: Some(4_000.0),
            bounds_ns: None,
            how: "timed by the server".into(),
        };
        write_atomically(
            &ServerShare::path(&options.criterion_dir),
            &serde_json::to_vec(&share).unwrap(),
        )
        .unwrap();
        let page = std::fs::read_to_string(write(&options).unwrap()).unwrap();
        assert!(
            page.contains(&format!("<td>{}</td><td>4.00 µs</td>", waterfall::SERVER)),
            "the measured server row"
        );
        assert!(
            page.contains("<td>encode/decode and the rest</td><td>6.00 µs</td>"),
            "the rest is the get minus the floor and the server"
        );
        assert!(!page.contains(" allocs ("), "no counters recorded");
        let profile = options.criterion_dir.join("batch/read/4/profile");
        let counters = OpCounters::between(
            Reading::default(),
            Reading {
                allocations: 24,
                bytes: 3_000,
                voluntary_switches: 8,
                involuntary_switches: 4,
            },
            8,
            Some((5, 5)),
        )
        .unwrap();
        let get = options.criterion_dir.join("single_op/async/get/profile");
        for dir in [&profile, &get] {
            let bytes = serde_json::to_vec(&counters).unwrap();
            write_atomically(&OpCounters::path(dir), &bytes).unwrap();
        }
        let page = std::fs::read_to_string(write(&options).unwrap()).unwrap();
        assert!(
            page.contains("<td>3 allocs (375 B), 1 + 0.50 switches, 0 conns</td>"),
            "the counters of batch/read/4"
        );
        assert!(
            page.contains(
                "<td>encode/decode and the rest</td><td>6.00 µs</td><td>30.00 µs</td><td>3 allocs"
            ),
            "the waterfall's top row has the whole get's counters"
        );
        assert!(
            page.contains("Batch model") && page.contains("100.0 ns"),
            "per-key cost fitted"
        );
        assert!(root.join("out/waterfall.svg").is_file());
        // The fixtures' three samples spread ±1%: a resampled median is the low or the high
        // one with probability 7/27 each, so its sd is 0.72% and that of a log ratio of two
        // 1.02%; with t(97.5%, 4 df) = 2.78, the MDC is 1.01 × e^((2.78 + 0.84) × 1.02%) - 1.
        assert!(
            page.contains("<td>4.8%</td>"),
            "smallest detectable change shown"
        );
        assert!(
            std::fs::read_to_string(root.join("out/summary.md"))
                .unwrap()
                .contains("| batch read |")
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
