//! `batch`: one `Client::batch` call of 1 to 128 rows, one at a time.
//!
//! Isolates the batch path (grouping rows by node, one batch request per node, parsing the
//! rows back) for reads (all bins) and writes (one integer bin), as `batch/<read|write>/<n>`.
//! aerospike-core 3.0.0 sends a node's rows as a plain single-record command when the node
//! has only one, so `n = 1` (and every node's share on a 1-row batch) is a single-record
//! command with batch bookkeeping around it.
//!
//! Held constant: the async client on the harness's multi-thread runtime, one task, default
//! policies, the records seeded before the first measurement; the rows are built once per
//! sample and reused, as the API allows, so building them is not timed (`key` measures
//! that). After each sample every row must have come back `Ok`.
//!
//! Read the time per call against `single_op`'s get, and the throughput column as rows per
//! second: the gap between `n` and `n = 1` per row is what batching saves.

use std::time::Duration;

use aerospike_core::operations;
use aerospike_core::{
    BatchOperation, BatchPolicy, BatchReadPolicy, BatchWritePolicy, Bins, ResultCode,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use groups::layers::{self, NET, or_exit};
use groups::per_op::Hook;
use groups::span::Span;

const SIZES: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

/// The first `n` seeded records as `kind` rows.
fn rows(kind: &str, n: usize) -> Vec<BatchOperation> {
    let (read, write) = (BatchReadPolicy::default(), BatchWritePolicy::default());
    let keys = layers::seeded_keys()[..n].iter().cloned();
    match kind {
        "read" => keys
            .map(|key| BatchOperation::read(&read, key, Bins::All))
            .collect(),
        _ => keys
            .map(|key| BatchOperation::write(&write, key, vec![operations::put(&layers::bin(2))]))
            .collect(),
    }
}

/// Time of `iters` batch calls over `rows`.
async fn timed(mut rows: Vec<BatchOperation>, iters: u64) -> Duration {
    let (client, policy) = (&groups::bench().client, BatchPolicy::default());
    let hook = Hook::current();
    let span = Span::start();
    for _ in 0..iters {
        hook.run();
        or_exit(client.batch(&policy, &mut rows).await, "batch");
    }
    let elapsed = span.stop();
    if let Some(row) = rows
        .iter()
        .find(|row| row.result_code() != Some(ResultCode::Ok))
    {
        groups::exit_with(format!("batch: a row came back {:?}", row.result_code()));
    }
    elapsed
}

fn bench_batch(c: &mut Criterion) {
    let runtime = &groups::bench().runtime;
    layers::seeded_keys();
    let mut group = layers::group(c, "batch", NET);
    for kind in ["read", "write"] {
        for n in SIZES {
            group.throughput(Throughput::Elements(n as u64));
            group.bench(format!("{kind}/{n}"), |iters| {
                layers::in_task(runtime, timed(rows(kind, n), iters))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = batch;
    config = groups::criterion();
    targets = bench_batch
}
criterion_main!(batch);
