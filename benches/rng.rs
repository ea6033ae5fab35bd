//! `rng`: choosing which key a load generator touches next.
//!
//! Isolates one draw of a key id in `0..100_000` per generator; the range reduction is held
//! constant (`rand`'s `random_range` for every generator), so the differences are the
//! generators: xoshiro256++ (`rand_xoshiro`; `rand` 0.9's `SmallRng` is the same algorithm
//! on 64-bit targets), `StdRng` (ChaCha12), the thread-local rng (`rand::rng()` fetched per
//! draw, as code usually calls it), and MT19937 (`rand_mt::Mt`, the generator behind
//! CPython's `random`; CPython reduces the range by rejection on `getrandbits`, not by this
//! method). All seeded, no I/O.
//!
//! Read it as ns per draw, next to `single_op` to see what picking a key costs per command.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use groups::layers::{self, CPU};
use groups::per_op::Hook;
use groups::span;
use rand::rngs::{SmallRng, StdRng};
use rand::{Rng, SeedableRng};
use rand_mt::Mt;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Key ids a workload draws from.
const KEYS: u32 = 100_000;
const SEED: u64 = 0x5eed;

/// Times one key-id draw from `rng`.
fn draw<R: Rng>(iters: u64, rng: &mut R) -> Duration {
    let hook = Hook::current();
    span::each(iters, || {
        hook.run();
        rng.random_range(0..KEYS)
    })
}

fn bench_rng(c: &mut Criterion) {
    let mut group = layers::group(c, "rng", CPU);
    group.throughput(Throughput::Elements(1));
    let mut xoshiro = Xoshiro256PlusPlus::seed_from_u64(SEED);
    group.bench("xoshiro256pp", |iters| draw(iters, &mut xoshiro));
    let mut small = SmallRng::seed_from_u64(SEED);
    group.bench("small_rng", |iters| draw(iters, &mut small));
    let mut std = StdRng::seed_from_u64(SEED);
    group.bench("std_rng", |iters| draw(iters, &mut std));
    group.bench("thread_rng", |iters| {
        let hook = Hook::current();
        span::each(iters, || {
            hook.run();
            rand::rng().random_range(0..KEYS)
        })
    });
    let mut mt = Mt::seed_from_u64(SEED);
    group.bench("mt19937", |iters| draw(iters, &mut mt));
    group.finish();
}

criterion_group! {
    name = rng;
    config = groups::criterion();
    targets = bench_rng
}
criterion_main!(rng);
