//! The server's share of a benchmark's gets, read around it and kept for the report as
//! [`ServerShare`](aerobench::server_share::ServerShare): the embedded server's exact get
//! totals before and after, or else the real server's read histogram, every ticker slice
//! of it read while the benchmark runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use aerobench::criterion_results::criterion_dir;
use aerobench::files::write_atomically;
use aerobench::server::service_time::Total;
use aerobench::server_share::{ServerShare, Slice, answers, get_totals};

use crate::layers::LAYERS;

/// Criterion flags under which it saves no estimates: a share recorded then would stand
/// beside a get it was not measured with.
const UNSAVED_MODES: [&str; 3] = ["--test", "--list", "--profile-time"];

/// How often the histogram is read: several times per ticker slice, so none is missed.
const POLL: Duration = Duration::from_millis(250);

/// What is read around the benchmark.
pub enum Probe {
    /// The embedded server's totals, read before.
    Totals(Total),
    /// The real server's histogram, read by a thread until the benchmark ends.
    Slices(Poller),
}

impl Probe {
    /// Starts reading; `None` in a mode that saves no estimates.
    pub fn start() -> Option<Probe> {
        if std::env::args().any(|a| UNSAVED_MODES.contains(&a.as_str())) {
            return None;
        }
        let bench = crate::bench();
        Some(match bench.runtime.block_on(get_totals(&bench.client)) {
            Some(before) => Probe::Totals(before),
            None => Probe::Slices(Poller::start()),
        })
    }

    /// Reads again and records the share, or that it is unknown on this target. Records
    /// nothing when the embedded server served no get (the benchmark was filtered out). A
    /// failed write is reported, not fatal: the numbers stand alone.
    pub fn finish(self) {
        let bench = crate::bench();
        let fingerprint = bench.fingerprint.clone();
        let share = match self {
            Probe::Totals(before) => {
                let after = bench.runtime.block_on(get_totals(&bench.client));
                if after.is_some_and(|a| a.count == before.count) {
                    return;
                }
                ServerShare::between(Some(before), after, fingerprint)
            }
            Probe::Slices(poller) => match poller.finish() {
                Ok(slices) => ServerShare::from_slices(&slices, fingerprint),
                Err(why) => ServerShare::unknown(why, fingerprint),
            },
        };
        let path = ServerShare::path(&criterion_dir());
        let bytes = serde_json::to_vec_pretty(&share).unwrap_or_default();
        if let Err(e) = write_atomically(&path, &bytes) {
            eprintln!("aerobench: cannot record the server's share: {e}");
        }
    }
}

/// A thread reading every node's `latencies:` read histogram each [`POLL`], keeping each
/// new slice once. (The container target's server slices every second; another server
/// slices at its own `ticker-interval`, and its first and last slices may hold reads from
/// outside the benchmark.)
pub struct Poller {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<Vec<Slice>, String>>,
}

impl Poller {
    fn start() -> Poller {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || poll(&flag));
        Poller { stop, thread }
    }

    /// Stops the thread; the slices read, or why there are none.
    fn finish(self) -> Result<Vec<Slice>, String> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .unwrap_or_else(|_| Err("the histogram reader panicked".into()))
    }
}

/// Reads until `stop`; a node's answer counts when it differs from its last one (the first
/// answer is a slice that ended before the benchmark began).
fn poll(stop: &AtomicBool) -> Result<Vec<Slice>, String> {
    let bench = crate::bench();
    let name = format!("latencies:hist={{{}}}-read", LAYERS.namespace);
    let read = || {
        let answers = bench.runtime.block_on(answers(&bench.client, &name));
        answers.ok_or_else(|| "the target does not answer info latencies:".to_string())
    };
    let mut last = read()?;
    let mut slices = vec![];
    let mut problem = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL);
        let now = read()?;
        for (node, answer) in now.iter().enumerate() {
            if last.get(node) == Some(answer) {
                continue;
            }
            match Slice::parse(answer) {
                Ok(slice) => slices.push(slice),
                Err(why) => problem = Some(why),
            }
        }
        last = now;
    }
    match (slices.is_empty(), problem) {
        (true, Some(why)) => Err(why),
        _ => Ok(slices),
    }
}
