//! The open-loop schedule (`--rate`): call `i` is due at `start + i / rate`, whatever the
//! answers do. A pacer thread releases each call once its instant has passed, and whichever
//! task or thread is free takes it. Response times run from the due instant, so a stall
//! that keeps calls from being sent counts against every call it held back instead of
//! hiding in fewer, slower calls (coordinated omission).
//!
//! The pacer sleeps on a thread with 1 ns timer slack, not on Tokio's timer wheel, whose
//! millisecond ticks would make every call up to 1 ms late. Above [`BATCH`]'s rate it
//! releases the calls due in each [`BATCH`] together, so its wake-ups stay at most 10,000
//! a second whatever the rate.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::stats::LATE;

/// The shortest sleep of the pacer: calls due within it are released together.
pub const BATCH: Duration = Duration::from_micros(100);

/// Calls due at a fixed rate from `start` until `end`.
pub struct Schedule {
    start: Instant,
    end: Instant,
    /// Calls per second.
    rate: u64,
    /// One permit per call whose instant has passed, closed at the end.
    released: Semaphore,
    /// Calls taken by a caller so far.
    taken: AtomicU64,
}

impl Schedule {
    /// The schedule, with its pacer thread running until `end`.
    pub fn start(start: Instant, end: Instant, rate: u64) -> std::io::Result<Arc<Schedule>> {
        let schedule = Arc::new(Schedule {
            start,
            end,
            rate,
            released: Semaphore::new(0),
            taken: AtomicU64::new(0),
        });
        let pacer = schedule.clone();
        thread::Builder::new()
            .name("pacer".into())
            .spawn(move || pacer.pace())?;
        Ok(schedule)
    }

    /// Calls per second.
    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// When call `i` is due.
    fn due(&self, i: u64) -> Instant {
        let ns = u128::from(i) * 1_000_000_000 / u128::from(self.rate);
        self.start + Duration::from_nanos(ns as u64)
    }

    /// Calls due before `t`.
    fn due_before(&self, t: Instant) -> u64 {
        let ns = t.saturating_duration_since(self.start).as_nanos();
        (ns * u128::from(self.rate)).div_ceil(1_000_000_000) as u64
    }

    /// Waits for the next released call and says when it was due; `None` once the run
    /// has ended.
    pub async fn next(&self) -> Option<Instant> {
        self.released.acquire().await.ok()?.forget();
        let due = self.due(self.taken.fetch_add(1, Relaxed));
        (due < self.end).then_some(due)
    }

    /// [`Self::next`] for an OS thread.
    pub fn next_blocking(&self) -> Option<Instant> {
        block_on(self.next())
    }

    /// Calls due from `from` until [`LATE`] before the end that no caller took: the
    /// client fell behind by more than [`LATE`] (calls due in the last [`LATE`] may
    /// just not have been reached when the run ended).
    pub fn unsent(&self, from: Instant) -> u64 {
        let taken = self.taken.load(Relaxed).max(self.due_before(from));
        self.due_before(self.end - LATE).saturating_sub(taken)
    }

    /// The pacer: releases calls as they fall due, closes the schedule at the end.
    fn pace(&self) {
        // SAFETY: prctl with PR_SET_TIMERSLACK only changes this thread's timer slack.
        unsafe {
            libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
        }
        let mut released = 0;
        loop {
            let now = Instant::now();
            if now >= self.end {
                self.released.close();
                return;
            }
            let due = self.due_before(now + Duration::from_nanos(1));
            if due > released {
                self.released.add_permits((due - released) as usize);
                released = due;
            }
            let wake = self.due(released).max(now + BATCH).min(self.end);
            thread::sleep(wake - now);
        }
    }
}

/// Runs `future` on this thread, parking between polls.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn calls_fall_due_at_the_rate_and_stop_at_the_end() {
        let start = Instant::now();
        let schedule = Schedule::start(start, start + ms(200), 1_000).unwrap();
        let mut dues = Vec::new();
        while let Some(due) = schedule.next_blocking() {
            assert!(Instant::now() >= due, "released before it was due");
            dues.push(due - start);
        }
        assert_eq!(dues.len(), 200, "1,000 a second for 0.2 s");
        assert!(dues.iter().enumerate().all(|(i, d)| *d == ms(i as u64)));
        assert_eq!(schedule.unsent(start), 0);
    }

    #[test]
    fn calls_nobody_took_are_unsent() {
        let start = Instant::now();
        let schedule = Schedule::start(start, start + ms(100), 10_000).unwrap();
        for _ in 0..10 {
            schedule.next_blocking();
        }
        thread::sleep(ms(150));
        assert_eq!(schedule.unsent(start), 990 - 10, "the last 1 ms aside");
        assert_eq!(schedule.unsent(start + ms(50)), 490);
        assert_eq!(schedule.next_blocking(), None, "closed at the end");
    }
}
