//! The per-request service delay, with microsecond resolution.
//!
//! Tokio's timer wheel has millisecond granularity, too coarse to model a server or network
//! cost of tens of microseconds. One thread keeps the pending deadlines in a heap and
//! sleeps on a channel with a timeout (its timer slack set to 1 ns), then completes each
//! waiter's oneshot. One thread for all connections keeps the cost per delayed request to
//! a channel send and a wake-up.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

struct Waiter {
    at: Instant,
    done: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Waiter {}

impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiter {
    /// Reversed, so the max-heap yields the earliest deadline.
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.cmp(&self.at)
    }
}

/// Handle to the delay thread; the thread ends when the last handle is dropped.
#[derive(Clone)]
pub struct Delayer {
    requests: mpsc::Sender<Waiter>,
}

impl Delayer {
    pub fn start() -> std::io::Result<Self> {
        let (requests, rx) = mpsc::channel();
        thread::Builder::new()
            .name("service-delay".into())
            .spawn(move || run(rx))?;
        Ok(Delayer { requests })
    }

    /// Completes `delay` after now.
    pub async fn wait(&self, delay: Duration) {
        let (done, finished) = oneshot::channel();
        let waiter = Waiter {
            at: Instant::now() + delay,
            done,
        };
        if self.requests.send(waiter).is_ok() {
            let _ = finished.await;
        }
    }
}

fn run(rx: mpsc::Receiver<Waiter>) {
    // SAFETY: prctl with PR_SET_TIMERSLACK only changes this thread's timer slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
    }
    let mut heap = BinaryHeap::new();
    loop {
        let now = Instant::now();
        while heap.peek().is_some_and(|w: &Waiter| w.at <= now) {
            if let Some(w) = heap.pop() {
                let _ = w.done.send(());
            }
        }
        let next = match heap.peek() {
            Some(w) => rx.recv_timeout(w.at - now),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok(waiter) => heap.push(waiter),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_at_least_the_delay() {
        let delayer = Delayer::start().unwrap();
        let started = Instant::now();
        let short = delayer.wait(Duration::from_micros(200));
        let long = delayer.wait(Duration::from_micros(2_000));
        tokio::join!(long, short);
        assert!(started.elapsed() >= Duration::from_micros(2_000));
    }
}
