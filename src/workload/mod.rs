//! What a run asks of the cluster: which keys, read or write, and what each key holds.
//!
//! - [`mix`]: `RU,<read%>`, `RR[,<read%>]`, `I`.
//! - [`object`]: `I8`, `S<n>`, `B<n>`, and the value a bin holds.
//! - [`bins`]: the list of specs (`-o I,S:100`), one bin each, and the check of a read.
//! - [`keys`]: key ids, random (xoshiro256++) or in order.
//! - [`dist`]: how random ids are drawn: uniform, zipf, hot keys.
//! - [`space`]: the namespace, set and bin of each user of the suite.

pub mod bins;
pub mod dist;
mod error;
pub mod keys;
pub mod mix;
pub mod object;
pub mod space;

use std::sync::Arc;

use aerospike_core::{Key, Value};
use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

pub use bins::Objects;
pub use dist::KeyDist;
pub use error::WorkloadError;
pub use mix::{Access, Mix, WriteKind};
pub use object::ObjectSpec;

use dist::KeyDraw;
use keys::Sequence;

/// Largest keys per call (`--batch-size`).
pub const MAX_BATCH: usize = 128;
/// Largest payload one call may carry, so a batch stays well inside a server frame.
const MAX_CALL_BYTES: usize = 8 << 20;
/// The server's longest namespace name, in bytes.
pub const MAX_NAMESPACE: usize = 31;
/// The server's longest set name, in bytes.
pub const MAX_SET: usize = 63;

/// The key space, the mix, the payload and the keys per call.
///
/// The namespace and set are `'static` so the workload stays `Copy`: the command line's
/// are leaked once per process ([`Workload::names`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Workload {
    pub keys: u64,
    pub namespace: &'static str,
    pub set: &'static str,
    #[serde(rename = "workload")]
    pub mix: Mix,
    pub object: Objects,
    pub keys_dist: KeyDist,
    pub batch_size: usize,
    /// `--verify`: every write also stamps its version in [`bins::VERSION_BIN`], and reads
    /// report the version they found (see `crate::verify`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub verify: bool,
}

impl Default for Workload {
    /// The usual asbench workload: 100,000 keys in `test.test`, `RU,50`, one `I8` bin,
    /// uniform keys, one key per call.
    fn default() -> Self {
        Workload {
            keys: space::RUN.keys,
            namespace: space::RUN.namespace,
            set: space::RUN.set,
            mix: Mix::default(),
            object: Objects::default(),
            keys_dist: KeyDist::default(),
            batch_size: 1,
            verify: false,
        }
    }
}

impl Workload {
    /// Names given at run time, kept for the rest of the process.
    pub fn names(namespace: &str, set: &str) -> (&'static str, &'static str) {
        let keep = |name: &str| &*Box::leak(name.into());
        (keep(namespace), keep(set))
    }

    /// One-line errors for values no run can use.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        if self.keys == 0 || self.keys > i64::MAX as u64 {
            return Err(WorkloadError::Keys(self.keys));
        }
        if self.namespace.is_empty() || self.namespace.len() > MAX_NAMESPACE {
            return Err(WorkloadError::Namespace(self.namespace.into()));
        }
        if self.set.len() > MAX_SET {
            return Err(WorkloadError::Set(self.set.into()));
        }
        if !self.keys_dist.valid() {
            return Err(WorkloadError::KeysDist(self.keys_dist.to_string()));
        }
        if self.mix.sequential() && self.keys_dist != KeyDist::Uniform {
            return Err(WorkloadError::SequentialDist(self.keys_dist));
        }
        if !(1..=MAX_BATCH).contains(&self.batch_size) {
            return Err(WorkloadError::BatchSize(self.batch_size));
        }
        if self.batch_size * self.object.size() > MAX_CALL_BYTES {
            return Err(WorkloadError::CallSize {
                batch: self.batch_size,
                object: self.object.to_string(),
            });
        }
        Ok(())
    }

    /// The most keys one call may carry: [`MAX_BATCH`], fewer when their values would make
    /// the call larger than [`MAX_CALL_BYTES`] (at least one).
    pub fn keys_per_call(&self) -> usize {
        (MAX_CALL_BYTES / self.object.size().max(1)).clamp(1, MAX_BATCH)
    }

    /// Task `task`'s source of calls; tasks of one run share `sequence`.
    pub fn picker(&self, task: usize, sequence: Arc<Sequence>) -> Picker {
        Picker {
            workload: *self,
            draw: KeyDraw::new(self.keys_dist, self.keys),
            rng: keys::generator(task),
            sequence,
        }
    }

    /// The key of id `id`: an integer user key in this workload's namespace and set.
    pub fn key(&self, id: u64) -> Key {
        Key::new(self.namespace, self.set, Value::Int(id as i64))
            .expect("an integer user key is valid")
    }
}

/// Chooses each call of one task: read or write, and its key ids.
pub struct Picker {
    workload: Workload,
    draw: KeyDraw,
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
            let (draw, rng) = (&self.draw, &mut self.rng);
            ids.extend((0..batch_size).map(|_| draw.next(rng)));
        }
        mix.access(self.rng.random_range(0..100))
    }
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
    fn zipf_draws_stay_in_the_key_space() {
        let workload = Workload {
            keys: 50,
            keys_dist: "zipf".parse().unwrap(),
            batch_size: 3,
            ..Workload::default()
        };
        let mut picker = workload.picker(0, Arc::default());
        let mut ids = Vec::new();
        for _ in 0..1000 {
            picker.next(&mut ids);
            assert!(ids.len() == 3 && ids.iter().all(|&id| id < 50), "{ids:?}");
        }
    }

    #[test]
    fn keys_are_in_the_workloads_namespace_and_set() {
        let (namespace, set) = Workload::names("bar", "");
        let key = Workload {
            namespace,
            set,
            ..Workload::default()
        }
        .key(5);
        assert_eq!((key.namespace(), key.set_name()), ("bar", ""));
        assert_eq!(key, Key::new("bar", "", Value::Int(5)).unwrap());
    }

    #[test]
    fn bad_names_and_distributions_name_the_flag() {
        let long = |n| Workload::names(&"n".repeat(n), "").0;
        for (workload, needle) in [
            (
                Workload {
                    namespace: "",
                    ..Workload::default()
                },
                "--namespace \"\"",
            ),
            (
                Workload {
                    namespace: long(32),
                    ..Workload::default()
                },
                "1 to 31 bytes",
            ),
            (
                Workload {
                    set: long(64),
                    ..Workload::default()
                },
                "--set",
            ),
            (
                Workload {
                    keys_dist: KeyDist::Zipf { theta: 1.0 },
                    ..Workload::default()
                },
                "--keys-dist \"zipf,1\"",
            ),
            (
                Workload {
                    mix: Mix::Insert,
                    keys_dist: "hot,10,90".parse().unwrap(),
                    ..Workload::default()
                },
                "-w I writes them in order",
            ),
        ] {
            let e = workload.validate().unwrap_err().to_string();
            assert!(e.contains(needle) && !e.contains('\n'), "{e}");
        }
        let longest = Workload {
            namespace: long(31),
            set: long(63),
            ..Workload::default()
        };
        assert_eq!(longest.validate(), Ok(()));
    }

    #[test]
    fn bad_sizes_name_the_flag() {
        let too_big = Workload {
            batch_size: 128,
            object: ObjectSpec::Bytes(1 << 20).into(),
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
        let bins_sum = Workload {
            batch_size: 8,
            object: "B:600000,B:600000".parse().unwrap(),
            ..Workload::default()
        };
        let e = bins_sum.validate().unwrap_err().to_string();
        assert!(
            e.contains("-o B600000,B600000"),
            "the sum of the bins counts: {e}"
        );
        let fits = Workload {
            batch_size: 8,
            object: "B:600000".parse().unwrap(),
            ..Workload::default()
        };
        assert_eq!(fits.validate(), Ok(()));
    }
}
