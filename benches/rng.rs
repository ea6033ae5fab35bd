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

use criterion::{Bencher, Criterion, Throughput, criterion_group, criterion_main};
use groups::layers::{self, CPU};
use groups::per_op::Hook;
use rand::rngs::{SmallRng, StdRng};
use rand::{Rng, SeedableRng};
use rand_mt::Mt;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Key ids a workload draws from.
const KEYS: u32 = 100_000;
const SEED: u64 = 0x5eed;

/// Times one key-id draw from `rng`.
fn draw<R: Rng>(b: &mut Bencher<'_>, mut rng: R) {
    let hook = Hook::current();
    b.iter(|| {
        hook.run();
        rng.random_range(0..KEYS)
    });
}

fn bench_rng(c: &mut Criterion) {
    let mut group = layers::group(c, "rng", CPU);
    group.throughput(Throughput::Elements(1));
    group.bench_function("xoshiro256pp", |b| {
        draw(b, Xoshiro256PlusPlus::seed_from_u64(SEED))
    });
    group.bench_function("small_rng", |b| draw(b, SmallRng::seed_from_u64(SEED)));
    group.bench_function("std_rng", |b| draw(b, StdRng::seed_from_u64(SEED)));
    group.bench_function("thread_rng", |b| {
        let hook = Hook::current();
        b.iter(|| {
            hook.run();
            rand::rng().random_range(0..KEYS)
        })
    });
    group.bench_function("mt19937", |b| draw(b, Mt::seed_from_u64(SEED)));
    group.finish();
}

criterion_group! {
    name = rng;
    config = groups::criterion();
    targets = bench_rng
}
criterion_main!(rng);
