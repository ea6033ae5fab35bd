//! What every benchmark group shares: one target per process, a runtime, a connected
//! client, the Criterion configuration with the flamegraph profiler, and the line that
//! says what the numbers are measured against.

use std::sync::{Arc, OnceLock};

use aerospike_core::Client;
use criterion::Criterion;
use tokio::runtime::Runtime;

use crate::meta::Fingerprint;
use crate::profile::Flamegraph;
use crate::target::Target;

/// The cluster, runtime and client a benchmark process uses.
pub struct Bench {
    pub target: Target,
    pub runtime: Runtime,
    pub client: Arc<Client>,
    pub fingerprint: Fingerprint,
}

/// Starts (once) the target selected by the environment, connects a client with default
/// settings and prints the fingerprint line. A bad setting ends the process with its
/// one-line error; the embedded server goes with it (see [`crate::target::embedded`]).
pub fn bench() -> &'static Bench {
    static BENCH: OnceLock<Bench> = OnceLock::new();
    BENCH.get_or_init(|| start().unwrap_or_else(|e| exit_with(&e)))
}

fn start() -> Result<Bench, String> {
    let target = Target::from_env()?;
    let runtime = runtime(0);
    let client = runtime.block_on(target.connect(&target.client_policy()))?;
    let fingerprint = runtime.block_on(target.fingerprint(&client));
    eprintln!("aerobench: measuring against {fingerprint}");
    Ok(Bench {
        target,
        runtime,
        client: Arc::new(client),
        fingerprint,
    })
}

/// Prints `aerobench: <message>` and exits with status 2.
pub fn exit_with(message: &str) -> ! {
    eprintln!("aerobench: {message}");
    std::process::exit(2)
}

/// A multi-thread Tokio runtime with `workers` worker threads (0 = one per core).
pub fn runtime(workers: usize) -> Runtime {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if workers > 0 {
        builder.worker_threads(workers);
    }
    builder
        .enable_all()
        .build()
        .unwrap_or_else(|e| exit_with(&format!("cannot start a Tokio runtime: {e}")))
}

/// A current-thread Tokio runtime.
pub fn current_thread_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| exit_with(&format!("cannot start a Tokio runtime: {e}")))
}

/// The Criterion configuration every group uses (`config = ` in `criterion_group!`, which
/// then applies the command line: filters, `--quick`, `--save-baseline`, …): flamegraphs
/// under `--profile-time`.
pub fn criterion() -> Criterion {
    Criterion::default().with_profiler(Flamegraph::default())
}
