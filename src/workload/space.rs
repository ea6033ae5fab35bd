//! Where each user of the suite writes: one namespace, set and bin per job, so a run, the
//! layer groups and each test file keep to records of their own on a shared
//! cluster, and the names stand in one place.

use aerospike_core::{Key, Value};

use crate::server::DEFAULT_NAMESPACE;

/// A namespace, a set in it, the bin its records hold and how many keys its user seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpace {
    pub namespace: &'static str,
    pub set: &'static str,
    pub bin: &'static str,
    /// Keys `0..keys` are written before the first read (a run's own count is `--keys`).
    pub keys: u64,
}

impl KeySpace {
    /// The key of record `id`: an integer user key in this namespace and set.
    pub fn key(&self, id: i64) -> Key {
        Key::new(self.namespace, self.set, Value::Int(id)).expect("the namespace and set are valid")
    }
}

/// `aerobench run`'s defaults, asbench's (`-n test -s test`); its first bin is `b0` (see
/// [`super::bins`]).
pub const RUN: KeySpace = KeySpace {
    namespace: DEFAULT_NAMESPACE,
    set: "test",
    bin: "b0",
    keys: 100_000,
};

/// The per-layer benchmark groups; the set is three bytes, so a get request is the 72
/// bytes the `floor` group mirrors.
pub const LAYERS: KeySpace = KeySpace {
    namespace: DEFAULT_NAMESPACE,
    set: "set",
    bin: "v",
    keys: 1000,
};

/// The tests' shared helpers (`tests/common`).
pub const TESTS: KeySpace = KeySpace {
    namespace: DEFAULT_NAMESPACE,
    set: "set",
    bin: "v",
    keys: 0,
};

/// `tests/container.rs`.
pub const CONTAINER_TESTS: KeySpace = KeySpace {
    namespace: DEFAULT_NAMESPACE,
    set: "container",
    bin: "v",
    keys: 0,
};

/// `tests/differential`.
pub const DIFFERENTIAL_TESTS: KeySpace = KeySpace {
    namespace: DEFAULT_NAMESPACE,
    set: "diff",
    bin: "v",
    keys: 0,
};

/// `tests/sync_client.rs`.
pub const SYNC_TESTS: KeySpace = KeySpace {
    namespace: DEFAULT_NAMESPACE,
    set: "sync",
    bin: "v",
    keys: 16,
};

/// `tests/c_client.rs` (the script gets the namespace and set as arguments).
pub const C_CLIENT_TESTS: KeySpace = KeySpace {
    namespace: DEFAULT_NAMESPACE,
    set: "c",
    bin: "v",
    keys: 100,
};
