//! What a run asks of the cluster: which keys, read or write, and what each key holds.
//!
//! - [`mix`]: `RU,<read%>`, `RR[,<read%>]`, `I`.
//! - [`object`]: `I8`, `S<n>`, `B<n>`, and the value each key holds.
//! - [`keys`]: key ids, random (xoshiro256++) or in order.
//! - [`space`]: the namespace, set and bin of each user of the suite.

mod error;
pub mod keys;
pub mod mix;
pub mod object;
pub mod space;

use std::sync::Arc;

use aerospike_core::{Bin, Key};
use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

pub use error::WorkloadError;
pub use mix::{Access, Mix, WriteKind};
pub use object::ObjectSpec;

use keys::Sequence;

/// Largest keys per call (`--batch-size`).
pub const MAX_BATCH: usize = 128;
/// Largest payload one call may carry, so a batch stays well inside a server frame.
const MAX_CALL_BYTES: usize = 8 << 20;

/// The key space, the mix, the payload and the keys per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Workload {
    pub keys: u64,
    #[serde(rename = "workload")]
    pub mix: Mix,
    pub object: ObjectSpec,
    pub batch_size: usize,
}

impl Default for Workload {
    /// The usual asbench workload: 100,000 keys, `RU,50`, `I8`, one key per call.
    fn default() -> Self {
        Workload {
            keys: space::RUN.keys,
            mix: Mix::default(),
            object: ObjectSpec::default(),
            batch_size: 1,
        }
    }
}

impl Workload {
    /// One-line errors for values no run can use.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        if self.keys == 0 || self.keys > i64::MAX as u64 {
            return Err(WorkloadError::Keys(self.keys));
        }
        if !(1..=MAX_BATCH).contains(&self.batch_size) {
            return Err(WorkloadError::BatchSize(self.batch_size));
        }
        if self.batch_size * self.object.size() > MAX_CALL_BYTES {
            return Err(WorkloadError::CallSize {
                batch: self.batch_size,
                object: self.object,
            });
        }
        Ok(())
    }

    /// Task `task`'s source of calls; tasks of one run share `sequence`.
    pub fn picker(&self, task: usize, sequence: Arc<Sequence>) -> Picker {
        Picker {
            workload: *self,
            rng: keys::generator(task),
            sequence,
        }
    }
}

/// Chooses each call of one task: read or write, and its key ids.
pub struct Picker {
    workload: Workload,
    rng: Xoshiro256PlusPlus,
    sequence: Arc<Sequence>,
}

impl Picker {
    /// Fills `ids` (cleared first) with the next call's keys and says whether it reads.
    pub fn next(&mut self, ids: &mut Vec<u64>) -> Access {
        let Workload {
            keys,
            mix,
            batch_size,
            ..
        } = self.workload;
        ids.clear();
        if mix.sequential() {
            self.sequence.take_wrapping(keys, batch_size, ids);
        } else {
            keys::draw(&mut self.rng, keys, batch_size, ids);
        }
        mix.access(self.rng.random_range(0..100))
    }
}

/// The key of id `id`.
pub fn key(id: u64) -> Key {
    space::RUN.key(id as i64)
}

/// The bin written to key `id`.
pub fn bin(object: ObjectSpec, id: u64) -> Bin {
    Bin::new(space::RUN.bin, object.value(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picker_follows_the_mix_and_batch_size() {
        let workload = Workload {
            batch_size: 4,
            ..Workload::default()
        };
        let mut picker = workload.picker(0, Arc::default());
        let mut ids = Vec::new();
        let reads = (0..10_000)
            .filter(|_| picker.next(&mut ids) == Access::Read)
            .count();
        assert_eq!(ids.len(), 4);
        assert!((4_500..5_500).contains(&reads), "{reads}");
    }

    #[test]
    fn insert_walks_the_key_space() {
        let workload = Workload {
            keys: 3,
            mix: Mix::Insert,
            batch_size: 2,
            ..Workload::default()
        };
        let mut picker = workload.picker(0, Arc::default());
        let mut ids = Vec::new();
        assert_eq!(picker.next(&mut ids), Access::Write);
        assert_eq!(ids, [0, 1]);
        picker.next(&mut ids);
        assert_eq!(ids, [2, 0]);
    }

    #[test]
    fn bad_sizes_name_the_flag() {
        let too_big = Workload {
            batch_size: 128,
            object: ObjectSpec::Bytes(1 << 20),
            ..Workload::default()
        };
        assert!(
            too_big
                .validate()
                .unwrap_err()
                .to_string()
                .contains("--batch-size 128")
        );
        let zero = Workload {
            batch_size: 0,
            ..Workload::default()
        };
        assert!(
            zero.validate()
                .unwrap_err()
                .to_string()
                .contains("use 1 to 128")
        );
    }
}
