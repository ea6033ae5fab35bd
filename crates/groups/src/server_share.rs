//! The server's share of a benchmark's gets, read around it: the server's get totals
//! before and after, their mean kept for the report as
//! [`ServerShare`](aerobench::server_share::ServerShare).

use aerobench::criterion_results::criterion_dir;
use aerobench::files::write_atomically;
use aerobench::server::service_time::Total;
use aerobench::server_share::{ServerShare, get_totals};

/// Criterion flags under which it saves no estimates: a share recorded then would stand
/// beside a get it was not measured with.
const UNSAVED_MODES: [&str; 3] = ["--test", "--list", "--profile-time"];

/// The totals read before the benchmark.
pub struct Probe {
    before: Option<Total>,
}

impl Probe {
    /// Reads the totals before the benchmark; `None` in a mode that saves no estimates.
    pub fn start() -> Option<Probe> {
        let unsaved = std::env::args().any(|a| UNSAVED_MODES.contains(&a.as_str()));
        (!unsaved).then(|| Probe { before: totals() })
    }

    /// Reads the totals again and records the share, or that it is unknown on this target.
    /// Records nothing when no get was served (the benchmark was filtered out). A failed
    /// write is reported, not fatal: the numbers stand alone.
    pub fn finish(self) {
        let after = totals();
        if matches!((self.before, after), (Some(b), Some(a)) if a.count == b.count) {
            return;
        }
        let share = ServerShare::between(self.before, after, crate::bench().fingerprint.clone());
        let path = ServerShare::path(&criterion_dir());
        let bytes = serde_json::to_vec_pretty(&share).unwrap_or_default();
        if let Err(e) = write_atomically(&path, &bytes) {
            eprintln!("aerobench: cannot record the server's share: {e}");
        }
    }
}

fn totals() -> Option<Total> {
    let bench = crate::bench();
    bench.runtime.block_on(get_totals(&bench.client))
}
