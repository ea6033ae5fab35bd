//! Paired time: two workers, one per side, serving the same benchmark at once, sampled in
//! lock-step (A B, then B A, the order flipping every pair), each sample a few
//! milliseconds, so the two samples of a pair share whatever state the machine is in.
//! Both sides run the same number of ops per sample, calibrated on both.

use std::time::{Duration, Instant};

use super::process::Cancel;
use super::protocol::{Reply, Request};
use super::worker::{Worker, WorkerError};

/// How one benchmark is sampled.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// The wall time one sample aims at.
    pub sample: Duration,
    /// Discarded pairs before the first kept one, at the calibrated size.
    pub warmup: Duration,
    /// Sampling time for one pair of workers (both sides together).
    pub budget: Duration,
    pub min_pairs: usize,
    pub max_pairs: usize,
}

impl Pacing {
    pub const DEFAULT: Pacing = Pacing {
        sample: Duration::from_millis(4),
        warmup: Duration::from_millis(300),
        budget: Duration::from_secs(3),
        min_pairs: 8,
        max_pairs: 4000,
    };
}

/// Every op count a calibration tries stays below this (a routine that returns at once).
const MAX_ITERS: u64 = 1 << 40;

/// One pair of workers' samples of a benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// Ops per sample, the same on both sides.
    pub iters: u64,
    /// Measured nanoseconds per sample, `[a, b]`, in the order the pairs ran.
    pub pairs: Vec<[u64; 2]>,
    /// System calls per op on each side, from one sample each (`None`: not countable).
    pub syscalls: [Option<f64>; 2],
}

/// The longest one request may take: a sample is milliseconds, but a throughput row's is
/// a whole short run, and a worker's first call may connect or seed.
const REQUEST_LIMIT: Duration = Duration::from_secs(120);

/// Samples the benchmark both `workers` are serving.
pub fn sample(
    workers: &mut [Worker; 2],
    pacing: &Pacing,
    cancel: &Cancel,
) -> Result<Samples, WorkerError> {
    let iters = calibrate(workers, pacing, cancel)?;
    let warm_until = Instant::now() + pacing.warmup;
    while Instant::now() < warm_until {
        pair(workers, iters, 0, cancel)?;
    }
    let started = Instant::now();
    let mut pairs = vec![];
    while pairs.len() < pacing.max_pairs
        && (pairs.len() < pacing.min_pairs || started.elapsed() < pacing.budget)
    {
        pairs.push(pair(workers, iters, pairs.len(), cancel)?);
    }
    let mut syscalls = [None, None];
    for (side, worker) in workers.iter_mut().enumerate() {
        syscalls[side] = match worker.ask(&Request::Syscalls(iters), REQUEST_LIMIT, cancel)? {
            Reply::Syscalls { calls, .. } => calls.map(|c| c as f64 / iters as f64),
            reply => return Err(worker.unexpected("syscalls", reply)),
        };
    }
    Ok(Samples {
        iters,
        pairs,
        syscalls,
    })
}

/// Ops per sample: grown from 1 until both sides' samples take `pacing.sample` of wall
/// time (by a factor of at most 10 a step, so a step never overshoots far). Both, not
/// either: one sample slowed by the machine would otherwise stop the growth early.
fn calibrate(
    workers: &mut [Worker; 2],
    pacing: &Pacing,
    cancel: &Cancel,
) -> Result<u64, WorkerError> {
    let mut iters = 1;
    loop {
        let mut wall = Duration::MAX;
        for worker in workers.iter_mut() {
            wall = wall.min(worker.run(iters, REQUEST_LIMIT, cancel)?.1);
        }
        if wall >= pacing.sample || iters >= MAX_ITERS {
            return Ok(iters);
        }
        let factor = pacing.sample.as_secs_f64() / wall.as_secs_f64().max(1e-9);
        iters = ((iters as f64 * factor.clamp(1.5, 10.0)).ceil() as u64).min(MAX_ITERS);
    }
}

/// One sample per side, A first in even pairs and B first in odd ones.
fn pair(
    workers: &mut [Worker; 2],
    iters: u64,
    index: usize,
    cancel: &Cancel,
) -> Result<[u64; 2], WorkerError> {
    let order = match index % 2 {
        0 => [0, 1],
        _ => [1, 0],
    };
    let mut nanos = [0; 2];
    for side in order {
        nanos[side] = workers[side].run(iters, REQUEST_LIMIT, cancel)?.0;
    }
    Ok(nanos)
}
