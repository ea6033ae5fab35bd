//! What runs with every op of a group's timed path besides the op itself: the known-change
//! spin when one is armed ([`inject`](crate::inject)), and, while Criterion profiles a
//! benchmark, the count of ops its [`OpCounters`] are divided by. Every group calls
//! [`Hook::run`] once per op; off, that is two compares on registers.

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use aerobench::driver::{Backend, BlockingBackend, Keys};
use aerobench::files::write_atomically;
use aerobench::op_counters::{self, OpCounters, Reading, Syscalls};
use aerobench::stats::Row;
use aerobench::workload::Access;

/// Ops run while counting is on.
static OPS: AtomicU64 = AtomicU64::new(0);

/// This process's per-op work: copy it into the timed loop and call [`Hook::run`] per op.
#[derive(Debug, Clone, Copy)]
pub struct Hook {
    count: bool,
}

impl Hook {
    /// Counting when this process profiles (`--profile-time`, where nothing is timed).
    pub fn current() -> Hook {
        Hook { count: profiling() }
    }

    /// Counts the op when profiling, then spins the armed [`inject`](crate::inject)ed turns.
    #[inline(always)]
    pub fn run(self) {
        if self.count {
            OPS.fetch_add(1, Ordering::Relaxed);
        }
        crate::inject::spin();
    }
}

/// Whether Criterion was asked to profile rather than measure.
fn profiling() -> bool {
    static PROFILING: OnceLock<bool> = OnceLock::new();
    *PROFILING.get_or_init(|| std::env::args().any(|a| a == "--profile-time"))
}

/// A client backend whose every call runs the hook first (the throughput group's rows).
pub struct Hooked<B> {
    pub inner: B,
    pub hook: Hook,
}

impl<B: Backend> Backend for Hooked<B> {
    async fn call(&self, access: Access, keys: &Keys, rows: &mut Vec<Row>) {
        self.hook.run();
        self.inner.call(access, keys, rows).await
    }
}

impl<B: BlockingBackend> BlockingBackend for Hooked<B> {
    fn call(&self, access: Access, keys: &Keys, rows: &mut Vec<Row>) {
        self.hook.run();
        self.inner.call(access, keys, rows)
    }
}

/// The counters' readings from when Criterion started profiling one benchmark.
pub struct Window {
    before: Reading,
    ops: u64,
    connections: Option<u64>,
    syscalls: Option<Syscalls>,
}

impl Window {
    /// Reads the cluster's accepted connections, then turns counting on and reads the
    /// process's totals.
    pub fn open() -> Window {
        let connections = connections_opened();
        let syscalls = Syscalls::open();
        op_counters::set_counting(true);
        Window {
            before: Reading::now(),
            ops: OPS.load(Ordering::Relaxed),
            connections,
            syscalls,
        }
    }

    /// Reads again, turns counting off, and keeps the benchmark's [`OpCounters`] in
    /// `profile_dir`. A failure is reported, not fatal: the flamegraph stands alone.
    pub fn close(self, benchmark_id: &str, profile_dir: &Path) {
        let after = Reading::now();
        let syscalls = self.syscalls.as_ref().and_then(Syscalls::count);
        let ops = OPS.load(Ordering::Relaxed) - self.ops;
        op_counters::set_counting(false);
        let connections = self.connections.zip(connections_opened());
        let Some(counters) = OpCounters::between(self.before, after, ops, connections) else {
            eprintln!("aerobench: {benchmark_id}: no op counted, so no per-op counters");
            return;
        };
        let counters = counters.with_syscalls(syscalls);
        let bytes = serde_json::to_vec_pretty(&counters).unwrap_or_default();
        if let Err(e) = write_atomically(&OpCounters::path(profile_dir), &bytes) {
            eprintln!("aerobench: cannot record {benchmark_id}'s per-op counters: {e}");
        }
    }
}

/// The cluster's accepted connections; `None` in a group that has no cluster.
fn connections_opened() -> Option<u64> {
    let bench = crate::started()?;
    bench
        .runtime
        .block_on(op_counters::connections_opened(&bench.client))
}
