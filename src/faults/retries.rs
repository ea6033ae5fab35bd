//! How many calls the client retried, where it can tell: aerospike-core counts each
//! command's retries per node in its operational metrics (`transaction_retry_count`).
//! They are off by default because they cost a histogram update per command, so they are
//! switched on for runs with faults only; the blocking client does not expose them.

use std::collections::HashMap;
use std::sync::Arc;

use aerospike_core::Client;
use aerospike_core::metrics::MetricsPolicy;

/// Reads the client's retry counters window by window.
pub struct Retries {
    client: Arc<Client>,
    /// Per node (by address), the count at the last reading: a node that leaves the
    /// cluster takes its counter with it, so totals are summed from per-node increases.
    last: HashMap<String, u64>,
}

impl Retries {
    /// Switches the client's operational metrics on and starts counting from now.
    pub fn count(client: &Arc<Client>) -> Retries {
        client.enable_metrics(MetricsPolicy {
            operational: true,
            ..MetricsPolicy::default()
        });
        let mut retries = Retries {
            client: client.clone(),
            last: HashMap::new(),
        };
        retries.since_last();
        retries
    }

    /// Retries since the last reading.
    pub fn since_last(&mut self) -> u64 {
        let metrics = self.client.metrics();
        let mut added = 0;
        for (node, snapshot) in &metrics.nodes {
            let now = snapshot.counters.transaction_retry_count;
            let before = self.last.insert(node.clone(), now).unwrap_or(0);
            added += now.saturating_sub(before);
        }
        added
    }
}

impl Drop for Retries {
    fn drop(&mut self) {
        self.client.disable_metrics();
    }
}
