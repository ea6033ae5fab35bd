//! Loading the key space before a run (`--seed`): every key written once, in batches, with
//! the values the run's reads are checked against (under `--verify`, version 0), so a
//! seeded run reads no misses. The
//! phase is timed like a run (each batch call's latency, the keys per second), so its
//! figures are reported beside the run's.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use aerospike_core::Client;

use super::{AsyncClient, Backend, Config, Keys, SeedError};
use crate::stats::{Call, Figures, Tally};
use crate::workload::keys::Sequence;
use crate::workload::{Access, Workload};

const TASKS: usize = 16;
const BATCH: usize = 100;
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Writes `config`'s key space once through the async `client`, with the values `config`'s
/// reads are checked against: what the CLI, the throughput groups and the tests load.
pub async fn seed_client(
    client: &Arc<Client>,
    config: &Config,
    on_progress: &mut dyn FnMut(u64),
) -> Result<Figures, SeedError> {
    let backend = Arc::new(AsyncClient {
        client: client.clone(),
        calls: config.calls(),
    });
    seed(backend, &config.workload, on_progress).await
}

/// Writes `workload`'s keys once through `backend` (stamped with version 0 under
/// `--verify`), telling `on_progress` how many are done every 100 ms and at the end, and
/// returns the phase's figures (one write call per batch). Fails, naming the failures, if
/// any key was not written.
pub async fn seed<B: Backend>(
    backend: Arc<B>,
    workload: &Workload,
    on_progress: &mut dyn FnMut(u64),
) -> Result<Figures, SeedError> {
    let (keys, verify) = (workload.keys, workload.verify);
    let sequence = Arc::new(Sequence::default());
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..TASKS {
        let (backend, sequence, done) = (backend.clone(), sequence.clone(), done.clone());
        tasks.spawn(async move {
            let (mut batch, mut rows, mut tally) = (Keys::default(), Vec::new(), Tally::default());
            while let Some(range) = sequence.take(keys, BATCH) {
                batch.ids.clear();
                batch.ids.extend(range);
                if verify {
                    batch.versions.resize(batch.ids.len(), 0);
                }
                rows.clear();
                let sent = Instant::now();
                backend.call(Access::Write, &batch, &mut rows).await;
                let call = Call {
                    access: Access::Write,
                    response: sent.elapsed(),
                    service: None,
                };
                tally.record(call, &rows);
                done.fetch_add(batch.ids.len() as u64, Ordering::Relaxed);
            }
            tally
        });
    }
    let mut tally = Tally::default();
    let mut progress = tokio::time::interval(PROGRESS_EVERY);
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok(task_tally)) => tally.merge(&task_tally),
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            _ = progress.tick() => on_progress(done.load(Ordering::Relaxed)),
        }
    }
    on_progress(done.load(Ordering::Relaxed));
    let figures = Figures::of(&tally, start.elapsed());
    match figures.errors + figures.timeouts {
        0 => Ok(figures),
        failed => Err(SeedError::Failed {
            failed,
            keys,
            failures: figures.failures,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{Calls, Policies, Ready};
    use crate::workload::WriteKind;

    #[tokio::test]
    async fn the_phase_counts_every_key_and_times_every_call() {
        let calls = Calls {
            policies: Policies::new(0, WriteKind::Update),
            workload: Workload::default(),
        };
        let mut last = 0;
        let workload = Workload {
            keys: 1_050,
            ..Workload::default()
        };
        let figures = seed(Arc::new(Ready { calls }), &workload, &mut |n| last = n)
            .await
            .unwrap();
        assert_eq!((last, figures.writes, figures.ops), (1_050, 1_050, 1_050));
        assert_eq!(figures.calls, 11, "batches of {BATCH}");
        assert_eq!((figures.errors, figures.timeouts), (0, 0));
        assert!(figures.seconds > 0.0 && figures.tps > 0.0);
        assert!(figures.latency_ns.max >= figures.latency_ns.p50);
    }
}
