//! A pprof flamegraph for every Criterion benchmark, written when the suite runs with
//! `cargo bench -- --profile-time <secs>`, and differential flamegraphs between two runs.
//!
//! pprof 0.15's own `criterion` feature is built against criterion 0.5; this adapter is the
//! few lines that let the suite use the current criterion. Beside `flamegraph.svg` it keeps
//! the folded stacks (`stacks.folded`), which is what a differential flamegraph needs. Files
//! are written through a temporary name and a rename, so an interrupted run never leaves
//! half a file, and a failure is reported on stderr instead of panicking in the benchmark.

use std::path::{Path, PathBuf};

use criterion::profiler::Profiler;
use pprof::ProfilerGuard;

use crate::files::{WriteError, write_atomically};

/// Samples per second; a prime, so sampling does not beat in step with periodic work.
const FREQUENCY: i32 = 997;
/// Libraries whose frames (signal trampolines, unwinders) only add noise.
const BLOCKLIST: [&str; 4] = ["libc", "libgcc", "pthread", "vdso"];
/// File names inside a benchmark's `profile/` directory.
pub const FLAMEGRAPH: &str = "flamegraph.svg";
pub const FOLDED: &str = "stacks.folded";

/// Writes `flamegraph.svg` and `stacks.folded` for each profiled benchmark.
#[derive(Default)]
pub struct Flamegraph {
    active: Option<ProfilerGuard<'static>>,
}

impl Profiler for Flamegraph {
    fn start_profiling(&mut self, benchmark_id: &str, _dir: &Path) {
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(FREQUENCY)
            .blocklist(&BLOCKLIST)
            .build();
        match guard {
            Ok(guard) => self.active = Some(guard),
            Err(e) => eprintln!("aerobench: cannot profile {benchmark_id}: {e}"),
        }
    }

    fn stop_profiling(&mut self, benchmark_id: &str, dir: &Path) {
        let Some(guard) = self.active.take() else {
            return;
        };
        if let Err(e) = write_profile(&guard, benchmark_id, dir) {
            eprintln!("aerobench: no flamegraph for {benchmark_id}: {e}");
        }
    }
}

/// Why a flamegraph was not drawn.
#[derive(Debug, thiserror::Error)]
pub enum FlamegraphError {
    #[error("{0}")]
    Profile(#[from] pprof::Error),
    #[error("cannot diff {} and {}: {source}", before.display(), after.display())]
    Diff {
        before: PathBuf,
        after: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot draw the flamegraph: {0}")]
    Draw(Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Write(#[from] WriteError),
}

fn write_profile(
    guard: &ProfilerGuard<'_>,
    title: &str,
    dir: &Path,
) -> Result<(), FlamegraphError> {
    let report = guard.report().build()?;
    let folded = folded_stacks(&report);
    write_atomically(&dir.join(FOLDED), folded.join("\n").as_bytes())?;
    let mut svg = Vec::new();
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    inferno::flamegraph::from_lines(&mut options, folded.iter().map(String::as_str), &mut svg)
        .map_err(|e| FlamegraphError::Draw(e.into()))?;
    Ok(write_atomically(&dir.join(FLAMEGRAPH), &svg)?)
}

/// One `thread;outer;…;inner count` line per distinct stack, as inferno reads them.
fn folded_stacks(report: &pprof::Report) -> Vec<String> {
    let mut lines: Vec<String> = report
        .data
        .iter()
        .map(|(frames, count)| {
            let mut names = vec![frames.thread_name_or_id()];
            names.extend(
                frames
                    .frames
                    .iter()
                    .rev()
                    .flat_map(|f| f.iter().rev().map(|s| s.to_string())),
            );
            format!("{} {count}", names.join(";"))
        })
        .collect();
    lines.sort();
    lines
}

/// A differential flamegraph: the shape of `after`, coloured by the change from `before`
/// (red grew, blue shrank), from two `stacks.folded` files.
pub fn differential(
    before: &Path,
    after: &Path,
    title: &str,
    out: &Path,
) -> Result<(), FlamegraphError> {
    let mut diff = Vec::new();
    inferno::differential::from_files(
        inferno::differential::Options::default(),
        before,
        after,
        &mut diff,
    )
    .map_err(|source| FlamegraphError::Diff {
        before: before.into(),
        after: after.into(),
        source,
    })?;
    let mut svg = Vec::new();
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    inferno::flamegraph::from_reader(&mut options, diff.as_slice(), &mut svg)
        .map_err(|e| FlamegraphError::Draw(e.into()))?;
    Ok(write_atomically(out, &svg)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differential_flamegraph_from_folded_stacks() {
        let dir = std::env::temp_dir().join(format!("aerobench-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (before, after, out) = (
            dir.join("a.folded"),
            dir.join("b.folded"),
            dir.join("new/diff.svg"),
        );
        std::fs::write(&before, "main;get;encode 10\nmain;get;io 90\n").unwrap();
        std::fs::write(&after, "main;get;encode 40\nmain;get;io 90\n").unwrap();
        differential(&before, &after, "get", &out).unwrap();
        let svg = std::fs::read_to_string(&out).unwrap();
        assert!(svg.contains("encode") && svg.contains("<svg"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
