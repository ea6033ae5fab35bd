//! A benchmark group that either Criterion measures or a paired comparison's worker serves:
//! each group defines its benchmarks once, as routines (`iters` in, time out, the form of
//! Criterion's `iter_custom`), and [`Group::bench`] hands each one to whichever runs this
//! process. Under a worker ([`aerobench::compare::protocol`]) Criterion is never given a
//! benchmark; the worker answers the comparison's requests for the benchmarks it was asked
//! for and skips the others, as a filter would.

use std::fmt::Display;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};

use crate::worker::{self, Worker};

/// One group's benchmarks, measured by Criterion or served to a comparison.
pub struct Group<'c> {
    name: String,
    runner: Runner<'c>,
}

enum Runner<'c> {
    Criterion(BenchmarkGroup<'c, WallTime>),
    Worker(&'static Worker),
}

impl<'c> Group<'c> {
    /// The group `name`, Criterion's unless this process is a comparison's worker; arms the
    /// group's [`inject`](crate::inject) knob either way.
    pub fn new(c: &'c mut Criterion, name: &str) -> Group<'c> {
        crate::inject::arm(name);
        let runner = match worker::current() {
            Some(worker) => Runner::Worker(worker),
            None => Runner::Criterion(c.benchmark_group(name)),
        };
        Group {
            name: name.to_string(),
            runner,
        }
    }

    /// Criterion's settings for the benchmarks added after this (a worker has none: the
    /// comparison decides how long it samples).
    pub fn configure(&mut self, settings: impl FnOnce(&mut BenchmarkGroup<'c, WallTime>)) {
        if let Runner::Criterion(group) = &mut self.runner {
            settings(group);
        }
    }

    pub fn throughput(&mut self, throughput: Throughput) -> &mut Self {
        self.configure(|group| {
            group.throughput(throughput);
        });
        self
    }

    /// Benchmark `<group>/<id>`: `routine(iters)` runs `iters` ops and returns the time of
    /// their [`Span`](crate::span::Span)s.
    pub fn bench(&mut self, id: impl Display, mut routine: impl FnMut(u64) -> Duration) {
        let full = format!("{}/{id}", self.name);
        match &mut self.runner {
            Runner::Criterion(group) => {
                crate::inject::arm(&full);
                group.bench_function(id.to_string(), |b| b.iter_custom(&mut routine));
            }
            Runner::Worker(worker) if worker.wants(&full) => {
                crate::inject::arm(&full);
                worker.serve(&full, &mut routine);
            }
            Runner::Worker(_) => {}
        }
    }

    pub fn finish(self) {
        if let Runner::Criterion(group) = self.runner {
            group.finish();
        }
    }
}
