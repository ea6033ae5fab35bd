//! Request counters, printed as one `--stats` line when the server exits.
//!
//! Relaxed atomics: the counts are read once at exit, so ordering does not matter and the
//! hot path pays one uncontended add per counter.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use super::command::Kind;
use super::service_time::ServiceTimes;

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
    /// Requests a hung node held past their transaction_ttl, dropped unapplied once healed.
    pub expired: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Record commands (single and batch rows) served per node.
    pub by_node: [AtomicU64; super::MAX_NODES],
    /// Connections accepted per node, answered as the real server's
    /// `client_connections_opened`.
    pub connections_by_node: [AtomicU64; super::MAX_NODES],
    /// Time spent serving record requests, answered to its own info name.
    pub service_time: ServiceTimes,
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

impl Stats {
    /// Every counter with its name, in a fixed order.
    pub fn fields(&self) -> [(&'static str, u64); 16] {
        let c = |v: &AtomicU64| v.load(Ordering::Relaxed);
        [
            ("get", c(&self.get)),
            ("exists", c(&self.exists)),
            ("put", c(&self.put)),
            ("delete", c(&self.delete)),
            ("touch", c(&self.touch)),
            ("operate", c(&self.operate)),
            ("batch", c(&self.batch)),
            ("batch_rows", c(&self.batch_rows)),
            ("info", c(&self.info)),
            ("misrouted", c(&self.misrouted)),
            ("connections", c(&self.connections)),
            ("refused", c(&self.refused)),
            ("malformed", c(&self.malformed)),
            ("expired", c(&self.expired)),
            ("bytes_in", c(&self.bytes_in)),
            ("bytes_out", c(&self.bytes_out)),
        ]
    }

    /// The counters as node `node`'s info value, `name=value;…` like the real server's
    /// `statistics`, ending with the commands this node served and the connections it
    /// accepted (under the real server's name).
    pub fn info_value(&self, node: usize) -> String {
        let mut pairs: Vec<String> = self
            .fields()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let of_node =
            |counters: &[AtomicU64]| counters.get(node).map_or(0, |c| c.load(Ordering::Relaxed));
        pairs.push(format!("node_commands={}", of_node(&self.by_node)));
        pairs.push(format!(
            "client_connections_opened={}",
            of_node(&self.connections_by_node)
        ));
        pairs.join(";")
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("aerobench-server stats:")?;
        for (name, value) in self.fields() {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}
