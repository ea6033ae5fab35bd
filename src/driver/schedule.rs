//! A run's schedule: harvest each window once it has ended and hand its figures to the
//! caller (the printed ticker line), and read the process CPU time and counters
//! (allocations, where the process counts them, and context switches) where the measured
//! span starts and ends. The task and thread drivers both follow it; they differ only in how
//! they sleep until the next event.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::recorder::Recorder;
use crate::cpu;
use crate::op_counters::Reading;
use crate::stats::{Figures, Tally};

/// How long after a window ends it is harvested, so calls that ended just before the
/// boundary have been recorded (one that is later still counts, in the next window).
const GRACE: Duration = Duration::from_millis(20);

enum Event {
    CpuStart,
    Harvest(usize),
    CpuEnd,
}

/// What the schedule produced.
pub struct Ticks {
    /// Figures of each window, in order.
    pub seconds: Vec<Figures>,
    /// Everything measured.
    pub total: Tally,
    /// Process CPU time over the measured span.
    pub cpu: Duration,
    /// The process's counters where the measured span started and ended.
    pub readings: [Reading; 2],
}

pub struct Ticker<'a> {
    recorder: &'a Recorder,
    events: VecDeque<(Instant, Event)>,
    on_window: &'a mut dyn FnMut(usize, &Figures),
    seconds: Vec<Figures>,
    total: Tally,
    cpu_start: Duration,
    cpu: Duration,
    readings: [Reading; 2],
}

impl<'a> Ticker<'a> {
    pub fn new(recorder: &'a Recorder, on_window: &'a mut dyn FnMut(usize, &Figures)) -> Self {
        let t = recorder.timeline();
        let last = t.windows().saturating_sub(1);
        let mut events: Vec<_> = (0..last)
            .map(|k| (t.window_end(k) + GRACE, Event::Harvest(k)))
            .collect();
        events.push((t.measure, Event::CpuStart));
        events.push((t.end, Event::CpuEnd));
        events.sort_by_key(|(at, _)| *at);
        Ticker {
            recorder,
            events: events.into(),
            on_window,
            seconds: Vec::new(),
            total: Tally::default(),
            cpu_start: Duration::ZERO,
            cpu: Duration::ZERO,
            readings: Default::default(),
        }
    }

    /// When the next event is due; `None` once only [`Self::finish`] remains.
    pub fn next_due(&self) -> Option<Instant> {
        self.events.front().map(|(at, _)| *at)
    }

    /// Runs the next event (call it once [`Self::next_due`] has passed).
    pub fn fire(&mut self) {
        match self.events.pop_front() {
            Some((_, Event::CpuStart)) => {
                self.readings[0] = Reading::now();
                self.cpu_start = cpu::process_time();
            }
            Some((_, Event::CpuEnd)) => {
                self.cpu = cpu::process_time().saturating_sub(self.cpu_start);
                self.readings[1] = Reading::now();
            }
            Some((_, Event::Harvest(k))) => {
                let tally = self.recorder.harvest(k);
                self.close(k, tally);
            }
            None => {}
        }
    }

    /// Harvests the last window, with every straggler; call once no call runs any more.
    pub fn finish(mut self) -> Ticks {
        while self.next_due().is_some() {
            self.fire();
        }
        let last = self.recorder.timeline().windows().saturating_sub(1);
        let tally = self.recorder.harvest_rest();
        self.close(last, tally);
        Ticks {
            seconds: self.seconds,
            total: self.total,
            cpu: self.cpu,
            readings: self.readings,
        }
    }

    fn close(&mut self, k: usize, tally: Tally) {
        let figures = Figures::of(&tally, self.recorder.timeline().window_len(k));
        (self.on_window)(k, &figures);
        self.seconds.push(figures);
        self.total.merge(&tally);
    }
}
