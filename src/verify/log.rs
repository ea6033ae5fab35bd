//! The log of a `--verify` run: per key, the last acknowledged version and the versions
//! written after it whose outcome is unknown, kept by the key's one writer.
//!
//! A key's writes are issued one at a time by its owner, each with the next version, and
//! each ends acknowledged or failed. So the versions after the last acknowledged one are
//! exactly those whose write failed (timed out, lost its connection, refused: the server
//! may or may not have applied them), and two numbers per key say it all: `acked` and
//! `issued`. A newer acknowledgement clears the uncertain ones below it.

use std::sync::{Arc, Mutex};

use super::Share;
use crate::driver::Keys;
use crate::driver::recorder::lock;
use crate::stats::Row;
use crate::workload::Access;

/// What a key's writer knows of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyState {
    /// The last version a write acknowledged (the seeding's is 0).
    pub acked: u64,
    /// The last version issued; those above `acked` are uncertain.
    pub issued: u64,
}

/// What a read found, against the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The last acknowledged version, or an uncertain later one.
    Current,
    /// An older version than the last acknowledged one, or no record: during the run a
    /// stale read, after it a lost write.
    Older,
    /// A version never written for the key, a record whose bins are not the key's, or no
    /// version.
    Unexpected,
    /// Nothing was read: the read failed.
    Unknown,
}

impl KeyState {
    /// What `row`, a read of this key, found.
    pub fn classify(self, row: Row) -> Seen {
        match row {
            Row::Versioned(v) if v < self.acked => Seen::Older,
            Row::Versioned(v) if v > self.issued => Seen::Unexpected,
            Row::Versioned(_) => Seen::Current,
            // The seeding acknowledged a version of every key.
            Row::Miss => Seen::Older,
            Row::Mismatch | Row::Hit => Seen::Unexpected,
            Row::Written | Row::Failed(_) => Seen::Unknown,
        }
    }
}

/// The log of the keys one task owns, with what its reads found during the run. Only its
/// task writes to it, so its lock is never contended.
#[derive(Debug)]
pub struct TaskLog {
    share: Share,
    keys: u64,
    /// By [`Share::slot`].
    states: Vec<KeyState>,
    pub stale_reads: u64,
    pub unexpected: u64,
}

impl TaskLog {
    /// The log of `share` over `0..keys`, every key seeded (version 0 acknowledged).
    pub fn new(share: Share, keys: u64) -> TaskLog {
        TaskLog {
            share,
            keys,
            states: vec![KeyState::default(); share.len(keys)],
            stale_reads: 0,
            unexpected: 0,
        }
    }

    /// Makes the call's drawn ids this task's own and, for a write, stamps each with its
    /// key's next version. A key twice in one batch gets one version: both rows then write
    /// the same values, in whichever order the server applies them.
    pub fn claim(&mut self, access: Access, keys: &mut Keys) {
        for id in &mut keys.ids {
            *id = self.share.nearest(*id, self.keys);
        }
        keys.versions.clear();
        if access == Access::Read {
            return;
        }
        for (i, &id) in keys.ids.iter().enumerate() {
            let version = match keys.ids[..i].iter().position(|&other| other == id) {
                Some(first) => keys.versions[first],
                None => {
                    let state = &mut self.states[self.share.slot(id)];
                    state.issued += 1;
                    state.issued
                }
            };
            keys.versions.push(version);
        }
    }

    /// Takes in what a call on `keys` (claimed) found, one row per key: an acknowledged
    /// write moves its key's `acked` up; a read is checked against the log.
    pub fn settle(&mut self, access: Access, keys: &Keys, rows: &[Row]) {
        for (i, (&id, &row)) in keys.ids.iter().zip(rows).enumerate() {
            let state = &mut self.states[self.share.slot(id)];
            match access {
                Access::Write if row == Row::Written => {
                    state.acked = state.acked.max(keys.versions[i]);
                }
                Access::Write => {}
                Access::Read => match state.classify(row) {
                    Seen::Older => self.stale_reads += 1,
                    Seen::Unexpected => self.unexpected += 1,
                    Seen::Current | Seen::Unknown => {}
                },
            }
        }
    }

    /// The state of `id`, one of this task's keys.
    fn state(&self, id: u64) -> KeyState {
        self.states[self.share.slot(id)]
    }
}

/// Every task's log of one run.
#[derive(Debug)]
pub struct Ledger {
    keys: u64,
    logs: Vec<Arc<Mutex<TaskLog>>>,
}

impl Ledger {
    /// The logs of `tasks` callers splitting `0..keys` (`keys` ≥ `tasks`).
    pub fn new(keys: u64, tasks: usize) -> Ledger {
        let tasks = tasks as u64;
        Ledger {
            keys,
            logs: (0..tasks)
                .map(|task| Arc::new(Mutex::new(TaskLog::new(Share { task, tasks }, keys))))
                .collect(),
        }
    }

    /// Task `task`'s log.
    pub fn log(&self, task: usize) -> Arc<Mutex<TaskLog>> {
        self.logs[task].clone()
    }

    /// The keys it covers, `0..keys`.
    pub fn keys(&self) -> u64 {
        self.keys
    }

    /// What the log holds of key `id`.
    pub fn state(&self, id: u64) -> KeyState {
        let owner = Share::of(id, self.logs.len() as u64);
        lock(&self.logs[owner.task as usize]).state(id)
    }

    /// Stale and unexpected reads during the run, over every task.
    pub fn during_run(&self) -> (u64, u64) {
        self.logs.iter().fold((0, 0), |(stale, unexpected), log| {
            let log = lock(log);
            (stale + log.stale_reads, unexpected + log.unexpected)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Failure;

    fn keys(ids: &[u64]) -> Keys {
        Keys {
            ids: ids.to_vec(),
            versions: Vec::new(),
        }
    }

    #[test]
    fn a_read_is_current_older_or_unexpected_against_the_log() {
        let state = KeyState {
            acked: 3,
            issued: 5,
        };
        for (row, seen) in [
            (Row::Versioned(3), Seen::Current),
            (Row::Versioned(4), Seen::Current),
            (Row::Versioned(5), Seen::Current),
            (Row::Versioned(2), Seen::Older),
            (Row::Miss, Seen::Older),
            (Row::Versioned(6), Seen::Unexpected),
            (Row::Mismatch, Seen::Unexpected),
            (Row::Hit, Seen::Unexpected),
            (Row::Failed(Failure::Timeout), Seen::Unknown),
        ] {
            assert_eq!(state.classify(row), seen, "{row:?}");
        }
    }

    #[test]
    fn a_write_is_uncertain_until_a_newer_one_is_acknowledged() {
        let (keys_total, tasks) = (10, 2);
        let ledger = Ledger::new(keys_total, tasks);
        let log = ledger.log(1);
        let mut log = lock(&log);
        // Ids drawn anywhere become task 1's own (odd) ids, the nearest.
        let mut call = keys(&[4, 9]);
        log.claim(Access::Write, &mut call);
        assert_eq!(
            (call.ids.as_slice(), call.versions.as_slice()),
            (&[3, 9][..], &[1, 1][..])
        );
        log.settle(
            Access::Write,
            &call,
            &[Row::Written, Row::Failed(Failure::Timeout)],
        );
        drop(log);
        assert_eq!(
            ledger.state(3),
            KeyState {
                acked: 1,
                issued: 1
            }
        );
        let uncertain = KeyState {
            acked: 0,
            issued: 1,
        };
        assert_eq!(ledger.state(9), uncertain, "a failed write is uncertain");
        assert_eq!(ledger.state(8), KeyState::default(), "task 0's, untouched");

        let log = ledger.log(1);
        let mut log = lock(&log);
        let mut again = keys(&[9]);
        log.claim(Access::Write, &mut again);
        log.settle(Access::Write, &again, &[Row::Failed(Failure::Connection)]);
        assert_eq!(
            log.state(9),
            KeyState {
                acked: 0,
                issued: 2
            }
        );
        log.claim(Access::Write, &mut again);
        log.settle(Access::Write, &again, &[Row::Written]);
        assert_eq!(
            log.state(9),
            KeyState {
                acked: 3,
                issued: 3
            },
            "cleared"
        );
    }

    #[test]
    fn a_key_twice_in_one_batch_gets_one_version() {
        let mut log = TaskLog::new(Share { task: 0, tasks: 1 }, 10);
        let mut call = keys(&[2, 5, 2]);
        log.claim(Access::Write, &mut call);
        assert_eq!(call.versions, [1, 1, 1]);
        log.claim(Access::Write, &mut call);
        assert_eq!(call.versions, [2, 2, 2]);
        log.settle(
            Access::Write,
            &call,
            &[Row::Failed(Failure::Timeout), Row::Written, Row::Written],
        );
        assert_eq!(
            log.state(2),
            KeyState {
                acked: 2,
                issued: 2
            }
        );
        log.claim(Access::Read, &mut call);
        assert!(call.versions.is_empty(), "reads stamp nothing");
    }

    #[test]
    fn reads_during_the_run_count_stale_and_unexpected_ones() {
        let ledger = Ledger::new(4, 2);
        let log = ledger.log(0);
        let mut log = lock(&log);
        let mut call = keys(&[0, 2]);
        log.claim(Access::Write, &mut call);
        log.settle(Access::Write, &call, &[Row::Written, Row::Written]);
        log.claim(Access::Read, &mut call);
        log.settle(Access::Read, &call, &[Row::Versioned(1), Row::Versioned(0)]);
        log.settle(Access::Read, &call, &[Row::Miss, Row::Versioned(2)]);
        log.settle(
            Access::Read,
            &call,
            &[Row::Mismatch, Row::Failed(Failure::Timeout)],
        );
        drop(log);
        assert_eq!(ledger.during_run(), (2, 2));
    }
}
