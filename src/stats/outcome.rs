//! What happened to each key of a call, and the counts a report shows.
//!
//! A read of a missing key is a successful miss, as asbench counts it. Every failure is
//! counted under its own name; timeouts (client deadline, or the server's `Timeout` code)
//! are totalled apart from the other errors.

use std::collections::BTreeMap;

use aerospike_core::{ClientResultCode, Error, ErrorKind, ResultCode};

/// The outcome of one key of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A read that found the value written for its key.
    Hit,
    /// Under `--verify`: a read that found the values written for its key, stamped with
    /// this version; counted as a hit.
    Versioned(u64),
    /// A read that found a different value: an integrity failure.
    Mismatch,
    /// A read of a key with no record.
    Miss,
    Written,
    Failed(Failure),
}

/// Why a key's op failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    /// The node's pool was at `max_conns_per_node` (fail-fast pool exhaustion).
    NoMoreConnections,
    Connection,
    Server(ResultCode),
    /// A batch row no answer reached, under a call that reported no error.
    Unanswered,
    /// Any other client-side error kind.
    Client(&'static str),
}

impl Failure {
    /// Classifies a client error. A call whose retries ran out fails with a timeout kind
    /// (`MAX_RETRIES_EXCEEDED`) over its last attempt's error: that error (a server code,
    /// a lost connection, the client's error-rate breaker) is what failed the call, and it
    /// is counted as that.
    pub fn of(error: &Error) -> Failure {
        if error.result_code() == i32::from(ClientResultCode::MaxRetriesExceeded)
            && let Some(cause) = std::error::Error::source(error).and_then(|c| c.downcast_ref())
        {
            return Failure::of(cause);
        }
        if error.is_client_timeout() {
            return Failure::Timeout;
        }
        match error.kind() {
            ErrorKind::Server {
                rc: ResultCode::Timeout,
                ..
            } => Failure::Timeout,
            ErrorKind::Server { rc, .. } => Failure::Server(*rc),
            ErrorKind::NoMoreConnections => Failure::NoMoreConnections,
            ErrorKind::Connection | ErrorKind::Io(_) => Failure::Connection,
            ErrorKind::ConnectionPoolEmpty => Failure::Client("connection_pool_empty"),
            ErrorKind::MaxErrorRate => Failure::Client("max_error_rate"),
            ErrorKind::InvalidNode => Failure::Client("invalid_node"),
            ErrorKind::BadResponse => Failure::Client("bad_response"),
            _ => Failure::Client("client"),
        }
    }

    /// The name it is counted under in reports.
    pub fn name(self) -> String {
        match self {
            Failure::Timeout => "timeout".into(),
            Failure::NoMoreConnections => "no_more_connections".into(),
            Failure::Connection => "connection".into(),
            Failure::Server(rc) => format!("server_{rc:?}"),
            Failure::Unanswered => "unanswered".into(),
            Failure::Client(name) => name.into(),
        }
    }
}

/// Counts of some ops; `ops` are the successful ones (reads, misses included, and writes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Client calls (one per batch).
    pub calls: u64,
    pub reads: u64,
    pub writes: u64,
    pub misses: u64,
    pub mismatches: u64,
    pub timeouts: u64,
    /// Failures other than timeouts.
    pub errors: u64,
    /// Open loop: calls sent more than [`super::LATE`] after they were due.
    pub late: u64,
    /// Every failure by kind; few kinds, so a list beats a map on the hot path.
    failures: Vec<(Failure, u64)>,
}

impl Counts {
    pub fn ops(&self) -> u64 {
        self.reads + self.writes
    }

    pub fn add(&mut self, row: Row) {
        match row {
            Row::Hit | Row::Versioned(_) => self.reads += 1,
            Row::Mismatch => {
                self.reads += 1;
                self.mismatches += 1;
            }
            Row::Miss => {
                self.reads += 1;
                self.misses += 1;
            }
            Row::Written => self.writes += 1,
            Row::Failed(failure) => self.fail(failure, 1),
        }
    }

    fn fail(&mut self, failure: Failure, n: u64) {
        match failure {
            Failure::Timeout => self.timeouts += n,
            _ => self.errors += n,
        }
        match self.failures.iter_mut().find(|(f, _)| *f == failure) {
            Some((_, count)) => *count += n,
            None => self.failures.push((failure, n)),
        }
    }

    pub fn merge(&mut self, other: &Counts) {
        self.calls += other.calls;
        self.reads += other.reads;
        self.writes += other.writes;
        self.misses += other.misses;
        self.mismatches += other.mismatches;
        self.late += other.late;
        for &(failure, n) in &other.failures {
            self.fail(failure, n);
        }
    }

    /// Failures by name (timeouts included).
    pub fn failures(&self) -> BTreeMap<String, u64> {
        let mut named = BTreeMap::new();
        for &(failure, n) in &self.failures {
            *named.entry(failure.name()).or_default() += n;
        }
        named
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_are_successful_reads_and_failures_are_named() {
        let mut a = Counts::default();
        for row in [Row::Hit, Row::Versioned(3), Row::Miss, Row::Mismatch] {
            a.add(row);
        }
        a.add(Row::Failed(Failure::Timeout));
        let mut b = Counts::default();
        b.add(Row::Failed(Failure::NoMoreConnections));
        b.add(Row::Failed(Failure::Server(ResultCode::KeyExistsError)));
        b.add(Row::Failed(Failure::NoMoreConnections));
        a.merge(&b);
        a.add(Row::Written);
        assert_eq!((a.ops(), a.reads, a.misses, a.mismatches), (5, 4, 1, 1));
        assert_eq!((a.timeouts, a.errors), (1, 3));
        let names: Vec<_> = a.failures().into_iter().collect();
        assert_eq!(
            names,
            [
                ("no_more_connections".to_string(), 2),
                ("server_KeyExistsError".to_string(), 1),
                ("timeout".to_string(), 1)
            ]
        );
    }

    #[test]
    fn other_client_errors_count_as_client() {
        assert_eq!(
            Failure::of(&Error::client_error("x")),
            Failure::Client("client")
        );
    }
}
