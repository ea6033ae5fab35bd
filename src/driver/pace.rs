//! The open-loop schedule (`--rate`): call `i` is due at `start + i / rate`, whatever the
//! answers do. A pacer releases each call once its instant has passed, and whichever
//! task or thread is free takes it. Response times run from the due instant, so a stall
//! that keeps calls from being sent counts against every call it held back instead of
//! hiding in fewer, slower calls (coordinated omission).
//!
//! The pacer is a task on the callers' own runtime that sleeps on an [`alarm`](super::alarm)
//! (not Tokio's timer wheel, whose millisecond ticks would make every call up to 1 ms
//! late). Above [`BATCH`]'s rate it releases the calls due in each [`BATCH`] together, so
//! its wake-ups stay at most 10,000 a second whatever the rate.
//!
//! What a rate costs beyond the closed loop is waking idle threads, so the hand-off keeps
//! them to one per release: the alarm wakes the worker that then runs the callers, and
//! callers take released calls from a counter, the pacer waking one waiting caller and
//! each caller that takes a call waking the next while released calls remain. A pacer
//! thread handing calls out through a semaphore cost three wake-ups per release (itself, a
//! worker, and the second worker Tokio wakes to help), and twice the closed loop's CPU per
//! call even at rates where the workers never idle.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{
    AtomicBool, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::alarm::Timer;
use crate::stats::LATE;

/// The shortest sleep of the pacer: calls due within it are released together.
pub const BATCH: Duration = Duration::from_micros(100);

/// Calls due at a fixed rate from `start` until `end`.
pub struct Schedule {
    start: Instant,
    end: Instant,
    /// Calls per second.
    rate: u64,
    /// Calls whose instant has passed.
    released: AtomicU64,
    /// Calls taken by a caller so far.
    taken: AtomicU64,
    /// Set by the pacer at the end: no call is taken any more.
    closed: AtomicBool,
    /// Callers waiting for a released call.
    waiting: Notify,
}

/// The pacer of a [`Schedule`]: it releases the calls as they fall due, on the runtime the
/// calls run on.
pub struct Pacer {
    schedule: Arc<Schedule>,
    timer: Timer,
}

/// In an open loop (a `rate`), the schedule from `start` until `end` and its pacer to run.
pub fn open_loop(
    rate: Option<u64>,
    start: Instant,
    end: Instant,
) -> (Option<Arc<Schedule>>, Option<Pacer>) {
    rate.map(|rate| Schedule::start(start, end, rate).expect("the pacer's timer is made"))
        .unzip()
}

impl Schedule {
    /// The schedule, and its pacer to be run with [`Pacer::run`] or [`Pacer::spawn`].
    pub fn start(
        start: Instant,
        end: Instant,
        rate: u64,
    ) -> std::io::Result<(Arc<Schedule>, Pacer)> {
        let schedule = Arc::new(Schedule {
            start,
            end,
            rate,
            released: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            waiting: Notify::new(),
        });
        let timer = Timer::new()?;
        Ok((schedule.clone(), Pacer { schedule, timer }))
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
        loop {
            if self.closed.load(Acquire) {
                return None;
            }
            if let Some(i) = self.take() {
                let due = self.due(i);
                return (due < self.end).then_some(due);
            }
            let mut woken = pin!(self.waiting.notified());
            woken.as_mut().enable();
            if self.taken.load(Relaxed) >= self.released.load(Acquire) && !self.closed.load(Acquire)
            {
                woken.await;
            }
        }
    }

    /// Takes the oldest released call, if any, and wakes another caller for the next one.
    fn take(&self) -> Option<u64> {
        let mut taken = self.taken.load(Relaxed);
        loop {
            let released = self.released.load(Acquire);
            if taken >= released {
                return None;
            }
            match self
                .taken
                .compare_exchange_weak(taken, taken + 1, Relaxed, Relaxed)
            {
                Ok(_) => {
                    if taken + 1 < released {
                        self.waiting.notify_one();
                    }
                    return Some(taken);
                }
                Err(now) => taken = now,
            }
        }
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

    /// Releases the calls due by now; `None` once the run has ended (the schedule is then
    /// closed), else when to wake next.
    fn release(&self, released: &mut u64) -> Option<Instant> {
        let now = Instant::now();
        if now >= self.end {
            self.closed.store(true, Release);
            self.waiting.notify_waiters();
            return None;
        }
        let due = self.due_before(now + Duration::from_nanos(1));
        if due > *released {
            *released = due;
            self.released.store(due, Release);
            self.waiting.notify_one();
        }
        Some(self.due(*released).max(now + BATCH).min(self.end))
    }
}

impl Pacer {
    /// Paces on the current runtime: its timer wakes the worker that holds the reactor,
    /// which then runs the callers it wakes, so a release costs one thread wake-up.
    pub async fn run(self) {
        let alarm = self
            .timer
            .register()
            .expect("the pacer's timer joins the reactor");
        let mut released = 0;
        while let Some(wake) = self.schedule.release(&mut released) {
            if alarm.sleep(wake - Instant::now()).await.is_err() {
                // Late by up to a millisecond rather than stopped: Tokio's own timer.
                tokio::time::sleep_until(wake.into()).await;
            }
        }
    }

    /// Paces on a thread of its own with its own reactor, for OS-thread callers.
    pub fn spawn(self) -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        thread::Builder::new()
            .name("pacer".into())
            .spawn(move || runtime.block_on(self.run()))
            .map(drop)
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
        let (schedule, pacer) = Schedule::start(start, start + ms(200), 1_000).unwrap();
        pacer.spawn().unwrap();
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
        let (schedule, pacer) = Schedule::start(start, start + ms(100), 10_000).unwrap();
        pacer.spawn().unwrap();
        for _ in 0..10 {
            schedule.next_blocking();
        }
        thread::sleep(ms(150));
        assert_eq!(schedule.unsent(start), 990 - 10, "the last 1 ms aside");
        assert_eq!(schedule.unsent(start + ms(50)), 490);
        assert_eq!(schedule.next_blocking(), None, "closed at the end");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tasks_waiting_together_take_every_call_once_and_end_with_the_run() {
        let start = Instant::now();
        let (schedule, pacer) = Schedule::start(start, start + ms(100), 20_000).unwrap();
        tokio::spawn(pacer.run());
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let schedule = schedule.clone();
                tokio::spawn(async move {
                    let mut dues = Vec::new();
                    while let Some(due) = schedule.next().await {
                        dues.push(due - start);
                        tokio::task::yield_now().await;
                    }
                    dues
                })
            })
            .collect();
        let mut dues = Vec::new();
        for task in tasks {
            let ended = tokio::time::timeout(ms(5_000), task).await;
            dues.extend(
                ended
                    .expect("every waiting task is woken at the end")
                    .unwrap(),
            );
        }
        dues.sort();
        let n = dues.len() as u64;
        let every: Vec<_> = (0..n).map(|i| Duration::from_micros(50 * i)).collect();
        assert_eq!(
            dues, every,
            "calls at 20,000/s from the first, each taken once"
        );
        assert!(
            n >= 1_980,
            "{n} taken: only the last 1 ms's may miss the end"
        );
    }
}
