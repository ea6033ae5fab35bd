//! A pprof flamegraph for every Criterion benchmark, written when the suite runs with
//! `cargo bench -- --profile-time <secs>`, and beside it the benchmark's per-op counters
//! ([`per_op::Window`]).
//!
//! pprof 0.15's own `criterion` feature is built against criterion 0.5; this adapter is the
//! few lines that let the suite use the current criterion. A failure is reported on stderr
//! instead of panicking in the benchmark.

use std::path::Path;

use criterion::profiler::Profiler;
use pprof::ProfilerGuard;

use crate::per_op;

/// Samples per second; a prime, so sampling does not beat in step with periodic work.
const FREQUENCY: i32 = 997;
/// Libraries whose frames (signal trampolines, unwinders) only add noise.
const BLOCKLIST: [&str; 4] = ["libc", "libgcc", "pthread", "vdso"];

/// Writes `flamegraph.svg`, `stacks.folded` and `counters.json` for each profiled
/// benchmark.
#[derive(Default)]
pub struct Flamegraph {
    active: Option<ProfilerGuard<'static>>,
    counting: Option<per_op::Window>,
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
        // Opened after the profiler's own set-up and closed before its report, so the
        // counters hold the benchmark's work alone.
        self.counting = Some(per_op::Window::open());
    }

    fn stop_profiling(&mut self, benchmark_id: &str, dir: &Path) {
        if let Some(window) = self.counting.take() {
            window.close(benchmark_id, dir);
        }
        let Some(guard) = self.active.take() else {
            return;
        };
        let drawn = match guard.report().build() {
            Ok(report) => aerobench::profile::draw(&folded_stacks(&report), benchmark_id, dir)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = drawn {
            eprintln!("aerobench: no flamegraph for {benchmark_id}: {e}");
        }
    }
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
