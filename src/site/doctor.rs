//! The report's "Doctor" section: each saved `aerobench doctor` diagnosis, its ceiling
//! and the figure that decided it, and any other suspect ruled in.

use std::path::{Path, PathBuf};

use super::{Cell, Options, Table, relative_link, stem};

/// Where `aerobench doctor` saves: `doctor/` beside the runs' folder.
pub fn dir(options: &Options) -> PathBuf {
    options.runs_dir.with_file_name("doctor")
}

/// One row per diagnosis in `docs`.
pub fn table(options: &Options, docs: &[(PathBuf, serde_json::Value)]) -> Table {
    Table {
        title: "Doctor".into(),
        intro: format!(
            "Results of `aerobench doctor` in {}: the suspect that set each configuration's \
             ceiling, the figure that decided it, and what it was measured against.",
            dir(options).display()
        ),
        headers: vec![
            "result",
            "measured against",
            "ceiling",
            "evidence",
            "also ruled in",
        ],
        rows: docs
            .iter()
            .map(|(path, doc)| row(&options.out_dir, path, doc))
            .collect(),
        images: Vec::new(),
    }
}

fn row(out_dir: &Path, path: &Path, doc: &serde_json::Value) -> Vec<Cell> {
    let findings = doc["findings"].as_array().cloned().unwrap_or_default();
    let ceiling = doc["ceiling"].as_str();
    let decided = findings
        .iter()
        .find(|f| f["suspect"].as_str() == ceiling && ceiling.is_some())
        .and_then(|f| f["evidence"].as_str())
        .unwrap_or("no suspect ruled in");
    let others: Vec<&str> = findings
        .iter()
        .filter(|f| f["verdict"] == "ruled_in" && f["suspect"].as_str() != ceiling)
        .filter_map(|f| f["suspect"].as_str())
        .collect();
    let fingerprint = &doc["fingerprint"];
    vec![
        Cell {
            text: stem(path),
            link: Some(relative_link(out_dir, path)),
        },
        format!(
            "{} nodes={} network={} cpus={} commit={}",
            fingerprint["target"].as_str().unwrap_or("?"),
            fingerprint["nodes"],
            fingerprint["network"].as_str().unwrap_or("?"),
            fingerprint["cpus"].as_str().unwrap_or("?"),
            fingerprint["commit"].as_str().unwrap_or("?"),
        )
        .into(),
        ceiling.unwrap_or("none").into(),
        decided.into(),
        match others.is_empty() {
            true => "–".to_string(),
            false => others.join(", "),
        }
        .into(),
    ]
}
