//! What every Criterion group shares: one target per process, a runtime, a connected
//! client, the Criterion configuration with the flamegraph profiler, and the line that
//! says what the numbers are measured against.
//!
//! A crate of its own so that only the benchmarks link criterion and pprof: the `aerobench`
//! library and CLI, and the embedded server, carry no bench harness.

mod callgrind;
pub mod group;
pub mod inject;
pub mod layers;
pub mod per_op;
mod profiler;
pub mod server_share;
pub mod span;
mod worker;

use std::sync::{Arc, OnceLock};

use aerospike_core::Client;
use criterion::Criterion;
use tokio::runtime::Runtime;

use aerobench::cluster::Target;
use aerobench::criterion_results::{RunRecord, criterion_dir};
pub use aerobench::exit_with;
use aerobench::files::write_atomically;
use aerobench::meta::Fingerprint;

use crate::profiler::Flamegraph;

/// Every benchmark process counts its allocations while a benchmark is profiled (see
/// [`aerobench::op_counters`]); otherwise the system allocator behind one relaxed load.
#[global_allocator]
static ALLOCATOR: aerobench::op_counters::CountingAllocator =
    aerobench::op_counters::CountingAllocator;

/// The cluster, runtime and client a benchmark process uses.
pub struct Bench {
    pub target: Target,
    pub runtime: Runtime,
    pub client: Arc<Client>,
    pub fingerprint: Fingerprint,
}

static BENCH: OnceLock<Bench> = OnceLock::new();

/// Starts (once) the target selected by the environment, connects a client with default
/// settings and prints the fingerprint line. A bad setting ends the process with its
/// one-line error; the embedded server goes with it (see [`aerobench::cluster::embedded`]).
pub fn bench() -> &'static Bench {
    BENCH.get_or_init(|| start().unwrap_or_else(|e| exit_with(e)))
}

/// The cluster, if this process has started one (groups of in-process work never do).
pub fn started() -> Option<&'static Bench> {
    BENCH.get()
}

fn start() -> Result<Bench, aerobench::cluster::Error> {
    let target = Target::from_env()?;
    let runtime = runtime(0);
    let client = runtime.block_on(target.connect(&target.client_policy()))?;
    let fingerprint = runtime.block_on(target.fingerprint(&client));
    eprintln!("aerobench: measuring against {fingerprint}");
    record_fingerprint(&fingerprint);
    Ok(Bench {
        target,
        runtime,
        client: Arc::new(client),
        fingerprint,
    })
}

/// Writes the [`RunRecord`] through a temporary file and a rename, so an interrupted run
/// never leaves it half-written. A failure is reported, not fatal: the numbers stand alone.
fn record_fingerprint(fingerprint: &Fingerprint) {
    let record = RunRecord {
        fingerprint: fingerprint.clone(),
        started_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    let path = RunRecord::path(&criterion_dir());
    let bytes = serde_json::to_vec_pretty(&record).unwrap_or_default();
    if let Err(e) = write_atomically(&path, &bytes) {
        eprintln!("aerobench: cannot record the fingerprint: {e}");
    }
}

/// Whether a paired comparison said the shared target already holds the records this
/// group seeds (an earlier worker of the same bench target wrote them), so they need not be
/// written again.
pub fn seeded_already() -> bool {
    std::env::var_os(aerobench::compare::lockstep::SEEDED).is_some()
}

/// The driver's multi-thread runtime with `workers` worker threads (0 = one per core).
pub fn runtime(workers: usize) -> Runtime {
    aerobench::driver::runtime(workers)
        .unwrap_or_else(|e| exit_with(format!("cannot start a Tokio runtime: {e}")))
}

/// A current-thread Tokio runtime.
pub fn current_thread_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| exit_with(format!("cannot start a Tokio runtime: {e}")))
}

/// The Criterion configuration every group uses (`config = ` in `criterion_group!`, which
/// then applies the command line: filters, `--quick`, `--save-baseline`, …): flamegraphs
/// under `--profile-time`, and 10,000 bootstrap resamples instead of 100,000, which on two
/// cores cut the analysis of a quick group from ~12 s to ~2 s while the estimates stay
/// the same (only the confidence bounds get slightly coarser).
pub fn criterion() -> Criterion {
    Criterion::default()
        .with_profiler(Flamegraph::default())
        .nresamples(10_000)
}
