//! Faults a node can be given at run time: what a benchmark asks of a cluster that
//! misbehaves (a node lost, hung, slow, restarted, failing a share of its requests, or
//! dropping its connections).
//!
//! They arrive as control lines from the parent process (`kill 1`, `errors 2 18 25`),
//! never through the service port: a client must not be able to fault the server. The
//! lines are parsed here so the parent writes them with the same [`Order`] type.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// What a node is made to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close its listener and every connection; its partitions move to the survivors
    /// (the data stays: the store is shared, as replicas would keep it).
    Kill,
    /// Bring a killed node back at its address; the cluster's generation moves on.
    Restart,
    /// Bring a killed node back on another (free) port of its host, under the same name:
    /// its peers announce the new address, the old one stays closed.
    Move,
    /// Keep accepting and reading, never answer (a paused process).
    Hang,
    /// Add this delay before every reply.
    Slow(Duration),
    /// Answer this percentage of requests with this result code (e.g. 18, device overload).
    Errors { code: u8, percent: u8 },
    /// Reset every open connection once; the node keeps serving new ones.
    Drop,
    /// Cut the node off the network: no client or peer reaches it and it reaches none, so
    /// the cluster splits; healed, it joins back. A network fault: this server, whose
    /// nodes share one process and one store, refuses it (containers carry it out).
    Partition,
    /// Clear hang, slow and errors.
    Heal,
}

/// One control line: a fault for one node, `<kind> <node> [args]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub node: usize,
    pub fault: Fault,
}

/// The control lines [`Order`] reads, for error messages.
pub const GRAMMAR: &str = "kill N, restart N, move N, hang N, slow N MICROS, errors N CODE PERCENT, drop N, \
     partition N, heal N";

impl FromStr for Order {
    type Err = String;

    fn from_str(line: &str) -> Result<Order, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("unknown control line {line:?} (known: {GRAMMAR})");
        let number = |i: usize| {
            words
                .get(i)
                .and_then(|w| w.parse::<u64>().ok())
                .ok_or_else(bad)
        };
        let fault = match words.as_slice() {
            ["kill", _] => Fault::Kill,
            ["restart", _] => Fault::Restart,
            ["move", _] => Fault::Move,
            ["hang", _] => Fault::Hang,
            ["drop", _] => Fault::Drop,
            ["partition", _] => Fault::Partition,
            ["heal", _] => Fault::Heal,
            ["slow", _, _] => Fault::Slow(Duration::from_micros(number(2)?)),
            ["errors", _, _, _] => {
                let code = u8::try_from(number(2)?).map_err(|_| bad())?;
                match u8::try_from(number(3)?) {
                    Ok(percent) if percent <= 100 => Fault::Errors { code, percent },
                    _ => return Err(bad()),
                }
            }
            _ => return Err(bad()),
        };
        let node = usize::try_from(number(1)?).map_err(|_| bad())?;
        Ok(Order { node, fault })
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let node = self.node;
        match self.fault {
            Fault::Kill => write!(f, "kill {node}"),
            Fault::Restart => write!(f, "restart {node}"),
            Fault::Move => write!(f, "move {node}"),
            Fault::Hang => write!(f, "hang {node}"),
            Fault::Drop => write!(f, "drop {node}"),
            Fault::Partition => write!(f, "partition {node}"),
            Fault::Heal => write!(f, "heal {node}"),
            Fault::Slow(delay) => write!(f, "slow {node} {}", delay.as_micros()),
            Fault::Errors { code, percent } => write!(f, "errors {node} {code} {percent}"),
        }
    }
}

/// The faults a node's connections check per request: cheap atomics on the way through,
/// a wait on a channel only while hung.
pub(crate) struct NodeFaults {
    hung: AtomicBool,
    resumed: watch::Sender<()>,
    /// `code << 8 | percent`; 0 when no errors are asked for.
    errors: AtomicU64,
    /// Requests seen while errors were asked for, to fail an even share of them.
    requests: AtomicU64,
    /// Nanoseconds added before every reply.
    delay_ns: AtomicU64,
}

impl NodeFaults {
    pub(crate) fn new(delay: Duration) -> NodeFaults {
        NodeFaults {
            hung: AtomicBool::new(false),
            resumed: watch::Sender::new(()),
            errors: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            delay_ns: AtomicU64::new(delay.as_nanos() as u64),
        }
    }

    pub(crate) fn set_hang(&self, hung: bool) {
        self.hung.store(hung, Relaxed);
        if !hung {
            self.resumed.send_replace(());
        }
    }

    pub(crate) fn set_delay(&self, delay: Duration) {
        self.delay_ns.store(delay.as_nanos() as u64, Relaxed);
    }

    pub(crate) fn set_errors(&self, code: u8, percent: u8) {
        self.errors
            .store(u64::from(code) << 8 | u64::from(percent), Relaxed);
    }

    pub(crate) fn heal(&self) {
        self.set_errors(0, 0);
        self.set_delay(Duration::ZERO);
        self.set_hang(false);
    }

    pub(crate) fn delay(&self) -> Duration {
        Duration::from_nanos(self.delay_ns.load(Relaxed))
    }

    /// Returns once the node is not hung (at once, usually, with `None`); after a wait, the
    /// instant it started, so a held request's age is known.
    pub(crate) async fn while_hung(&self) -> Option<Instant> {
        if !self.hung.load(Relaxed) {
            return None;
        }
        let since = Instant::now();
        let mut resumed = self.resumed.subscribe();
        while self.hung.load(Relaxed) {
            // The sender lives as long as `self`, so `changed` cannot fail here.
            let _ = resumed.changed().await;
        }
        Some(since)
    }

    /// The result code this request is to fail with, if it falls in the asked share:
    /// request `n` fails when `n * percent / 100` steps up, so any 100 in a row hold
    /// exactly `percent` failures.
    pub(crate) fn error(&self) -> Option<u8> {
        let errors = self.errors.load(Relaxed);
        let (code, percent) = ((errors >> 8) as u8, errors & 0xFF);
        if percent == 0 {
            return None;
        }
        let n = self.requests.fetch_add(1, Relaxed);
        ((n + 1) * percent / 100 > n * percent / 100).then_some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_read_back_what_they_write() {
        let orders = [
            Fault::Kill,
            Fault::Restart,
            Fault::Move,
            Fault::Hang,
            Fault::Drop,
            Fault::Partition,
            Fault::Heal,
            Fault::Slow(Duration::from_micros(2_500)),
            Fault::Errors {
                code: 18,
                percent: 25,
            },
        ];
        for fault in orders {
            let order = Order { node: 2, fault };
            assert_eq!(order.to_string().parse::<Order>(), Ok(order));
        }
        for bad in [
            "kill",
            "kill x",
            "slow 1",
            "errors 1 18 101",
            "errors 1 300 5",
            "pause 1",
        ] {
            let e = bad.parse::<Order>().unwrap_err();
            assert!(e.contains("known: kill N"), "{e}");
        }
    }

    #[test]
    fn errors_fail_exactly_their_share() {
        let faults = NodeFaults::new(Duration::ZERO);
        assert_eq!(faults.error(), None);
        faults.set_errors(18, 25);
        let failed: Vec<_> = (0..200).filter_map(|_| faults.error()).collect();
        assert_eq!(failed.len(), 50);
        assert!(failed.iter().all(|&code| code == 18));
        faults.heal();
        assert!((0..100).all(|_| faults.error().is_none()));
    }

    #[tokio::test]
    async fn a_hung_node_answers_once_healed() {
        let faults = std::sync::Arc::new(NodeFaults::new(Duration::ZERO));
        faults.set_hang(true);
        let waiting = tokio::spawn({
            let faults = faults.clone();
            async move { faults.while_hung().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        faults.heal();
        let held = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("released within 5 s")
            .unwrap();
        assert!(held.is_some(), "it says it held the request");
        assert_eq!(faults.while_hung().await, None, "not hung: no wait");
    }
}
