//! What the per-layer benchmark groups (`key`, `rng`, `timer`, `pool`, `single_op`, `batch`,
//! `floor`) share: the record they address, its seeding, the groups' pace, and running timed
//! work as Tokio tasks, where an application's client calls run.

use std::fmt::Display;
use std::future::Future;
use std::ops::Range;
use std::sync::OnceLock;
use std::time::Duration;

use aerospike_core::{Bin, Key, Value, WritePolicy};
use criterion::Criterion;
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, watch};

use crate as groups;
use crate::group::Group;
use crate::span::Span;

/// The groups' records: keys `0..LAYERS.keys` exist before any read is measured.
pub use aerobench::workload::space::LAYERS;

/// How long a group samples: pure CPU work settles fast, network round trips need longer.
pub struct Pace {
    pub measurement: Duration,
    pub samples: usize,
}

/// In-process work: key building, rng draws, timer registration.
pub const CPU: Pace = Pace {
    measurement: Duration::from_secs(1),
    samples: 50,
};

/// Anything that crosses a socket.
pub const NET: Pace = Pace {
    measurement: Duration::from_millis(1500),
    samples: 30,
};

/// A benchmark group named for its layer, with the suite's warm-up and `pace`, sized so the
/// whole suite stays within its time budget on a 2-core machine.
pub fn group<'a>(c: &'a mut Criterion, name: &str, pace: Pace) -> Group<'a> {
    let mut group = Group::new(c, name);
    group.configure(|group| {
        group
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(pace.measurement)
            .sample_size(pace.samples);
    });
    group
}

/// The key of record `id` in [`LAYERS`].
pub fn key(id: u64) -> Key {
    LAYERS.key(id as i64)
}

pub fn keys(ids: Range<u64>) -> Vec<Key> {
    ids.map(key).collect()
}

/// The record body: one integer bin.
pub fn bin(value: i64) -> Bin {
    Bin::new(LAYERS.bin, Value::from(value))
}

/// Keys `0..LAYERS.keys`, written once per process through the harness client before the first
/// read measures them (unless a paired comparison's target already holds them).
pub fn seeded_keys() -> &'static [Key] {
    static KEYS: OnceLock<Vec<Key>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let bench = groups::bench();
        let keys = keys(0..LAYERS.keys);
        if groups::seeded_already() {
            return keys;
        }
        let policy = WritePolicy::default();
        bench.runtime.block_on(async {
            for key in &keys {
                or_exit(bench.client.put(&policy, key, &[bin(1)]).await, "seeding");
            }
        });
        keys
    })
}

/// The value, or the process ends with `<what>: <error>`: a benchmark must not go on timing a
/// call that fails.
pub fn or_exit<T, E: Display>(result: Result<T, E>, what: &str) -> T {
    result.unwrap_or_else(|e| groups::exit_with(format!("{what}: {e}")))
}

/// Runs `routine` as a task on `rt` (on a worker thread of a multi-thread runtime, beside the
/// client's own tasks) and returns what it returns.
pub fn in_task<T, F>(rt: &Runtime, routine: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    or_exit(rt.block_on(rt.spawn(routine)), "benchmark task")
}

/// Wall time for `tasks` tasks to each run `routine(task_index)`, from their release to the
/// last one's end, so spawning is not timed. The clock starts only once every task waits at
/// the gate: were the tasks released first, on two cores they could run to their end before
/// the releasing thread is scheduled again to read the clock (which timed nothing at all).
pub fn time_tasks<F, Fut>(rt: &Runtime, tasks: usize, routine: F) -> Duration
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (release, gate) = watch::channel(false);
    let (arrived, mut waiting) = mpsc::unbounded_channel();
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (mut gate, arrived, work) = (gate.clone(), arrived.clone(), routine(task));
            rt.spawn(async move {
                let _ = arrived.send(());
                // The value is kept, so a release sent before this wait is still seen.
                let _ = gate.wait_for(|open| *open).await;
                work.await;
            })
        })
        .collect();
    rt.block_on(async {
        for _ in 0..tasks {
            waiting.recv().await;
        }
        let span = Span::start();
        let _ = release.send(true);
        for handle in handles {
            or_exit(handle.await, "benchmark task");
        }
        span.stop()
    })
}
