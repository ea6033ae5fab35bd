//! Loading the key space before a run (`--seed`): every key written once, in batches, with
//! the value the run's reads are checked against, so a seeded run reads no misses.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;

use aerospike_core::Client;

use super::{AsyncClient, Backend, Config, SeedError};
use crate::stats::Counts;
use crate::workload::Access;
use crate::workload::keys::Sequence;

const TASKS: usize = 16;
const BATCH: usize = 100;
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Writes `config`'s key space once through the async `client`, with the values `config`'s
/// reads are checked against: what the CLI, the throughput groups and the tests load.
pub async fn seed_client(
    client: &Arc<Client>,
    config: &Config,
    on_progress: &mut dyn FnMut(u64),
) -> Result<(), SeedError> {
    let backend = Arc::new(AsyncClient {
        client: client.clone(),
        calls: config.calls(),
    });
    seed(backend, config.workload.keys, on_progress).await
}

/// Writes keys `0..keys` once through `backend`, telling `on_progress` how many are done
/// every 100 ms and at the end. Fails, naming the failures, if any key was not written.
pub async fn seed<B: Backend>(
    backend: Arc<B>,
    keys: u64,
    on_progress: &mut dyn FnMut(u64),
) -> Result<(), SeedError> {
    let sequence = Arc::new(Sequence::default());
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..TASKS {
        let (backend, sequence, done) = (backend.clone(), sequence.clone(), done.clone());
        tasks.spawn(async move {
            let (mut ids, mut rows, mut counts) = (Vec::new(), Vec::new(), Counts::default());
            while let Some(range) = sequence.take(keys, BATCH) {
                ids.clear();
                ids.extend(range);
                rows.clear();
                backend.call(Access::Write, &ids, &mut rows).await;
                rows.iter().for_each(|&row| counts.add(row));
                done.fetch_add(ids.len() as u64, Ordering::Relaxed);
            }
            counts
        });
    }
    let mut counts = Counts::default();
    let mut progress = tokio::time::interval(PROGRESS_EVERY);
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok(task_counts)) => counts.merge(&task_counts),
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            _ = progress.tick() => on_progress(done.load(Ordering::Relaxed)),
        }
    }
    on_progress(done.load(Ordering::Relaxed));
    match counts.errors + counts.timeouts {
        0 => Ok(()),
        failed => Err(SeedError::Failed {
            failed,
            keys,
            failures: counts.failures(),
        }),
    }
}
