//! The client knobs a run sets: per-op timeout on or off, and the connection pool.

use aerospike_core::policy::{BasePolicy, BatchPolicy, ClientPolicy, ReadPolicy, WritePolicy};
use aerospike_core::{BatchReadPolicy, BatchWritePolicy, RecordExistsAction};
use serde::Serialize;

use super::ConfigError;
use crate::workload::WriteKind;

/// The client's default total timeout, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 1000;

/// The policies of every call a run makes.
#[derive(Debug, Clone)]
pub struct Policies {
    pub read: ReadPolicy,
    pub write: WritePolicy,
    pub batch_read: BatchPolicy,
    pub batch_write: BatchPolicy,
    pub read_row: BatchReadPolicy,
    pub write_row: BatchWritePolicy,
}

impl Policies {
    /// Client defaults, with `timeout_ms` as the total timeout of every call. 0 turns the
    /// per-op timeout off: total and socket timeouts 0. In aerospike-core 3.0.0 that drops
    /// the command deadline and the batch-wide `timeout()` wrapper; each connection still
    /// re-arms its own reusable per-IO sleep (at the 30 s idle default).
    pub fn new(timeout_ms: u32, write_kind: WriteKind) -> Policies {
        let mut p = Policies {
            read: ReadPolicy::default(),
            write: WritePolicy::default(),
            batch_read: BatchPolicy::default(),
            batch_write: BatchPolicy::write_default(),
            read_row: BatchReadPolicy::default(),
            write_row: BatchWritePolicy::default(),
        };
        for base in [
            &mut p.read.base_policy,
            &mut p.write.base_policy,
            &mut p.batch_read.base_policy,
            &mut p.batch_write.base_policy,
        ] {
            set_timeout(base, timeout_ms);
        }
        let exists = match write_kind {
            WriteKind::Update => RecordExistsAction::Update,
            WriteKind::Replace => RecordExistsAction::Replace,
        };
        p.write.record_exists_action = exists;
        p.write_row.record_exists_action = exists;
        p
    }
}

fn set_timeout(base: &mut BasePolicy, timeout_ms: u32) {
    base.total_timeout = timeout_ms;
    if timeout_ms == 0 {
        base.socket_timeout = 0;
    }
}

/// Connection pool knobs of the client policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pool {
    pub max_conns_per_node: usize,
    pub min_conns_per_node: usize,
    pub conn_pools_per_node: u8,
}

impl Default for Pool {
    /// The client's defaults.
    fn default() -> Self {
        let policy = ClientPolicy::default();
        Pool {
            max_conns_per_node: policy.max_conns_per_node,
            min_conns_per_node: policy.min_conns_per_node,
            conn_pools_per_node: policy.conn_pools_per_node,
        }
    }
}

impl Pool {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.min_conns_per_node > self.max_conns_per_node {
            return Err(ConfigError::Pool {
                min: self.min_conns_per_node,
                max: self.max_conns_per_node,
            });
        }
        Ok(())
    }

    pub fn apply(&self, policy: &mut ClientPolicy) {
        policy.max_conns_per_node = self.max_conns_per_node;
        policy.min_conns_per_node = self.min_conns_per_node;
        policy.conn_pools_per_node = self.conn_pools_per_node;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_off_clears_both_timeouts() {
        let off = Policies::new(0, WriteKind::Update);
        for base in [
            &off.read.base_policy,
            &off.write.base_policy,
            &off.batch_write.base_policy,
        ] {
            assert_eq!((base.total_timeout, base.socket_timeout), (0, 0));
        }
        let on = Policies::new(250, WriteKind::Replace);
        assert_eq!(on.read.base_policy.total_timeout, 250);
        assert_eq!(on.write.record_exists_action, RecordExistsAction::Replace);
        assert_eq!(
            on.batch_write.base_policy.max_retries, 0,
            "batch writes do not retry"
        );
    }

    #[test]
    fn min_above_max_is_refused() {
        let pool = Pool {
            min_conns_per_node: 10,
            max_conns_per_node: 5,
            ..Pool::default()
        };
        assert!(
            pool.validate()
                .unwrap_err()
                .to_string()
                .contains("--min-conns 10")
        );
    }
}
