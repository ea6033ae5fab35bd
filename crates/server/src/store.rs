//! The in-memory record store: namespaces of records keyed by digest, sharded so that
//! concurrent connections rarely wait on the same lock.
//!
//! Values are kept as (particle type, bytes) exactly as the client sent them, so lists,
//! maps and other types round-trip without the server understanding them. Expiry is lazy:
//! an expired record is treated as absent when it is next touched.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds between the Unix epoch and the Aerospike ("citrusleaf") epoch, 2010-01-01 UTC.
const CITRUSLEAF_EPOCH: u64 = 1_262_304_000;
/// The largest record a write may leave, by [`Record::stored_size`]: 1 MiB, the real
/// server's limit for an in-memory namespace (it answers RECORD_TOO_BIG beyond it).
pub const MAX_RECORD_SIZE: usize = 1 << 20;
/// Bytes a record costs beyond its bins, fitted to where the real server's limit falls.
const RECORD_OVERHEAD: usize = 42;
/// Bytes a bin costs beyond its name and value bytes.
const BIN_OVERHEAD: usize = 7;

/// Shards per namespace; a power of two so the shard is a mask of a digest byte.
const SHARDS: usize = 256;

/// A 20-byte RIPEMD-160 digest, the record's identity on the wire.
pub type Digest = [u8; 20];

/// Hashes a digest by taking eight of its bytes: a RIPEMD-160 digest is already uniform,
/// so running SipHash over it again only costs time on every command.
#[derive(Default)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Bytes 0-2 pick the partition and the shard; 4..12 vary within a shard.
        let mut word = [0u8; 8];
        let tail = bytes.get(4..12).unwrap_or(bytes);
        word[..tail.len().min(8)].copy_from_slice(&tail[..tail.len().min(8)]);
        self.0 ^= u64::from_le_bytes(word);
    }
}

type Records = HashMap<Digest, Record, BuildHasherDefault<DigestHasher>>;

/// One bin value as stored: its particle type and raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Particle {
    pub particle: u8,
    pub bytes: Vec<u8>,
}

/// A stored record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// 1 on create, +1 per write or touch, wrapping from 65535 back to 1 like the server.
    pub generation: u16,
    /// Seconds since the citrusleaf epoch at which the record expires; 0 = never.
    pub void_time: u32,
    /// Milliseconds since the citrusleaf epoch of the last write or touch: with the void
    /// time it gives the TTL last set, which read-touch restores.
    pub last_update_ms: u64,
    pub bins: Vec<(Vec<u8>, Particle)>,
}

impl Record {
    pub fn bin(&self, name: &[u8]) -> Option<&Particle> {
        self.bins.iter().find(|(n, _)| n == name).map(|(_, p)| p)
    }

    pub fn bin_mut(&mut self, name: &[u8]) -> Option<&mut Particle> {
        self.bins
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p)
    }

    pub fn set_bin(&mut self, name: &[u8], value: Particle) {
        match self.bin_mut(name) {
            Some(slot) => *slot = value,
            None => self.bins.push((name.to_vec(), value)),
        }
    }

    pub fn remove_bin(&mut self, name: &[u8]) {
        self.bins.retain(|(n, _)| n != name);
    }

    /// The record's size as the real server counts it against its 1 MiB limit, to within a
    /// few bytes (it packs integers tighter than their 8 wire bytes).
    pub fn stored_size(&self) -> usize {
        let bins: usize = self
            .bins
            .iter()
            .map(|(name, value)| BIN_OVERHEAD + name.len() + value.bytes.len())
            .sum();
        RECORD_OVERHEAD + bins
    }

    fn is_expired(&self, now: u32) -> bool {
        self.void_time != 0 && self.void_time <= now
    }
}

/// The next generation after `generation`, skipping 0 as the server does.
pub fn next_generation(generation: u16) -> u16 {
    if generation == u16::MAX {
        1
    } else {
        generation + 1
    }
}

/// Seconds since the citrusleaf epoch, the unit of void times on the wire.
pub fn now_citrusleaf() -> u32 {
    (now_citrusleaf_ms() / 1000) as u32
}

/// Milliseconds since the citrusleaf epoch, the unit of last-update times.
pub fn now_citrusleaf_ms() -> u64 {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    unix.saturating_sub(CITRUSLEAF_EPOCH * 1000)
}

/// Computes a void time from a request's `record_ttl`, as the server does.
///
/// `0` is the namespace default (never expire here), `u32::MAX` never expires,
/// `u32::MAX - 1` keeps the current void time, anything else is a TTL in seconds.
pub fn void_time_for(record_ttl: u32, current: u32, now: u32) -> u32 {
    match record_ttl {
        0 | u32::MAX => 0,
        v if v == u32::MAX - 1 => current,
        ttl => now.saturating_add(ttl),
    }
}

/// One namespace: a fixed set of lock-protected shards.
pub struct Namespace {
    shards: Box<[Mutex<Records>]>,
}

impl Default for Namespace {
    fn default() -> Self {
        Namespace {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl Namespace {
    /// Locks the shard holding `digest`. Digest bytes are uniform, so byte 2 spreads keys
    /// evenly (bytes 0 and 1 pick the partition, which would tie shards to nodes).
    pub fn shard(&self, digest: &Digest) -> Shard<'_> {
        let guard = self.shards[digest[2] as usize % SHARDS]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Shard {
            guard,
            now_ms: now_citrusleaf_ms(),
        }
    }

    /// Number of live records, for statistics.
    pub fn len(&self) -> usize {
        let now = now_citrusleaf();
        self.shards
            .iter()
            .map(|s| {
                let map = s.lock().unwrap_or_else(|p| p.into_inner());
                map.values().filter(|r| !r.is_expired(now)).count()
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A locked shard, with the clock read once for the whole command.
pub struct Shard<'a> {
    guard: MutexGuard<'a, Records>,
    /// Milliseconds since the citrusleaf epoch.
    pub now_ms: u64,
}

impl Shard<'_> {
    /// The same instant in seconds, the unit of void times.
    pub fn now(&self) -> u32 {
        (self.now_ms / 1000) as u32
    }

    /// The live record for `digest`; an expired one is removed and reported absent.
    pub fn get(&mut self, digest: &Digest) -> Option<&Record> {
        self.evict_expired(digest);
        self.guard.get(digest)
    }

    /// [`Self::get`] for a command that may change the record in place (read-touch).
    pub fn get_mut(&mut self, digest: &Digest) -> Option<&mut Record> {
        self.evict_expired(digest);
        self.guard.get_mut(digest)
    }

    pub fn insert(&mut self, digest: Digest, record: Record) {
        self.guard.insert(digest, record);
    }

    pub fn remove(&mut self, digest: &Digest) -> Option<Record> {
        self.evict_expired(digest);
        self.guard.remove(digest)
    }

    fn evict_expired(&mut self, digest: &Digest) {
        if self
            .guard
            .get(digest)
            .is_some_and(|r| r.is_expired(self.now()))
        {
            self.guard.remove(digest);
        }
    }
}

/// All namespaces the server was started with. The set is fixed for the process lifetime,
/// so lookups need no lock.
pub struct Store {
    namespaces: HashMap<Vec<u8>, Namespace>,
}

impl Store {
    pub fn new<S: AsRef<str>>(names: &[S]) -> Self {
        Store {
            namespaces: names
                .iter()
                .map(|n| (n.as_ref().as_bytes().to_vec(), Namespace::default()))
                .collect(),
        }
    }

    pub fn namespace(&self, name: &[u8]) -> Option<&Namespace> {
        self.namespaces.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i64) -> Particle {
        Particle {
            particle: 1,
            bytes: v.to_be_bytes().to_vec(),
        }
    }

    #[test]
    fn generation_wraps_past_zero() {
        assert_eq!(next_generation(1), 2);
        assert_eq!(next_generation(u16::MAX), 1);
    }

    #[test]
    fn ttl_rules() {
        assert_eq!(void_time_for(0, 50, 100), 0);
        assert_eq!(void_time_for(u32::MAX, 50, 100), 0);
        assert_eq!(void_time_for(u32::MAX - 1, 50, 100), 50);
        assert_eq!(void_time_for(10, 50, 100), 110);
    }

    #[test]
    fn expired_records_are_absent() {
        let store = Store::new(&["test"]);
        let ns = store.namespace(b"test").unwrap();
        let digest = [7u8; 20];
        let mut shard = ns.shard(&digest);
        let now = shard.now();
        shard.insert(
            digest,
            Record {
                generation: 1,
                void_time: now,
                bins: vec![(b"a".to_vec(), int(1))],
                ..Record::default()
            },
        );
        assert!(shard.get(&digest).is_none());
    }

    #[test]
    fn bins_set_and_remove() {
        let mut rec = Record::default();
        rec.set_bin(b"a", int(1));
        rec.set_bin(b"a", int(2));
        assert_eq!(rec.bins.len(), 1);
        assert_eq!(rec.bin(b"a"), Some(&int(2)));
        rec.remove_bin(b"a");
        assert!(rec.bins.is_empty());
    }
}
