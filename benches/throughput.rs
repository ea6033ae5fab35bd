//! Whole workloads as Criterion benchmarks, on the target the environment selects: the
//! closed-loop driver behind `aerobench run` (RU,50 over 100,000 seeded keys, `I8`) at 1,
//! 32, 256 and 512 async tasks; 1 and 32 sync threads; at 512 tasks the client defaults
//! against no per-op timeout with `max_conns_per_node = 512`; and a batch sweep
//! from 1 to 128 keys per call at 32 tasks. Beside each row at 1, 32 and 256 tasks or 1 and
//! 32 threads, `bare/…` runs the same calls with nothing around them but a counter
//! (`aerobench run --bare`): the ratio of the two is what the harness costs.
//!
//! One sample is one short driver run. Criterion is handed the time `iters` key ops take at
//! the rate that run measured, so the reported throughput (elements/s) is the run's TPS:
//! successful key ops per second. A run with failures says so once per benchmark, since
//! failures are not throughput. `cargo bench -- throughput` selects the group.

use std::cell::Cell;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aerobench::driver::{
    self, AsyncClient, Config, DEFAULT_TIMEOUT_MS, Mode, Pool, Run, SyncClient,
};
use aerobench::workload::Workload;
use aerospike_core::Client;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use groups::Bench;
use groups::group::Group;
use groups::per_op::{Hook, Hooked};

/// Measured span of one sample, after its own short warm-up (the client and its pool are
/// shared by all samples, so only the tasks start cold).
const SLICE: Duration = Duration::from_millis(300);
const SLICE_WARMUP: Duration = Duration::from_millis(100);
const SAMPLES: usize = 10;

fn config(mode: Mode, batch_size: usize, timeout_ms: u32) -> Config {
    Config {
        workload: Workload {
            batch_size,
            ..Workload::default()
        },
        mode,
        warmup: SLICE_WARMUP,
        duration: SLICE,
        timeout_ms,
        rate: None,
    }
}

fn throughput(c: &mut Criterion) {
    let bench = groups::bench();
    seed(bench);
    let mut group = Group::new(c, "throughput");
    group.throughput(Throughput::Elements(1));
    group.configure(|group| {
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(SAMPLES)
            // Every sample warms itself up; Criterion's warm-up need only run one.
            .warm_up_time(Duration::from_millis(1))
            // 1.5 runs' time per sample: Criterion then asks for 2 iterations per sample
            // (one run either way) instead of warning that 1 does not fit.
            .measurement_time((SLICE + SLICE_WARMUP) * (SAMPLES as u32 * 3 / 2));
    });
    for tasks in [1, 32, 256, 512] {
        let config = config(Mode::Async { tasks }, 1, DEFAULT_TIMEOUT_MS);
        async_row(&mut group, &format!("async/{tasks}"), &bench.client, config);
        if tasks <= 256 {
            bare_row(&mut group, &format!("bare/async/{tasks}"), config);
        }
    }
    let tuned = config(Mode::Async { tasks: 512 }, 1, 0);
    async_row(
        &mut group,
        "async/512_no_timeout_pool_512",
        sized_pool_client(bench),
        tuned,
    );
    for threads in [1, 32] {
        let config = config(Mode::Sync { threads }, 1, DEFAULT_TIMEOUT_MS);
        sync_row(&mut group, &format!("sync/{threads}"), config);
        bare_row(&mut group, &format!("bare/sync/{threads}"), config);
    }
    for batch in [1, 4, 16, 32, 64, 128] {
        let batched = config(Mode::Async { tasks: 32 }, batch, DEFAULT_TIMEOUT_MS);
        async_row(
            &mut group,
            &format!("batch_32_tasks/{batch}"),
            &bench.client,
            batched,
        );
    }
    group.finish();
}

/// Writes every key once, so reads hit and are checked.
fn seed(bench: &Bench) {
    if groups::seeded_already() {
        return;
    }
    let config = config(Mode::Async { tasks: 1 }, 1, DEFAULT_TIMEOUT_MS);
    if let Err(e) = bench.runtime.block_on(driver::seed::seed_client(
        &bench.client,
        &config,
        &mut |_| {},
    )) {
        groups::exit_with(e);
    }
}

/// A second client with the pool sized for 512 tasks.
fn sized_pool_client(bench: &Bench) -> &'static Arc<Client> {
    static CLIENT: OnceLock<Arc<Client>> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut policy = bench.target.client_policy();
        Pool {
            max_conns_per_node: 512,
            ..Pool::default()
        }
        .apply(&mut policy);
        let client = bench.runtime.block_on(bench.target.connect(&policy));
        Arc::new(client.unwrap_or_else(|e| groups::exit_with(e)))
    })
}

fn async_row(group: &mut Group<'_>, id: &str, client: &Arc<Client>, config: Config) {
    let bench = groups::bench();
    let backend = Arc::new(Hooked {
        inner: AsyncClient {
            client: client.clone(),
            calls: config.calls(),
        },
        hook: Hook::current(),
    });
    let tasks = config.mode.concurrency();
    let warned = Cell::new(false);
    group.bench(id, |iters| {
        let run = bench.runtime.block_on(driver::run_tasks(
            backend.clone(),
            &config,
            tasks,
            &mut |_, _| {},
        ));
        time_of(&run, iters, id, &warned)
    });
}

fn sync_row(group: &mut Group<'_>, id: &str, config: Config) {
    let bench = groups::bench();
    let policy = bench.target.client_policy();
    let client = bench
        .target
        .connect_blocking(&policy)
        .unwrap_or_else(|e| groups::exit_with(e));
    let backend = Hooked {
        inner: SyncClient {
            client: Arc::new(client),
            calls: config.calls(),
        },
        hook: Hook::current(),
    };
    let threads = config.mode.concurrency();
    let warned = Cell::new(false);
    group.bench(id, |iters| {
        let run = driver::run_threads(&backend, &config, threads, &mut |_, _| {});
        time_of(&run, iters, id, &warned)
    });
}

/// The bare reference loop in `config`'s mode, on the harness client (async) or a blocking
/// client of its own (sync).
fn bare_row(group: &mut Group<'_>, id: &str, config: Config) {
    let bench = groups::bench();
    let blocking = matches!(config.mode, Mode::Sync { .. }).then(|| {
        let policy = bench.target.client_policy();
        let client = bench.target.connect_blocking(&policy);
        client.unwrap_or_else(|e| groups::exit_with(e))
    });
    let warned = Cell::new(false);
    group.bench(id, |iters| {
        let bare = match (&blocking, config.mode) {
            (Some(client), Mode::Sync { threads }) => {
                driver::bare::run_threads(client, &config, threads)
            }
            (_, mode) => driver::bare::run_tasks(
                &bench.runtime,
                bench.client.clone(),
                &config,
                mode.concurrency(),
            ),
        };
        if bare.errors > 0 && !warned.replace(true) {
            eprintln!(
                "aerobench: throughput/{id}: {} of {} calls failed",
                bare.errors, bare.ops
            );
        }
        Duration::from_secs_f64(iters as f64 / bare.tps().max(f64::MIN_POSITIVE))
    });
}

/// The time `iters` ops take at the run's TPS; the first run with failures says so.
fn time_of(run: &Run, iters: u64, id: &str, warned: &Cell<bool>) -> Duration {
    let total = &run.total;
    if total.errors + total.timeouts > 0 && !warned.replace(true) {
        eprintln!(
            "aerobench: throughput/{id}: {} of {} key ops failed {:?}; TPS counts successes only",
            total.errors + total.timeouts,
            total.ops + total.errors + total.timeouts,
            total.failures
        );
    }
    Duration::from_secs_f64(iters as f64 / total.tps.max(f64::MIN_POSITIVE))
}

criterion_group! {
    name = benches;
    config = groups::criterion();
    targets = throughput
}
criterion_main!(benches);
