//! Why a run could not be configured, or its key space not loaded.

use std::collections::BTreeMap;

use crate::workload::WorkloadError;

/// A run configuration no run can use, each message naming the flag and a valid value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    #[error("invalid duration 0: use -d 1 or more seconds")]
    ZeroDuration,
    #[error("no tasks or threads: use -z 1 or more, or --threads 1 or more")]
    NoTasks,
    #[error("--rate 0: use 1 or more calls per second, or drop --rate for a closed loop")]
    ZeroRate,
    #[error("--min-conns {min} is above --max-conns {max}: raise --max-conns or lower --min-conns")]
    Pool { min: usize, max: usize },
    #[error(
        "--verify gives every key one writer, but -k {keys} is fewer than the {callers} tasks or threads: raise -k or lower -z/--threads"
    )]
    VerifyKeys { keys: u64, callers: usize },
    #[error(
        "--bare runs single-key reads and writes drawn at random: use an RU or RR mix with --batch-size 1"
    )]
    NotBare,
}

/// Keys that `--seed` did not write.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("seeding task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error(
        "seeding failed: {failed} of {keys} keys not written ({failures:?}); check the target, or raise --timeout-ms"
    )]
    Failed {
        failed: u64,
        keys: u64,
        failures: BTreeMap<String, u64>,
    },
}
