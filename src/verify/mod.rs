//! `aerobench run --verify`: no acknowledged write lost.
//!
//! Every write stamps a version in the record ([`crate::workload::bins::VERSION_BIN`]; the
//! seeding writes version 0), and each key has one writer: the tasks split the keys
//! ([`Share`]), so a key's writes go out one after another and its last acknowledged
//! version is exact, not a guess between concurrent writers. Each task keeps a [`TaskLog`]
//! of its keys (the last acknowledged version, and the later ones whose outcome is
//! unknown) and checks each of its reads against it; after the run, [`read_back`] reads
//! every key and compares. What they found is a [`Findings`].
//!
//! - [`share`]: which keys a task owns.
//! - [`log`]: the per-task log and the classification of what a read found.
//! - [`read_back`]: the check after the run.

pub mod log;
pub mod read_back;
pub mod share;

use serde::Serialize;

pub use log::{KeyState, Ledger, Seen, TaskLog};
pub use read_back::read_back;
pub use share::Share;

/// What a verification found: the run's `verify` block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    /// Keys read back and compared with the log.
    pub keys_checked: u64,
    /// Keys read back older than their last acknowledged write, or missing.
    pub lost_writes: u64,
    /// Reads during the run (warm-up included) that found a key older than its last
    /// acknowledged write, or missing.
    pub stale_reads: u64,
    /// Reads, during the run or after it, that found a version never written for the key,
    /// a record whose bins are not the key's, or no version.
    pub unexpected: u64,
    /// Keys whose read-back kept failing until its bound: neither passed nor failed.
    pub unverified: u64,
}

impl Findings {
    /// Whether nothing was lost, stale, unexpected or left unverified: the only pass.
    pub fn clean(&self) -> bool {
        self.lost_writes + self.stale_reads + self.unexpected + self.unverified == 0
    }
}
