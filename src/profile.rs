//! A pprof flamegraph for every Criterion benchmark, written when the suite runs with
//! `cargo bench -- --profile-time <secs>`.
//!
//! pprof 0.15's own `criterion` feature is built against criterion 0.5; this adapter is the
//! few lines that let the suite use the current criterion. It also writes through a
//! temporary file and a rename, so an interrupted run never leaves half an SVG, and it
//! reports a failure on stderr instead of panicking inside the benchmark.

use std::path::Path;

use criterion::profiler::Profiler;
use pprof::ProfilerGuard;

/// Samples per second; a prime, so sampling does not beat in step with periodic work.
const FREQUENCY: i32 = 997;
/// Libraries whose frames (signal trampolines, unwinders) only add noise.
const BLOCKLIST: [&str; 4] = ["libc", "libgcc", "pthread", "vdso"];

/// Writes `<benchmark dir>/flamegraph.svg` for each profiled benchmark.
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
        if let Err(e) = write_flamegraph(&guard, benchmark_id, dir) {
            eprintln!("aerobench: no flamegraph for {benchmark_id}: {e}");
        }
    }
}

fn write_flamegraph(guard: &ProfilerGuard<'_>, title: &str, dir: &Path) -> Result<(), String> {
    let report = guard.report().build().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let partial = dir.join("flamegraph.svg.partial");
    let file = std::fs::File::create(&partial).map_err(|e| e.to_string())?;
    let mut options = pprof::flamegraph::Options::default();
    options.title = title.to_string();
    report
        .flamegraph_with_options(file, &mut options)
        .map_err(|e| e.to_string())?;
    std::fs::rename(&partial, dir.join("flamegraph.svg")).map_err(|e| e.to_string())
}
