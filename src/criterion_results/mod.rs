//! Criterion's saved results, read back from `target/criterion/`, so the suite can compare
//! baselines across commits and build its report without the user knowing that layout.
//!
//! Criterion keeps, per benchmark, a directory holding `new/` (the last run), one directory
//! per saved baseline, and `change/` (the last comparison). Each run directory holds
//! `benchmark.json` (ids and throughput) and `estimates.json` (bootstrap estimates).

pub mod compare;
pub mod fit;
pub mod student;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::meta::Fingerprint;

/// Where Criterion writes its results, found as Criterion finds it: `CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `target/criterion` (cargo runs benchmarks from the
/// package root, where the CLI is run too).
pub fn criterion_dir() -> PathBuf {
    match (
        std::env::var_os("CRITERION_HOME"),
        std::env::var_os("CARGO_TARGET_DIR"),
    ) {
        (Some(home), _) => home.into(),
        (None, Some(target)) => PathBuf::from(target).join("criterion"),
        (None, None) => PathBuf::from("target/criterion"),
    }
}

/// What the last benchmark run measured against, kept beside Criterion's results for the
/// report: `<criterion dir>/aerobench/fingerprint.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub fingerprint: Fingerprint,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
}

impl RunRecord {
    pub fn path(criterion_dir: &std::path::Path) -> PathBuf {
        criterion_dir.join("aerobench").join("fingerprint.json")
    }
}

/// A bootstrap estimate in nanoseconds (or a relative change, in `change/`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Estimate {
    pub point_estimate: f64,
    pub confidence_interval: Interval,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Interval {
    pub lower_bound: f64,
    pub upper_bound: f64,
}

#[derive(Deserialize)]
struct Estimates {
    mean: Estimate,
    slope: Option<Estimate>,
}

#[derive(Deserialize)]
struct BenchmarkFile {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    throughput: Option<serde_json::Value>,
    full_id: String,
}

#[derive(Deserialize)]
struct ChangeFile {
    mean: Estimate,
}

/// One benchmark's result in one run directory (`new` or a baseline name).
#[derive(Debug, Clone)]
pub struct BenchResult {
    /// `group/function/value`, as Criterion prints it.
    pub id: String,
    pub group: String,
    pub function: Option<String>,
    pub value: Option<String>,
    /// Elements per iteration, when the group declares `Throughput::Elements`.
    pub elements: Option<u64>,
    /// Time per iteration: the regression slope where Criterion fitted one, else the mean.
    pub time_ns: Estimate,
    /// The benchmark's directory (holds `report/index.html` and `profile/flamegraph.svg`).
    pub dir: PathBuf,
}

impl BenchResult {
    /// Time per element (per key, per registration), or per iteration without throughput.
    pub fn per_element_ns(&self) -> f64 {
        self.time_ns.point_estimate / self.elements.unwrap_or(1).max(1) as f64
    }

    /// The relative change Criterion computed when this benchmark was last compared.
    pub fn change(&self) -> Option<Estimate> {
        let text = std::fs::read_to_string(self.dir.join("change/estimates.json")).ok()?;
        serde_json::from_str::<ChangeFile>(&text)
            .ok()
            .map(|c| c.mean)
    }
}

/// Every benchmark under `root` (usually `target/criterion`) that has a run named `run`,
/// sorted by id.
pub fn load(root: &Path, run: &str) -> Vec<BenchResult> {
    let mut found = Vec::new();
    visit(root, run, &mut found);
    found.sort_by_key(|r| natural_key(&r.id));
    found
}

/// Orders `batch/read/2` before `batch/read/16`: numeric parts compare as numbers.
fn natural_key(id: &str) -> Vec<(u64, String)> {
    id.split('/')
        .map(|part| match part.parse::<u64>() {
            Ok(n) => (n, String::new()),
            Err(_) => (u64::MAX, part.to_string()),
        })
        .collect()
}

fn visit(dir: &Path, run: &str, found: &mut Vec<BenchResult>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == run) {
            if let Some(result) = read_run(&path) {
                found.push(result);
            }
        } else {
            visit(&path, run, found);
        }
    }
}

fn read_run(run_dir: &Path) -> Option<BenchResult> {
    let benchmark: BenchmarkFile = read_json(&run_dir.join("benchmark.json"))?;
    let estimates: Estimates = read_json(&run_dir.join("estimates.json"))?;
    let elements = benchmark
        .throughput
        .as_ref()
        .and_then(|t| t.get("Elements"))
        .and_then(serde_json::Value::as_u64);
    Some(BenchResult {
        id: benchmark.full_id,
        group: benchmark.group_id,
        function: benchmark.function_id,
        value: benchmark.value_str,
        elements,
        time_ns: estimates.slope.unwrap_or(estimates.mean),
        dir: run_dir.parent()?.to_path_buf(),
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

pub use crate::durations::format_ns;

/// Writes a Criterion-shaped run directory, as Criterion 0.8 lays it out, with a mean of
/// `mean_ns` and a ±2% interval: fixtures for tests of the comparison and the report.
pub fn write_run(
    root: &Path,
    id: &str,
    run: &str,
    mean_ns: f64,
    elements: Option<u64>,
) -> std::io::Result<()> {
    let parts: Vec<&str> = id.split('/').collect();
    let dir = parts
        .iter()
        .fold(root.to_path_buf(), |d, p| d.join(p))
        .join(run);
    std::fs::create_dir_all(&dir)?;
    let throughput = elements.map_or(
        serde_json::Value::Null,
        |n| serde_json::json!({ "Elements": n }),
    );
    let benchmark = serde_json::json!({
        "group_id": parts[0], "function_id": parts.get(1), "value_str": parts.get(2),
        "throughput": throughput, "full_id": id, "directory_name": id, "title": id,
    });
    let estimate = |v: f64| {
        serde_json::json!({
            "confidence_interval": { "confidence_level": 0.95, "lower_bound": v * 0.98, "upper_bound": v * 1.02 },
            "point_estimate": v, "standard_error": v * 0.01,
        })
    };
    let estimates = serde_json::json!({
        "mean": estimate(mean_ns), "median": estimate(mean_ns), "median_abs_dev": estimate(1.0),
        "slope": null, "std_dev": estimate(1.0),
    });
    let sample = serde_json::json!({ "sampling_mode": "Flat", "iters": [1.0, 1.0, 1.0], "times": [mean_ns * 0.99, mean_ns, mean_ns * 1.01] });
    std::fs::write(dir.join("benchmark.json"), benchmark.to_string())?;
    std::fs::write(dir.join("estimates.json"), estimates.to_string())?;
    std::fs::write(dir.join("sample.json"), sample.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_runs_and_throughput() {
        let root = std::env::temp_dir().join(format!("aerobench-results-{}", std::process::id()));
        write_run(&root, "batch/read/16", "new", 1600.0, Some(16)).unwrap();
        write_run(&root, "batch/read/2", "new", 400.0, Some(2)).unwrap();
        write_run(&root, "key/int", "new", 50.0, None).unwrap();
        write_run(&root, "key/int", "A", 60.0, None).unwrap();
        let results = load(&root, "new");
        let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["batch/read/2", "batch/read/16", "key/int"]);
        assert_eq!(results[1].per_element_ns(), 100.0);
        assert_eq!(results[1].value.as_deref(), Some("16"));
        assert_eq!(load(&root, "A")[0].time_ns.point_estimate, 60.0);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
