//! `single_op`: one single-record command, end to end, one at a time.
//!
//! Isolates the client's path for `get`, `put`, `exists`, `operate` (write a bin, read it
//! back) and `delete`, through the async client (in a task on the harness's multi-thread
//! runtime) and through the blocking client (`aerospike_sync`, called from the bench
//! thread), against the selected target.
//!
//! Held constant: one task, a warm connection pool, default policies, records of one integer
//! bin; reads, writes and operates cycle over the 1000 records seeded before the first
//! measurement; each delete removes a record re-written (untimed) just before it. Each call
//! is timed alone.
//!
//! Read it as `floor` + client overhead (+ the server's work, which `floor` does not do): the
//! `floor` group is the bare round trip of a get's bytes. Around `async/get` the server's
//! own time per get is read from the embedded server and kept for the report
//! ([`aerobench::server_share`]).

use std::time::Duration;

use aerospike_core::operations::{self, Operation};
use aerospike_core::{Bin, Bins, Client, Key, ReadPolicy, Result, WritePolicy};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use groups::layers::{self, LAYERS, NET, or_exit};
use groups::per_op::Hook;
use groups::server_share::Probe;
use groups::span::Span;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Get,
    Put,
    Exists,
    Operate,
    Delete,
}

const OPS: [(Op, &str); 5] = [
    (Op::Get, "get"),
    (Op::Put, "put"),
    (Op::Exists, "exists"),
    (Op::Operate, "operate"),
    (Op::Delete, "delete"),
];

/// The record the `i`th call addresses: a seeded one, or for deletes one of their own.
fn key_for(op: Op, i: u64) -> &'static Key {
    static DELETED: std::sync::OnceLock<Vec<Key>> = std::sync::OnceLock::new();
    let keys = match op {
        Op::Delete => DELETED.get_or_init(|| layers::keys(LAYERS.keys..2 * LAYERS.keys)),
        _ => layers::seeded_keys(),
    };
    &keys[(i % LAYERS.keys) as usize]
}

/// Policies and arguments, built once per sample so calls only borrow them.
struct Calls {
    read: ReadPolicy,
    write: WritePolicy,
    bins: [Bin; 1],
    ops: [Operation; 2],
}

impl Calls {
    fn new() -> Self {
        let bins = [layers::bin(2)];
        let ops = [operations::put(&bins[0]), operations::get_bin(LAYERS.bin)];
        Calls {
            read: ReadPolicy::default(),
            write: WritePolicy::default(),
            bins,
            ops,
        }
    }

    async fn run(&self, client: &Client, op: Op, key: &Key) -> Result<()> {
        match op {
            Op::Get => client.get(&self.read, key, Bins::All).await.map(drop),
            Op::Put => client.put(&self.write, key, &self.bins).await,
            Op::Exists => client.exists(&self.read, key).await.map(drop),
            Op::Operate => client.operate(&self.write, key, &self.ops).await.map(drop),
            Op::Delete => client.delete(&self.write, key).await.map(drop),
        }
    }

    fn run_blocking(&self, client: &aerospike_sync::Client, op: Op, key: &Key) -> Result<()> {
        match op {
            Op::Get => client.get(&self.read, key, Bins::All).map(drop),
            Op::Put => client.put(&self.write, key, &self.bins),
            Op::Exists => client.exists(&self.read, key).map(drop),
            Op::Operate => client.operate(&self.write, key, &self.ops).map(drop),
            Op::Delete => client.delete(&self.write, key).map(drop),
        }
    }
}

/// Time of `iters` async calls, each timed alone.
async fn timed_async(op: Op, name: &'static str, iters: u64) -> Duration {
    let (client, calls) = (&groups::bench().client, Calls::new());
    let hook = Hook::current();
    let mut measured = Duration::ZERO;
    for i in 0..iters {
        let key = key_for(op, i);
        if op == Op::Delete {
            or_exit(
                calls.run(client, Op::Put, key).await,
                "re-writing a record to delete",
            );
        }
        let span = Span::start();
        hook.run();
        let result = calls.run(client, op, key).await;
        measured += span.stop();
        or_exit(result, name);
    }
    measured
}

/// Time of `iters` blocking calls, each timed alone.
fn timed_blocking(client: &aerospike_sync::Client, op: Op, name: &str, iters: u64) -> Duration {
    let (calls, hook) = (Calls::new(), Hook::current());
    let mut measured = Duration::ZERO;
    for i in 0..iters {
        let key = key_for(op, i);
        if op == Op::Delete {
            or_exit(
                calls.run_blocking(client, Op::Put, key),
                "re-writing a record to delete",
            );
        }
        let span = Span::start();
        hook.run();
        let result = calls.run_blocking(client, op, key);
        measured += span.stop();
        or_exit(result, name);
    }
    measured
}

fn bench_single_op(c: &mut Criterion) {
    let bench = groups::bench();
    layers::seeded_keys();
    let blocking = or_exit(
        bench.target.connect_blocking(&bench.target.client_policy()),
        "blocking client",
    );
    let mut group = layers::group(c, "single_op", NET);
    group.throughput(Throughput::Elements(1));
    for (op, name) in OPS {
        // The report's waterfall splits the async get's time at the server's own share.
        let probe = (op == Op::Get).then(Probe::start).flatten();
        group.bench(format!("async/{name}"), |iters| {
            layers::in_task(&bench.runtime, timed_async(op, name, iters))
        });
        if let Some(probe) = probe {
            probe.finish();
        }
        group.bench(format!("blocking/{name}"), |iters| {
            timed_blocking(&blocking, op, name, iters)
        });
    }
    group.finish();
}

criterion_group! {
    name = single_op;
    config = groups::criterion();
    targets = bench_single_op
}
criterion_main!(single_op);
