//! `timer`: what bounding an I/O by a deadline costs in Tokio's timer wheel.
//!
//! Per call, on the current-thread and on the multi-thread runtime, from inside a task:
//! - `bare`: awaiting a ready future, the baseline.
//! - `timeout_ready`: `tokio::time::timeout` around a ready future. Tokio polls the inner
//!   future first and registers a `Sleep` lazily, so this builds a timer and reads the clock
//!   but never touches the wheel.
//! - `sleep_reset`: what aerospike-core 3.0.0 does around every socket read and write
//!   (`io_with_timeout!` in `net/connection.rs`): one boxed `Sleep` per connection, `reset` to
//!   now + timeout, raced `biased` against the I/O (here a ready future). A reset to a later
//!   deadline only moves the entry's expiry (an atomic), so after the first call the wheel's
//!   lock is not taken.
//! - `yield` and `timeout_pending`: a future that is pending once, bare and under `timeout`;
//!   the gap is a real registration: wheel insert on the first poll, removal on drop.
//!
//! Under contention (`contended/<op>/<tasks>`, multi-thread runtime): 1 to 512 tasks, released
//! together, each doing one `yield` or `timeout_pending` per iteration; one iteration is one
//! call per task, so the throughput column counts registrations per second across all tasks.
//!
//! Held constant: a 30 s timeout (the client's default socket timeout), no I/O. Read each
//! op against its baseline (`timeout_ready` and `sleep_reset` against `bare`,
//! `timeout_pending` against `yield`); the difference is the timer.

use std::future::{Future, ready};
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use groups::group::Group;
use groups::layers::{self, CPU};
use groups::per_op::Hook;
use groups::span::Span;
use tokio::runtime::Runtime;
use tokio::task::yield_now;
use tokio::time::timeout;

/// The deadline every timer is set to: the client's default socket timeout.
const TIMEOUT: Duration = Duration::from_secs(30);
const TASKS: [usize; 5] = [1, 2, 8, 64, 512];

/// Time for `iters` awaited calls of `op` in one task on `rt`.
fn timed<F, Fut>(rt: &Runtime, iters: u64, mut op: F) -> Duration
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future + Send,
{
    let hook = Hook::current();
    layers::in_task(rt, async move {
        let span = Span::start();
        for _ in 0..iters {
            hook.run();
            black_box(op().await);
        }
        span.stop()
    })
}

/// aerospike-core 3.0.0's per-I/O timeout: the connection's `Sleep` is created once (for an
/// hour, as the client does) and reset before every I/O.
async fn sleep_reset(iters: u64) -> Duration {
    let mut sleep = Box::pin(tokio::time::sleep(Duration::from_secs(3600)));
    let hook = Hook::current();
    let span = Span::start();
    for _ in 0..iters {
        hook.run();
        sleep.as_mut().reset(tokio::time::Instant::now() + TIMEOUT);
        tokio::select! {
            biased;
            io = black_box(ready(())) => black_box(io),
            _ = sleep.as_mut() => {}
        }
    }
    span.stop()
}

fn per_call(group: &mut Group<'_>, flavor: &str, rt: &Runtime) {
    group.throughput(Throughput::Elements(1));
    group.bench(format!("{flavor}/bare"), |iters| {
        timed(rt, iters, || black_box(ready(())))
    });
    group.bench(format!("{flavor}/timeout_ready"), |iters| {
        timed(rt, iters, || timeout(TIMEOUT, black_box(ready(()))))
    });
    group.bench(format!("{flavor}/sleep_reset"), |iters| {
        layers::in_task(rt, sleep_reset(iters))
    });
    group.bench(format!("{flavor}/yield"), |iters| {
        timed(rt, iters, yield_now)
    });
    group.bench(format!("{flavor}/timeout_pending"), |iters| {
        timed(rt, iters, || timeout(TIMEOUT, yield_now()))
    });
}

/// `tasks` tasks each awaiting `op()` once per iteration.
fn contended<F, Fut>(group: &mut Group<'_>, rt: &Runtime, name: &str, op: F)
where
    F: Fn() -> Fut + Copy + Send + 'static,
    Fut: Future + Send,
{
    for tasks in TASKS {
        group.throughput(Throughput::Elements(tasks as u64));
        group.bench(format!("contended/{name}/{tasks}"), |iters| {
            let hook = Hook::current();
            layers::time_tasks(rt, tasks, move |_| async move {
                for _ in 0..iters {
                    hook.run();
                    black_box(op().await);
                }
            })
        });
    }
}

fn bench_timer(c: &mut Criterion) {
    let current = groups::current_thread_runtime();
    let multi = groups::runtime(0);
    let mut group = layers::group(c, "timer", CPU);
    per_call(&mut group, "current_thread", &current);
    per_call(&mut group, "multi_thread", &multi);
    contended(&mut group, &multi, "yield", yield_now);
    contended(&mut group, &multi, "timeout_pending", || {
        timeout(TIMEOUT, yield_now())
    });
    group.finish();
}

criterion_group! {
    name = timer;
    config = groups::criterion();
    targets = bench_timer
}
criterion_main!(timer);
