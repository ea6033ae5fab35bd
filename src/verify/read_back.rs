//! The check after a `--verify` run: once the client's view of the cluster holds still
//! (bounded), every key is read back and compared with the log. A key whose read fails is
//! retried in the next round until the bound; one still unread then is counted as
//! unverified, never passed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aerospike_core::Client;
use aerospike_core::policy::AdminPolicy;

use super::{Findings, Ledger, Seen};
use crate::driver::{AsyncClient, Backend, Calls, DEFAULT_TIMEOUT_MS, Keys, Policies};
use crate::workload::{Access, Workload};

/// The client's tend interval (its default): how often it refreshes its cluster view.
const TEND: Duration = Duration::from_secs(1);
/// The longest wait for the client's cluster view to hold still.
const SETTLE_BOUND: Duration = Duration::from_secs(5);
/// The longest wait for the nodes to finish migrating.
const MIGRATIONS_BOUND: Duration = Duration::from_secs(30);
/// The pause between rounds, for a node coming back, or the client's error-rate breaker
/// closing.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// The read-back's bound for `keys` keys: 30 s, plus 1 s per 100,000 keys.
pub fn bound(keys: u64) -> Duration {
    Duration::from_secs(30) + Duration::from_millis(keys / 100)
}

/// Reads back every key of `ledger` (the run's `workload`) through `client`, within
/// `bound` after the cluster settled, and adds what the reads during the run found.
/// Reads use the client's default timeout, whatever the run's was.
pub async fn read_back(
    client: Arc<Client>,
    workload: Workload,
    ledger: &Ledger,
    bound: Duration,
) -> Findings {
    settle(&client).await;
    migrated(&client, workload.namespace).await;
    let backend = AsyncClient {
        client,
        calls: Calls {
            policies: Policies::new(DEFAULT_TIMEOUT_MS, workload.mix.write_kind()),
            workload,
        },
    };
    let deadline = Instant::now() + bound;
    let (stale_reads, unexpected) = ledger.during_run();
    let mut findings = Findings {
        stale_reads,
        unexpected,
        ..Findings::default()
    };
    let mut pending: Vec<u64> = (0..ledger.keys()).collect();
    let (mut keys, mut rows) = (Keys::default(), Vec::new());
    loop {
        let mut failed = Vec::new();
        for chunk in pending.chunks(workload.keys_per_call()) {
            if Instant::now() >= deadline {
                failed.extend_from_slice(chunk);
                continue;
            }
            keys.ids.clear();
            keys.ids.extend_from_slice(chunk);
            rows.clear();
            backend.call(Access::Read, &keys, &mut rows).await;
            for (&id, &row) in chunk.iter().zip(&rows) {
                let seen = ledger.state(id).classify(row);
                findings.keys_checked += u64::from(seen != Seen::Unknown);
                match seen {
                    Seen::Current => {}
                    Seen::Older => findings.lost_writes += 1,
                    Seen::Unexpected => findings.unexpected += 1,
                    Seen::Unknown => failed.push(id),
                }
            }
        }
        pending = failed;
        let left = deadline.saturating_duration_since(Instant::now());
        if pending.is_empty() || left.is_zero() {
            break;
        }
        tokio::time::sleep(RETRY_PAUSE.min(left)).await;
    }
    findings.unverified = pending.len() as u64;
    findings
}

/// Waits until the client's node list holds still over one tend interval, at most
/// [`SETTLE_BOUND`]: a node healed or restarted near the end of the run is seen again.
async fn settle(client: &Client) {
    let names = || -> Vec<String> {
        client
            .nodes()
            .iter()
            .map(|n| n.name().to_string())
            .collect()
    };
    let deadline = Instant::now() + SETTLE_BOUND;
    let mut seen = names();
    loop {
        tokio::time::sleep(TEND).await;
        let now = names();
        if now == seen || Instant::now() >= deadline {
            return;
        }
        seen = now;
    }
}

/// Waits until every node the client knows answers `cluster-stable` with one cluster key
/// (asd answers an error while partitions still migrate), at most [`MIGRATIONS_BOUND`]:
/// read back mid-migration, a node that came back could answer for a key whose newest
/// version has not reached it yet, and a write would be counted lost that is not.
async fn migrated(client: &Client, namespace: &str) {
    let deadline = Instant::now() + MIGRATIONS_BOUND;
    loop {
        let nodes = client.nodes();
        let ask = format!("cluster-stable:size={};namespace={namespace}", nodes.len());
        let mut keys = Vec::new();
        for node in &nodes {
            let answer = node.info(&AdminPolicy::default(), &[ask.as_str()]).await;
            keys.push(answer.ok().and_then(|mut a| a.swap_remove(&ask)));
        }
        let stable = keys
            .iter()
            .all(|k| k.as_ref().is_some_and(|k| !k.starts_with("ERROR")) && *k == keys[0]);
        if stable {
            return;
        }
        if Instant::now() >= deadline {
            eprintln!(
                "aerobench: verify: the cluster still migrates after {MIGRATIONS_BOUND:?}; \
                 reading back anyway (a key not migrated yet reads as lost)"
            );
            return;
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}
