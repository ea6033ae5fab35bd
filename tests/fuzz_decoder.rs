//! Property run of the server's request path over random and mutated frames: decoding,
//! dispatch and execution must never panic, and every reply must be well framed.
//!
//! The test runs 20,000 cases; the full run of the README uses more:
//! `PROPTEST_CASES=1000000 cargo test --release --test fuzz_decoder`.

use std::net::{Ipv4Addr, SocketAddr};

use aerobench::server::codec::*;
use aerobench::server::{Config, Shared};
use proptest::prelude::*;

fn shared() -> Shared {
    let config = Config {
        nodes: 3,
        ..Config::default()
    };
    let addresses: Vec<SocketAddr> = (0..3)
        .map(|i| SocketAddr::from((Ipv4Addr::LOCALHOST, 3000 + i)))
        .collect();
    Shared::new(&config, &addresses).unwrap()
}

fn message(
    info1: u8,
    info2: u8,
    fields: &[(u8, &[u8])],
    ops: &[(u8, u8, &[u8], &[u8])],
) -> Vec<u8> {
    let mut out = Vec::new();
    MsgHeader {
        info1,
        info2,
        n_fields: fields.len() as u16,
        n_ops: ops.len() as u16,
        ..MsgHeader::default()
    }
    .encode(&mut out);
    for (t, data) in fields {
        encode_field(&mut out, *t, data);
    }
    for (op, particle, name, value) in ops {
        encode_op(&mut out, *op, *particle, name, value);
    }
    out
}

/// Valid request bodies of every kind the server handles, to mutate.
fn seeds() -> Vec<(u8, Vec<u8>)> {
    let ns: &[u8] = b"test";
    let digest = [0x42u8; 20];
    let keyed = [
        (FIELD_NAMESPACE, ns),
        (FIELD_SET, &b"set"[..]),
        (FIELD_DIGEST, &digest[..]),
    ];
    let one = 1i64.to_be_bytes();
    let mut batch = 3u32.to_be_bytes().to_vec();
    batch.push(0x0D);
    for i in 0..3u32 {
        batch.extend_from_slice(&i.to_be_bytes());
        batch.extend_from_slice(&[i as u8; 20]);
        if i > 0 {
            batch.push(0x01);
            continue;
        }
        batch.extend_from_slice(&[0x0E, 0, 0x81, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
        encode_field(&mut batch, FIELD_NAMESPACE, ns);
        encode_field(&mut batch, FIELD_SET, b"");
        encode_op(&mut batch, OP_WRITE, PARTICLE_INTEGER, b"v", &one);
    }
    vec![
        (
            TYPE_INFO,
            b"node\nbuild\nreplicas\npeers-clear-std\nstatistics\n".to_vec(),
        ),
        (
            TYPE_MSG,
            message(
                0,
                INFO2_WRITE,
                &keyed,
                &[
                    (OP_WRITE, PARTICLE_INTEGER, b"a", &one),
                    // {"b": [1, {2: nil}], 7: 1.5}: a map the server sorts by key.
                    (
                        OP_WRITE,
                        PARTICLE_MAP,
                        b"m",
                        &[
                            0x82, 0xa2, 3, b'b', 0x92, 1, 0x81, 2, 0xc0, 7, 0xcb, 0x3f, 0xf8, 0, 0,
                            0, 0, 0, 0,
                        ],
                    ),
                ],
            ),
        ),
        (
            TYPE_MSG,
            message(INFO1_READ | INFO1_GET_ALL, 0, &keyed, &[]),
        ),
        (
            TYPE_MSG,
            message(
                INFO1_READ,
                INFO2_WRITE | INFO2_RESPOND_ALL_OPS,
                &keyed,
                &[
                    (OP_INCR, PARTICLE_INTEGER, b"a", &one),
                    (OP_READ, 0, b"a", &[]),
                    (OP_APPEND, PARTICLE_STRING, b"s", b"x"),
                ],
            ),
        ),
        (
            TYPE_MSG,
            message(INFO1_BATCH, 0, &[(FIELD_BATCH_INDEX, &batch)], &[]),
        ),
    ]
}

/// Checks that `out` is a sequence of complete frames.
fn assert_well_framed(out: &[u8]) {
    let mut rest = out;
    while !rest.is_empty() {
        assert!(rest.len() >= 8, "partial proto header");
        let header = ProtoHeader::parse(rest[..8].try_into().unwrap());
        assert_eq!(header.version, PROTO_VERSION);
        let end = 8 + header.size as usize;
        assert!(rest.len() >= end, "frame shorter than its size");
        rest = &rest[end..];
    }
}

fn frames() -> impl Strategy<Value = (u8, Vec<u8>)> {
    let seeds = seeds();
    let count = seeds.len();
    let random = (
        prop_oneof![
            Just(TYPE_INFO),
            Just(TYPE_ADMIN),
            Just(TYPE_MSG),
            Just(TYPE_COMPRESSED)
        ],
        prop::collection::vec(any::<u8>(), 0..256),
    );
    let mutated = (
        0..count,
        prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        any::<usize>(),
        any::<bool>(),
    )
        .prop_map(move |(i, edits, cut, truncate)| {
            let (msg_type, mut body) = seeds[i].clone();
            for (pos, byte) in edits {
                let at = pos % body.len();
                body[at] = byte;
            }
            if truncate {
                body.truncate(cut % (body.len() + 1));
            }
            (msg_type, body)
        });
    prop_oneof![1 => random, 3 => mutated]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_frame_gets_a_framed_reply_and_no_panic((msg_type, body) in frames()) {
        let shared = shared_once();
        let mut out = Vec::new();
        shared.answer(0, msg_type, &body, &mut out);
        assert_well_framed(&out);
    }
}

/// `PROPTEST_CASES` when set, else 20,000.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

fn shared_once() -> &'static Shared {
    static SHARED: std::sync::OnceLock<Shared> = std::sync::OnceLock::new();
    SHARED.get_or_init(shared)
}

#[test]
fn seeds_are_answered_successfully() {
    let shared = shared();
    for (msg_type, body) in seeds() {
        let mut out = Vec::new();
        shared.answer(0, msg_type, &body, &mut out);
        assert_well_framed(&out);
        if msg_type == TYPE_MSG {
            assert_eq!(out[8 + 5], 0, "seed request succeeds: {body:?}");
        }
    }
}
