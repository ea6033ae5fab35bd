//! The measured region of a benchmark: every group times its ops through a [`Span`], so
//! that one definition serves Criterion, the paired comparison's timing worker and its
//! counting worker, which counts the instructions inside the spans alone (see
//! [`callgrind`](crate::callgrind)). [`each`] and [`batched`] are Criterion's `iter` and
//! `iter_batched` written as routines (`iters` in, time out), the form every group hands
//! to [`Group::bench`](crate::group::Group::bench).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::callgrind;

/// Whether spans switch callgrind's collection (set once by a counting worker).
static COUNTING: AtomicBool = AtomicBool::new(false);

/// Makes every span from now on collect instructions while it is open.
pub fn count_instructions() {
    COUNTING.store(true, Ordering::Relaxed);
}

/// An open measured region: its time, and under a counting worker its instructions.
#[must_use = "a span measures until it is stopped"]
pub struct Span {
    start: Instant,
}

impl Span {
    #[inline(always)]
    pub fn start() -> Span {
        if COUNTING.load(Ordering::Relaxed) {
            callgrind::toggle_collect();
        }
        Span {
            start: Instant::now(),
        }
    }

    #[inline(always)]
    pub fn stop(self) -> Duration {
        let elapsed = self.start.elapsed();
        if COUNTING.load(Ordering::Relaxed) {
            callgrind::toggle_collect();
        }
        elapsed
    }
}

/// Time of `iters` calls of `op` in one span (Criterion's `iter`).
pub fn each<O>(iters: u64, mut op: impl FnMut() -> O) -> Duration {
    let span = Span::start();
    for _ in 0..iters {
        black_box(op());
    }
    span.stop()
}

/// Inputs made per batch by [`batched`]: small enough to stay in cache.
const BATCH: u64 = 64;

/// Time of `iters` calls of `op`, each on an input `setup` made outside the spans, the
/// outputs dropped outside them too (Criterion's `iter_batched` with small inputs).
pub fn batched<I, O>(
    iters: u64,
    mut setup: impl FnMut() -> I,
    mut op: impl FnMut(I) -> O,
) -> Duration {
    let mut measured = Duration::ZERO;
    let mut outputs = Vec::with_capacity(BATCH as usize);
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        left -= n;
        let inputs: Vec<I> = (0..n).map(|_| setup()).collect();
        let span = Span::start();
        outputs.extend(inputs.into_iter().map(&mut op));
        measured += span.stop();
        outputs.clear();
    }
    measured
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_runs_every_op_once_on_its_own_input() {
        let (mut made, mut seen) = (0_u64, vec![]);
        batched(
            150,
            || {
                made += 1;
                made
            },
            |input| seen.push(input),
        );
        assert_eq!(made, 150);
        assert_eq!(seen, (1..=150).collect::<Vec<_>>());
    }

    #[test]
    fn each_runs_the_op_iters_times() {
        let mut calls = 0;
        each(37, || calls += 1);
        assert_eq!(calls, 37);
    }
}
