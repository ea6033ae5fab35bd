//! What a client observes: the fields a probe records, how two observations compare,
//! and the real server's side (skipped, and counted, where Docker or the image is missing).

use std::fmt::Debug;
use std::future::Future;

use aerospike_core::policy::{Expiration, ReadPolicy, WritePolicy};
use aerospike_core::{BatchOperation, Bins, Client, Key, Record};

use aerobench::workload::space::DIFFERENTIAL_TESTS;

use crate::common;

/// One observed field: compared exactly, or as a TTL in seconds within one second.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seen {
    Exact(String),
    Ttl(Option<u64>),
}

impl Seen {
    pub(crate) fn agrees(&self, other: &Seen) -> bool {
        match (self, other) {
            (Seen::Ttl(Some(a)), Seen::Ttl(Some(b))) => a.abs_diff(*b) <= 1,
            _ => self == other,
        }
    }
}

/// What one client saw, in case order.
pub(crate) struct Probe {
    pub(crate) client: Client,
    pub(crate) seen: Vec<(String, Seen)>,
}

impl Probe {
    pub(crate) fn note(&mut self, field: &str, value: impl Debug) {
        self.seen
            .push((field.to_string(), Seen::Exact(format!("{value:?}"))));
    }

    /// The result code, bins (with types, in server order), generation and TTL of a read.
    pub(crate) fn record(&mut self, field: &str, result: &aerospike_core::Result<Record>) {
        match result {
            Ok(r) => {
                self.note(&format!("{field}.bins"), &r.bins);
                self.note(&format!("{field}.results"), &r.results);
                self.note(&format!("{field}.generation"), r.generation);
                self.seen.push((
                    format!("{field}.ttl"),
                    Seen::Ttl(r.time_to_live().map(|d| d.as_secs())),
                ));
            }
            Err(e) => self.note(&format!("{field}.rc"), e.result_code()),
        }
    }

    pub(crate) fn outcome<T>(&mut self, field: &str, result: &aerospike_core::Result<T>)
    where
        T: Debug,
    {
        match result {
            Ok(v) => self.note(field, v),
            Err(e) => self.note(&format!("{field}.rc"), e.result_code()),
        }
    }

    /// Every row of a batch, in order: result code and record.
    pub(crate) fn rows(&mut self, field: &str, rows: &[BatchOperation]) {
        for (i, row) in rows.iter().enumerate() {
            self.note(&format!("{field}[{i}].code"), row.result_code());
            if let Some(r) = row.record() {
                self.record(&format!("{field}[{i}]"), &Ok(r.clone()));
            }
        }
    }
}

pub(crate) fn key(id: i64) -> Key {
    DIFFERENTIAL_TESTS.key(id)
}

pub(crate) fn wp() -> WritePolicy {
    WritePolicy::default()
}

pub(crate) fn rp() -> ReadPolicy {
    ReadPolicy::default()
}

pub(crate) fn ttl(seconds: u32) -> WritePolicy {
    WritePolicy::new(0, Expiration::Seconds(seconds))
}

pub(crate) async fn get(p: &Probe, id: i64) -> aerospike_core::Result<Record> {
    p.client.get(&rp(), &key(id), Bins::All).await
}

/// The real server's observations on `nodes` nodes, or `None` (a counted skip) when
/// Docker or the image is missing.
pub(crate) async fn observe_real<F: Future<Output = Vec<(String, Seen)>>>(
    nodes: usize,
    observe: impl FnOnce(Client) -> F,
) -> Option<Vec<(String, Seen)>> {
    let check = format!("differential conformance against Aerospike 8.1.2.0, {nodes} node(s)");
    let target = common::real_cluster(&check, nodes)?;
    let client = target.connect(&target.client_policy()).await.unwrap();
    Some(observe(client).await)
}

pub(crate) fn lookup(seen: &[(String, Seen)], field: &str) -> Seen {
    let found = seen
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, s)| s.clone());
    found.unwrap_or(Seen::Exact("<absent>".into()))
}
