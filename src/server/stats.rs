//! Request counters, printed as one `--stats` line when the server exits.
//!
//! Relaxed atomics: the counts are read once at exit, so ordering does not matter and the
//! hot path pays one uncontended add per counter.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use super::command::Kind;

#[derive(Default)]
pub struct Stats {
    pub get: AtomicU64,
    pub exists: AtomicU64,
    pub put: AtomicU64,
    pub delete: AtomicU64,
    pub touch: AtomicU64,
    pub operate: AtomicU64,
    pub batch: AtomicU64,
    pub batch_rows: AtomicU64,
    pub info: AtomicU64,
    /// Commands that reached a node that is not the key's master (should stay 0 when
    /// the client routes by the announced partition map).
    pub misrouted: AtomicU64,
    pub connections: AtomicU64,
    pub refused: AtomicU64,
    pub malformed: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
}

pub fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Stats {
    pub fn count(&self, kind: Kind) {
        let counter = match kind {
            Kind::Get => &self.get,
            Kind::Exists => &self.exists,
            Kind::Put => &self.put,
            Kind::Delete => &self.delete,
            Kind::Touch => &self.touch,
            Kind::Operate => &self.operate,
        };
        bump(counter, 1);
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = [
            ("get", &self.get),
            ("exists", &self.exists),
            ("put", &self.put),
            ("delete", &self.delete),
            ("touch", &self.touch),
            ("operate", &self.operate),
            ("batch", &self.batch),
            ("batch_rows", &self.batch_rows),
            ("info", &self.info),
            ("misrouted", &self.misrouted),
            ("connections", &self.connections),
            ("refused", &self.refused),
            ("malformed", &self.malformed),
            ("bytes_in", &self.bytes_in),
            ("bytes_out", &self.bytes_out),
        ];
        f.write_str("aerobench-server stats:")?;
        for (name, value) in fields {
            write!(f, " {name}={}", value.load(Ordering::Relaxed))?;
        }
        Ok(())
    }
}
