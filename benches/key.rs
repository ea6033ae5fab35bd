//! `key`: building a record key, the first thing every command does.
//!
//! Isolates `Key::new` (namespace and set copied into owned strings, RIPEMD-160 over set name
//! and user key) for int, 8-byte string, 1 KiB string and 16-byte blob user keys, with the
//! set name and without it. The user key value is built outside the timing, so only what the
//! client does is measured. `from_digest` builds the same key from a digest the caller
//! already holds (`Key::with_digest`, the only digest-only path the API offers): the gap
//! between it and `int/set` is the hashing. No I/O, no runtime.
//!
//! Read it as ns per key; compare with a `single_op` get to see the share of a command.

use aerospike_core::{Key, Value};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use groups::layers::{self, CPU, LAYERS};
use groups::per_op::Hook;
use groups::span;

fn user_keys() -> [(&'static str, Value); 4] {
    [
        ("int", Value::from(42_i64)),
        ("short_str", Value::from("user-042".to_string())),
        ("long_str", Value::from("k".repeat(1024))),
        ("blob", Value::from(vec![0xa5_u8; 16])),
    ]
}

fn bench_key(c: &mut Criterion) {
    let mut group = layers::group(c, "key", CPU);
    group.throughput(Throughput::Elements(1));
    let hook = Hook::current();
    for (kind, value) in user_keys() {
        for (set_label, set) in [("set", LAYERS.set), ("no_set", "")] {
            group.bench(format!("{kind}/{set_label}"), |iters| {
                span::batched(
                    iters,
                    || value.clone(),
                    |value| {
                        hook.run();
                        Key::new(LAYERS.namespace, set, value)
                    },
                )
            });
        }
    }
    let digest = layers::key(42).digest();
    group.bench("from_digest/set", |iters| {
        span::batched(
            iters,
            || digest,
            |digest| {
                hook.run();
                Key::with_digest(LAYERS.namespace, LAYERS.set, None, digest)
            },
        )
    });
    group.finish();
}

criterion_group! {
    name = key;
    config = groups::criterion();
    targets = bench_key
}
criterion_main!(key);
