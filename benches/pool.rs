//! `pool`: getting a connection for a command.
//!
//! The pool has no public entry point, so acquisition is isolated by difference, with a get
//! of one seeded record as the carrier:
//! - `get/warm`: gets on a client whose pool was filled up front (`min_conns_per_node` =
//!   `max_conns_per_node` = 16): checkout and return of an idle connection.
//! - `get/new_connection`: the first get on a fresh client (`min_conns_per_node` = 0), the client built and closed outside the timing. Minus `get/warm`, it is
//!   what opening a connection costs a command. A new client per op is the honest way: 3.0.0
//!   retires idle connections only on its tend cycle (every 250 ms at the fastest), so no
//!   setting makes an existing client open one per command. In 3.0.0 a command that finds
//!   the pool empty does not connect itself: it spawns the open in the background and
//!   re-checks the pool after a 1 ms sleep (`POOL_EMPTY_WAIT`) that Tokio's millisecond wheel
//!   stretches to about 2 ms, so this is mostly that pacing (README, pool).
//!   Against servers from 8.1 on the client pools one connection at connect (its
//!   `user-agent-set` info), so there the first get reuses it; the run says so.
//! - `contended/pools/<n>`: 64 tasks sharing 16 connections per node, split into 1 or 4 pools
//!   (`conn_pools_per_node`); one iteration is one get per task. A get that finds every
//!   connection out is not failed with `NoMoreConnections` by 3.0.0's single-record path: it
//!   paces (1 ms) until one comes back or its deadline passes. Criterion reports only time,
//!   so each run prints to stderr how many gets failed, by error kind, and the mean latency
//!   of the others.
//!
//! Held constant: the async client in tasks on the harness's multi-thread runtime, default
//! read policy, the selected target.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aerospike_core::{Bins, Client, ClientPolicy, ReadPolicy, Result};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use groups::layers::{self, LAYERS, NET, or_exit};
use groups::per_op::Hook;
use groups::span::Span;

/// `max_conns_per_node` everywhere in this group.
const MAX_CONNS: usize = 16;
/// Tasks in the contended benchmarks: four per connection.
const TASKS: usize = 64;

fn policy(min_conns: usize, pools: u8) -> ClientPolicy {
    let mut policy = groups::bench().target.client_policy();
    policy.max_conns_per_node = MAX_CONNS;
    policy.min_conns_per_node = min_conns;
    policy.conn_pools_per_node = pools;
    policy
}

async fn connect(policy: &ClientPolicy) -> Client {
    or_exit(
        groups::bench().target.connect(policy).await,
        "pool: connect",
    )
}

/// A get of the `i`th seeded record.
async fn get(client: &Client, policy: &ReadPolicy, i: u64) -> Result<()> {
    let key = &layers::seeded_keys()[(i % LAYERS.keys) as usize];
    client.get(policy, key, Bins::All).await.map(drop)
}

/// A client with all `MAX_CONNS` connections per node open and idle, in `pools` pools.
fn warm_client(pools: u8) -> Arc<Client> {
    let client = groups::bench()
        .runtime
        .block_on(connect(&policy(MAX_CONNS, pools)));
    let deadline = Instant::now() + Duration::from_secs(5);
    let full = |client: &Client| {
        let nodes = client.nodes();
        nodes
            .iter()
            .all(|node| node.pool_gauges().in_pool >= MAX_CONNS as u64)
    };
    while !full(&client) {
        if Instant::now() > deadline {
            groups::exit_with("pool: min_conns_per_node connections were not opened within 5 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Arc::new(client)
}

async fn warm_gets(client: Arc<Client>, iters: u64) -> Duration {
    let (policy, hook) = (ReadPolicy::default(), Hook::current());
    let span = Span::start();
    for i in 0..iters {
        hook.run();
        or_exit(get(&client, &policy, i).await, "pool: get");
    }
    span.stop()
}

/// Time of the first get on each of `iters` fresh clients.
async fn first_gets(iters: u64) -> Duration {
    let (policy, read, hook) = (policy(0, 1), ReadPolicy::default(), Hook::current());
    let mut measured = Duration::ZERO;
    for i in 0..iters {
        let client = connect(&policy).await;
        if client
            .nodes()
            .iter()
            .any(|node| node.pool_gauges().total > 0)
        {
            // Servers from 8.1 on get the client's user-agent info at connect, over a pooled
            // connection that the first get then reuses: say so rather than let the row
            // read as a connection's cost.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                eprintln!(
                    "aerobench: pool/get/new_connection: the client pooled a connection at \
                     connect (its user-agent info, sent to servers from 8.1 on), so against \
                     this server the first get reuses it and opens none"
                )
            });
        }
        let span = Span::start();
        hook.run();
        let result = get(&client, &read, i).await;
        measured += span.stop();
        or_exit(result, "pool: first get");
        or_exit(client.close().await, "pool: close");
    }
    measured
}

/// What the contended gets of one benchmark run came to.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    ok_nanos: AtomicU64,
    failed: Mutex<BTreeMap<&'static str, u64>>,
}

impl Tally {
    async fn gets(&self, client: &Client, task: usize, iters: u64) {
        let (policy, hook) = (ReadPolicy::default(), Hook::current());
        for i in 0..iters {
            let start = Instant::now();
            hook.run();
            match get(client, &policy, i + task as u64).await {
                Ok(()) => {
                    self.ok.fetch_add(1, Ordering::Relaxed);
                    let nanos = start.elapsed().as_nanos() as u64;
                    self.ok_nanos.fetch_add(nanos, Ordering::Relaxed);
                }
                Err(e) => {
                    let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
                    *failed.entry(e.kind().name()).or_default() += 1;
                }
            }
        }
    }

    /// One stderr line: Criterion can only report time. None when no get ran (the
    /// benchmark was filtered out).
    fn report(&self, id: &str) {
        let ok = self.ok.load(Ordering::Relaxed);
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        let failures: u64 = failed.values().sum();
        if ok + failures == 0 {
            return;
        }
        let mean = Duration::from_nanos(self.ok_nanos.load(Ordering::Relaxed) / ok.max(1));
        eprintln!(
            "aerobench: pool/{id}: {failures} of {} gets failed {failed:?}; \
             the others took {mean:.1?} each",
            ok + failures,
        );
    }
}

fn bench_pool(c: &mut Criterion) {
    let runtime = &groups::bench().runtime;
    layers::seeded_keys();
    let mut group = layers::group(c, "pool", NET);
    group.throughput(Throughput::Elements(1));
    let warm = warm_client(1);
    group.bench("get/warm", |iters| {
        layers::in_task(runtime, warm_gets(warm.clone(), iters))
    });

    group.throughput(Throughput::Elements(TASKS as u64));
    for pools in [1, 4] {
        let client = if pools == 1 {
            warm.clone()
        } else {
            warm_client(pools)
        };
        let tally = Arc::new(Tally::default());
        let id = format!("contended/pools/{pools}");
        group.bench(&id, |iters| {
            layers::time_tasks(runtime, TASKS, |task| {
                let (client, tally) = (client.clone(), tally.clone());
                async move { tally.gets(&client, task, iters).await }
            })
        });
        tally.report(&id);
    }

    // A client per iteration: few samples keep the group within its time budget.
    group.throughput(Throughput::Elements(1));
    group.configure(|group| {
        group.sample_size(10);
    });
    group.bench("get/new_connection", |iters| {
        layers::in_task(runtime, first_gets(iters))
    });
    group.finish();
}

criterion_group! {
    name = pool;
    config = groups::criterion();
    targets = bench_pool
}
criterion_main!(pool);
