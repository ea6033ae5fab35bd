//! Where calls are counted while a run goes on.
//!
//! Each OS thread that records gets its own shard (found through a thread-local, or held by
//! the thread driver's callers), so
//! recording takes an uncontended lock and touches a histogram that stays in that core's
//! cache, however many tasks run. A shard keeps the windows not yet harvested; the ticker
//! harvests window `k` from every shard once `k` has ended. A call recorded after its window
//! was harvested (its thread was descheduled between the clock read and the record) counts
//! in the next open window, so every measured call is counted exactly once.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::timeline::Timeline;
use crate::stats::{Call, Row, Tally};

/// Counts the calls of one run.
pub struct Recorder {
    /// Tells this run's shards from those of earlier runs on the same threads.
    id: u64,
    timeline: Timeline,
    shards: Mutex<Vec<Arc<Shard>>>,
}

/// The windows one caller thread recorded and the ticker has not harvested yet.
#[derive(Default)]
pub struct Shard(Mutex<Pending>);

/// The windows of one shard from `first` on.
#[derive(Default)]
struct Pending {
    first: usize,
    windows: VecDeque<Tally>,
    /// Harvested windows, emptied, to open the next ones with: a fresh histogram would be
    /// allocated and regrown (realloc, zeroing, page faults) by every shard every second.
    spare: Vec<Tally>,
}

thread_local! {
    /// This thread's shard of each recorder it has recorded into; entries of finished
    /// runs are dropped when the next run registers.
    static SHARDS: RefCell<Vec<(u64, Arc<Shard>)>> = const { RefCell::new(Vec::new()) };
}

impl Recorder {
    pub fn new(timeline: Timeline) -> Recorder {
        static IDS: AtomicU64 = AtomicU64::new(0);
        Recorder {
            id: IDS.fetch_add(1, Ordering::Relaxed),
            timeline,
            shards: Mutex::default(),
        }
    }

    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Counts `call`, which ended at `end`, in the calling thread's shard; calls outside
    /// the measured span are not counted.
    pub fn record(&self, end: Instant, call: Call, rows: &[Row]) {
        SHARDS.with_borrow_mut(|mine| {
            let shard = match mine.iter().position(|(id, _)| *id == self.id) {
                Some(i) => &mine[i].1,
                None => {
                    // A shard only its thread still holds belongs to a recorder that is gone.
                    mine.retain(|(_, shard)| Arc::strong_count(shard) > 1);
                    mine.push((self.id, self.shard()));
                    &mine.last().expect("just pushed").1
                }
            };
            self.record_in(shard, end, call, rows);
        });
    }

    /// A new shard of this recorder, for a caller that keeps it (an OS thread of the thread
    /// driver) and so records through [`Self::record_in`] without the thread-local lookup.
    pub fn shard(&self) -> Arc<Shard> {
        let shard = Arc::new(Shard::default());
        lock(&self.shards).push(shard.clone());
        shard
    }

    /// [`Self::record`] into `shard`, which must be this recorder's.
    pub fn record_in(&self, shard: &Shard, end: Instant, call: Call, rows: &[Row]) {
        if let Some(window) = self.timeline.window_of(end) {
            lock(&shard.0).window(window).record(call, rows);
        }
    }

    /// Takes window `k` from every shard, with anything recorded late into earlier ones;
    /// windows must be harvested in order.
    pub fn harvest(&self, k: usize) -> Tally {
        self.collect(|pending| {
            let due = (k + 1)
                .saturating_sub(pending.first)
                .min(pending.windows.len());
            pending.first = k + 1;
            due
        })
    }

    /// Takes everything still recorded, as one window (the last, once no call runs).
    pub fn harvest_rest(&self) -> Tally {
        self.collect(|pending| pending.windows.len())
    }

    /// The sum of the first `due(shard)` windows of every shard, which are taken.
    fn collect(&self, mut due: impl FnMut(&mut Pending) -> usize) -> Tally {
        let shards = lock(&self.shards).clone();
        let mut sum = Tally::default();
        for shard in &shards {
            let mut pending = lock(&shard.0);
            let due = due(&mut pending);
            pending.take(due, &mut sum);
        }
        sum
    }
}

impl Pending {
    /// Adds the first `n` windows to `sum` and keeps them, emptied, as spares.
    fn take(&mut self, n: usize, sum: &mut Tally) {
        for mut window in self.windows.drain(..n) {
            sum.merge(&window);
            window.reset();
            self.spare.push(window);
        }
    }

    /// Window `k`, or the first open one if `k` was harvested already.
    fn window(&mut self, k: usize) -> &mut Tally {
        let i = k.saturating_sub(self.first);
        while self.windows.len() <= i {
            let window = self.spare.pop().unwrap_or_default();
            self.windows.push_back(window);
        }
        &mut self.windows[i]
    }
}

/// Locks, ignoring poisoning: a panicking task leaves counts that are still counts.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn took(response: Duration) -> Call {
        Call {
            access: crate::workload::Access::Read,
            response,
            service: None,
        }
    }

    #[test]
    fn every_measured_call_counts_once_in_its_window() {
        let start = Instant::now();
        let recorder = Arc::new(Recorder::new(Timeline::new(start, ms(1000), ms(3000))));
        let at = |offset| start + ms(offset);
        std::thread::scope(|s| {
            for _ in 0..3 {
                let r = &recorder;
                s.spawn(move || {
                    r.record(at(500), took(ms(1)), &[Row::Hit]); // warm-up: not counted
                    r.record(at(1000), took(ms(1)), &[Row::Hit, Row::Miss]);
                    r.record(at(2500), took(ms(1)), &[Row::Written]);
                    r.record(at(4000), took(ms(1)), &[Row::Hit]); // after the end: not counted
                });
            }
        });
        let first = recorder.harvest(0);
        assert_eq!(
            (first.total().counts.calls, first.total().counts.reads),
            (3, 6)
        );
        // A late call for window 0 lands in window 1, the first still open.
        recorder.record(at(1100), took(ms(1)), &[Row::Miss]);
        let second = recorder.harvest(1);
        assert_eq!(
            (second.total().counts.writes, second.total().counts.misses),
            (3, 1)
        );
        // A thread that first records after some harvests still lands in its window.
        std::thread::scope(|s| {
            s.spawn(|| recorder.record(at(3500), took(ms(1)), &[Row::Written]));
        });
        assert_eq!(recorder.harvest(2).total().counts.writes, 1);
        assert_eq!(recorder.harvest_rest().total().counts.calls, 0);
    }

    #[test]
    fn a_held_shard_counts_with_the_thread_local_ones() {
        let start = Instant::now();
        let recorder = Recorder::new(Timeline::new(start, ms(1000), ms(2000)));
        let held = recorder.shard();
        recorder.record_in(&held, start + ms(500), took(ms(1)), &[Row::Hit]); // warm-up
        recorder.record_in(&held, start + ms(1500), took(ms(1)), &[Row::Hit, Row::Miss]);
        recorder.record(start + ms(1600), took(ms(1)), &[Row::Written]);
        let first = recorder.harvest(0);
        assert_eq!(
            (first.total().counts.calls, first.total().counts.reads),
            (2, 2)
        );
        assert_eq!(first.total().counts.writes, 1);
        recorder.record_in(&held, start + ms(2500), took(ms(1)), &[Row::Miss]);
        assert_eq!(recorder.harvest_rest().total().counts.misses, 1);
    }

    #[test]
    fn a_reused_window_starts_empty() {
        let start = Instant::now();
        let recorder = Recorder::new(Timeline::new(start, ms(0), ms(3000)));
        let held = recorder.shard();
        recorder.record_in(&held, start + ms(100), took(ms(900)), &[Row::Written]);
        assert_eq!(
            recorder.harvest(0).total().latency.percentiles().max,
            900_000_000
        );
        recorder.record_in(&held, start + ms(1100), took(ms(2)), &[Row::Hit]);
        let second = recorder.harvest(1);
        assert_eq!(
            (second.total().counts.calls, second.total().counts.writes),
            (1, 0)
        );
        assert_eq!(second.total().latency.count(), 1);
        assert_eq!(second.total().latency.percentiles().max, 2_000_000);
    }

    #[test]
    fn a_new_run_on_the_same_thread_gets_a_new_shard() {
        let timeline = Timeline::new(Instant::now(), Duration::ZERO, ms(60_000));
        for _ in 0..3 {
            let recorder = Recorder::new(timeline);
            recorder.record(Instant::now(), took(ms(1)), &[Row::Hit]);
            assert_eq!(recorder.harvest_rest().total().counts.reads, 1);
        }
        SHARDS.with_borrow(|mine| assert!(mine.len() <= 2, "finished runs are dropped"));
    }
}
