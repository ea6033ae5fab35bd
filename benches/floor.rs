//! `floor`: the physical floor under every op group, a bare TCP round trip.
//!
//! Isolates one request/reply exchange with exactly a get's bytes and no client: the request
//! is the get aerospike-core 3.0.0 sends for one seeded record, 8 (proto header) + 22 (message
//! header) + namespace field (5 + 4) + set field (5 + 3) + digest field (5 + 20) = 72 bytes,
//! and the reply is read as the client reads it (proto and message headers, 30 bytes, then
//! the rest), which `strace` of `single_op/async/get` confirms: one 72-byte send, a 30-byte
//! and a 17-byte read.
//! Against the embedded target the peer is an in-process responder thread that answers each
//! request with a get's reply of one integer bin, 8 + 22 + one op (4 size + 4 op header + 1
//! name byte + 8 value) = 47 bytes; against a remote target it is the target's first host
//! itself, answering the real get (so its server time is in the floor).
//!
//! Held constant: loopback (or the remote link), `TCP_NODELAY` as the client sets it, one
//! connection, one request in flight; `std` is blocking I/O on the bench thread, `tokio` is
//! a task on the harness's multi-thread runtime, the client's setting.
//!
//! Read every op group as floor + client overhead: `single_op/async/get` minus `floor/tokio`
//! is what the client and the server add to the wire.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::Duration;

use aerobench::server::codec::{self, MsgHeader, ProtoHeader};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use groups::Bench;
use groups::layers::{self, LAYERS, NET, or_exit};
use groups::per_op::Hook;
use groups::span::{self, Span};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Proto header and message header: what the client reads before the rest of a reply.
const HEAD: usize = 8 + codec::MSG_HEADER_LEN;

/// A get of record `digest`, all bins: 72 bytes with the suite's namespace and set.
fn get_request(digest: &[u8; 20]) -> Vec<u8> {
    let mut out = Vec::new();
    let start = codec::begin_frame(&mut out);
    let header = MsgHeader {
        info1: codec::INFO1_READ | codec::INFO1_GET_ALL,
        transaction_ttl: 1000,
        n_fields: 3,
        ..MsgHeader::default()
    };
    header.encode(&mut out);
    codec::encode_field(
        &mut out,
        codec::FIELD_NAMESPACE,
        LAYERS.namespace.as_bytes(),
    );
    codec::encode_field(&mut out, codec::FIELD_SET, LAYERS.set.as_bytes());
    codec::encode_field(&mut out, codec::FIELD_DIGEST, digest);
    codec::finish_frame(&mut out, start, codec::TYPE_MSG);
    out
}

/// The reply to a get of a one-integer-bin record: 47 bytes.
fn get_reply() -> Vec<u8> {
    let mut out = Vec::new();
    let start = codec::begin_frame(&mut out);
    let header = MsgHeader {
        generation: 1,
        n_ops: 1,
        ..MsgHeader::default()
    };
    header.encode(&mut out);
    let value = 1_i64.to_be_bytes();
    codec::encode_op(
        &mut out,
        codec::OP_READ,
        codec::PARTICLE_INTEGER,
        LAYERS.bin.as_bytes(),
        &value,
    );
    codec::finish_frame(&mut out, start, codec::TYPE_MSG);
    out
}

/// Bytes of a message after its proto and message headers, from those headers.
fn rest_len(head: &[u8; HEAD]) -> usize {
    let mut proto = [0; 8];
    proto.copy_from_slice(&head[..8]);
    (ProtoHeader::parse(proto).size as usize).saturating_sub(codec::MSG_HEADER_LEN)
}

/// Reads one message as the client reads a reply: both headers, then the rest into `rest`.
fn read_message(stream: &mut impl Read, rest: &mut Vec<u8>) -> io::Result<()> {
    let mut head = [0; HEAD];
    stream.read_exact(&mut head)?;
    rest.resize(rest_len(&head), 0);
    stream.read_exact(rest)
}

async fn read_message_async(
    stream: &mut tokio::net::TcpStream,
    rest: &mut Vec<u8>,
) -> io::Result<()> {
    let mut head = [0; HEAD];
    stream.read_exact(&mut head).await?;
    rest.resize(rest_len(&head), 0);
    stream.read_exact(rest).await.map(drop)
}

/// A loopback listener answering every request frame with `reply`, a thread per connection,
/// for as long as the process lives.
fn start_responder(reply: Vec<u8>) -> SocketAddr {
    let listener = or_exit(TcpListener::bind("127.0.0.1:0"), "floor: responder");
    let addr = or_exit(listener.local_addr(), "floor: responder");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let reply = reply.clone();
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let mut rest = Vec::new();
                while read_message(&mut stream, &mut rest).is_ok() {
                    if stream.write_all(&reply).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// The in-process responder for the embedded target, the first host for a remote one.
fn peer(bench: &Bench) -> SocketAddr {
    if bench.target.embedded().is_some() {
        return start_responder(get_reply());
    }
    if bench.target.settings.credentials.is_some() {
        groups::exit_with("floor: a raw round trip cannot log in; unset AEROSPIKE_USER to run it");
    }
    layers::seeded_keys();
    let host = bench.target.hosts.first().map_or("", String::as_str);
    let addr = or_exit(host.to_socket_addrs(), "floor: resolving the first host").next();
    addr.unwrap_or_else(|| groups::exit_with(format!("floor: {host:?} resolves to no address")))
}

fn round_trip(stream: &mut TcpStream, request: &[u8], rest: &mut Vec<u8>) {
    or_exit(
        stream
            .write_all(request)
            .and_then(|()| read_message(stream, rest)),
        "floor: round trip",
    );
}

async fn timed_tokio(addr: SocketAddr, request: Vec<u8>, iters: u64) -> Duration {
    let mut stream = or_exit(tokio::net::TcpStream::connect(addr).await, "floor: connect");
    or_exit(stream.set_nodelay(true), "floor: TCP_NODELAY");
    let mut rest = Vec::new();
    let hook = Hook::current();
    let span = Span::start();
    for _ in 0..iters {
        hook.run();
        or_exit(stream.write_all(&request).await, "floor: write");
        or_exit(
            read_message_async(&mut stream, &mut rest).await,
            "floor: read",
        );
    }
    span.stop()
}

fn bench_floor(c: &mut Criterion) {
    let bench = groups::bench();
    let addr = peer(bench);
    let request = get_request(&layers::key(0).digest());
    let mut stream = or_exit(TcpStream::connect(addr), "floor: connect");
    or_exit(stream.set_nodelay(true), "floor: TCP_NODELAY");
    let mut rest = Vec::new();
    round_trip(&mut stream, &request, &mut rest);
    eprintln!(
        "aerobench: floor: {}-byte requests, {}-byte replies, to {addr}",
        request.len(),
        HEAD + rest.len()
    );

    let mut group = layers::group(c, "floor", NET);
    group.throughput(Throughput::Elements(1));
    let hook = Hook::current();
    group.bench("std", |iters| {
        span::each(iters, || {
            hook.run();
            round_trip(&mut stream, &request, &mut rest)
        })
    });
    group.bench("tokio", |iters| {
        layers::in_task(&bench.runtime, timed_tokio(addr, request.clone(), iters))
    });
    group.finish();
}

criterion_group! {
    name = floor;
    config = groups::criterion();
    targets = bench_floor
}
criterion_main!(floor);
