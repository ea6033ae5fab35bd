//! What a task or thread calls once per op: the async client, the blocking client, or —
//! to measure the harness itself — a stand-in that answers at once.
//!
//! All three build the same request (keys, bins, batch rows) from the same ids; the clients
//! then send it, and their answers are read back into [`Row`]s the same way, with every
//! returned value checked against the one written for its key.

use std::future::Future;
use std::sync::Arc;

use aerospike_core::{BatchOperation, Bins, Client, Key, Record, ResultCode, Value};

use super::policy::Policies;
use crate::stats::{Failure, Row};
use crate::workload::bins::{RecordBins, VERSION_BIN};
use crate::workload::{Access, Workload};

/// Calls made from async tasks.
pub trait Backend: Send + Sync + 'static {
    /// Runs one call on `keys`, pushing one row per id.
    fn call(
        &self,
        access: Access,
        keys: &Keys,
        rows: &mut Vec<Row>,
    ) -> impl Future<Output = ()> + Send;
}

/// Calls made from OS threads.
pub trait BlockingBackend: Sync {
    /// Runs one call on `keys`, pushing one row per id.
    fn call(&self, access: Access, keys: &Keys, rows: &mut Vec<Row>);
}

/// The keys of one call: their ids and, for a `--verify` write, the version each one
/// stamps (`versions[i]` for `ids[i]`; empty otherwise, so other runs build the same
/// requests as without it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    pub ids: Vec<u64>,
    pub versions: Vec<u64>,
}

impl Keys {
    /// Room for `n` keys.
    pub fn with_capacity(n: usize) -> Keys {
        Keys {
            ids: Vec::with_capacity(n),
            versions: Vec::new(),
        }
    }
}

/// One call, ready to send.
pub enum Request {
    Get(Key),
    Put(Key, RecordBins),
    Batch(Vec<BatchOperation>),
}

/// Builds requests and reads answers for one run's policies and workload (its namespace,
/// set and bins).
pub struct Calls {
    pub policies: Policies,
    pub workload: Workload,
}

impl Calls {
    /// A single-record call for one id, a batch for more.
    pub fn request(&self, access: Access, keys: &Keys) -> Request {
        let w = &self.workload;
        match (access, &keys.ids[..]) {
            (Access::Read, &[id]) => Request::Get(w.key(id)),
            (Access::Write, &[id]) => Request::Put(w.key(id), self.bins(keys, 0)),
            (Access::Read, ids) => Request::Batch(
                ids.iter()
                    .map(|&id| BatchOperation::read(&self.policies.read_row, w.key(id), Bins::All))
                    .collect(),
            ),
            (Access::Write, ids) => Request::Batch(
                ids.iter()
                    .enumerate()
                    .map(|(i, &id)| {
                        let bins = self.bins(keys, i);
                        let puts: Vec<_> =
                            bins.iter().map(aerospike_core::operations::put).collect();
                        BatchOperation::write(&self.policies.write_row, w.key(id), puts)
                    })
                    .collect(),
            ),
        }
    }

    /// The bins a write of `keys.ids[i]` carries: its values, and its version if stamped.
    fn bins(&self, keys: &Keys, i: usize) -> RecordBins {
        let id = keys.ids[i];
        match keys.versions.get(i) {
            Some(&version) => self.workload.object.stamped(id, version),
            None => self.workload.object.bins(id),
        }
    }

    /// The batch policy for a batch that reads or writes.
    pub fn batch_policy(&self, access: Access) -> &aerospike_core::BatchPolicy {
        match access {
            Access::Read => &self.policies.batch_read,
            Access::Write => &self.policies.batch_write,
        }
    }

    /// The row of a single-record get of key `id`.
    pub fn got(&self, id: u64, answer: aerospike_core::Result<Record>, rows: &mut Vec<Row>) {
        rows.push(match answer {
            Ok(record) => self.read(id, Some(&record)),
            Err(e) if e.server_result_code() == Some(ResultCode::KeyNotFoundError) => Row::Miss,
            Err(e) => Row::Failed(Failure::of(&e)),
        });
    }

    /// The row of a single-record put.
    pub fn put(&self, answer: aerospike_core::Result<()>, rows: &mut Vec<Row>) {
        rows.push(match answer {
            Ok(()) => Row::Written,
            Err(e) => Row::Failed(Failure::of(&e)),
        });
    }

    /// One row per id of a batch call; a row nothing answered takes the call's failure.
    pub fn batched(
        &self,
        ids: &[u64],
        ops: &[BatchOperation],
        answer: aerospike_core::Result<()>,
        rows: &mut Vec<Row>,
    ) {
        let call_failure = answer.err().map(|e| Failure::of(&e));
        rows.extend(
            ids.iter()
                .zip(ops)
                .map(|(&id, op)| self.batch_row(id, op, call_failure)),
        );
    }

    fn batch_row(&self, id: u64, op: &BatchOperation, call_failure: Option<Failure>) -> Row {
        let writes = op.batch_record().has_write();
        match (op.result_code(), op.error()) {
            (Some(ResultCode::Ok), _) if writes => Row::Written,
            (Some(ResultCode::Ok), _) => self.read(id, op.record()),
            (Some(ResultCode::KeyNotFoundError), _) if !writes => Row::Miss,
            (_, Some(e)) => Row::Failed(Failure::of(e)),
            (Some(rc), None) => Row::Failed(Failure::Server(rc)),
            (None, None) => Row::Failed(call_failure.unwrap_or(Failure::Unanswered)),
        }
    }

    /// A read that returned `record` for key `id`: a hit if its bins hold the values
    /// written for `id` (found by scanning their names, which spares a SipHash per bin).
    /// Under `--verify` a hit carries the version found; a record without one is a
    /// mismatch, since every write of the run and of its seeding stamps one.
    pub fn read(&self, id: u64, record: Option<&Record>) -> Row {
        let bins = record.map(|r| r.bins.iter().map(|(name, value)| (name.as_str(), value)));
        let row = read_row(bins.is_some_and(|bins| self.workload.object.matches(id, bins)));
        match (row, record, self.workload.verify) {
            (Row::Hit, Some(record), true) => match record.bins.get(VERSION_BIN) {
                Some(&Value::Int(version)) if version >= 0 => Row::Versioned(version as u64),
                _ => Row::Mismatch,
            },
            _ => row,
        }
    }
}

/// A read's row, by whether it found the values written.
fn read_row(matched: bool) -> Row {
    match matched {
        true => Row::Hit,
        false => Row::Mismatch,
    }
}

/// The async client.
pub struct AsyncClient {
    pub client: Arc<Client>,
    pub calls: Calls,
}

impl Backend for AsyncClient {
    async fn call(&self, access: Access, keys: &Keys, rows: &mut Vec<Row>) {
        let (client, calls) = (&self.client, &self.calls);
        match calls.request(access, keys) {
            Request::Get(key) => calls.got(
                keys.ids[0],
                client.get(&calls.policies.read, &key, Bins::All).await,
                rows,
            ),
            Request::Put(key, bins) => {
                calls.put(client.put(&calls.policies.write, &key, &bins).await, rows)
            }
            Request::Batch(mut ops) => {
                let answer = client.batch(calls.batch_policy(access), &mut ops).await;
                calls.batched(&keys.ids, &ops, answer, rows);
            }
        }
    }
}

/// The blocking client.
pub struct SyncClient {
    pub client: Arc<aerospike_sync::Client>,
    pub calls: Calls,
}

impl BlockingBackend for SyncClient {
    fn call(&self, access: Access, keys: &Keys, rows: &mut Vec<Row>) {
        let (client, calls) = (&self.client, &self.calls);
        match calls.request(access, keys) {
            Request::Get(key) => calls.got(
                keys.ids[0],
                client.get(&calls.policies.read, &key, Bins::All),
                rows,
            ),
            Request::Put(key, bins) => {
                calls.put(client.put(&calls.policies.write, &key, &bins), rows)
            }
            Request::Batch(mut ops) => {
                let answer = client.batch(calls.batch_policy(access), &mut ops);
                calls.batched(&keys.ids, &ops, answer, rows);
            }
        }
    }
}

/// The harness without the client: builds each request like the clients do, then answers
/// at once as if every key held its value (reads still run the integrity check).
pub struct Ready {
    pub calls: Calls,
}

impl Ready {
    fn answer(&self, access: Access, keys: &Keys, rows: &mut Vec<Row>) {
        std::hint::black_box(self.calls.request(access, keys));
        rows.extend(keys.ids.iter().map(|&id| match access {
            Access::Read => {
                let object = &self.calls.workload.object;
                read_row(object.matches(id, object.values(id)))
            }
            Access::Write => Row::Written,
        }));
    }
}

impl Backend for Ready {
    /// Ready on its second poll: one yield, as every real call suspends at least once, so
    /// tasks take turns on the workers instead of the first ones spinning alone.
    async fn call(&self, access: Access, keys: &Keys, rows: &mut Vec<Row>) {
        tokio::task::yield_now().await;
        self.answer(access, keys, rows);
    }
}

impl BlockingBackend for Ready {
    fn call(&self, access: Access, keys: &Keys, rows: &mut Vec<Row>) {
        self.answer(access, keys, rows);
    }
}
