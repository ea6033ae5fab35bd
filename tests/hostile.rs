//! Hostile input: a malformed frame, an oversized frame and a connection cut mid-request
//! close only their own connection; a well-framed but malformed message gets
//! PARAMETER_ERROR on a connection that stays usable; other clients are not disturbed.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use aerobench::server::codec::{PROTO_VERSION, ProtoHeader};
use aerospike_core::policy::{ReadPolicy, WritePolicy};
use aerospike_core::{Bins, Client, Value, as_bin};

fn raw(host: &str) -> TcpStream {
    let stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// True when the server closed the connection (EOF, or reset); false when it answered.
/// Our own read timeout is not a close: it fails the test.
fn closed_by_server(mut stream: TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            panic!("the server neither answered nor closed the connection within 5 s")
        }
        Err(_) => true,
    }
}

fn frame(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let header = ProtoHeader {
        version: PROTO_VERSION,
        msg_type,
        size: body.len() as u64,
    };
    let mut out = header.to_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// Reads one reply frame's body.
fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
    let mut header = [0u8; 8];
    stream.read_exact(&mut header).unwrap();
    let size = ProtoHeader::parse(header).size;
    let mut body = vec![0u8; size as usize];
    stream.read_exact(&mut body).unwrap();
    body
}

async fn still_serves(client: &Client, id: i64) {
    let k = common::key(id);
    client
        .put(&WritePolicy::default(), &k, &[as_bin!("v", id)])
        .await
        .unwrap();
    let r = client
        .get(&ReadPolicy::default(), &k, Bins::All)
        .await
        .unwrap();
    assert_eq!(r.bins["v"], Value::Int(id));
}

#[tokio::test]
async fn bad_frames_close_only_their_connection() {
    let (target, client) = common::cluster(1).await;
    let host = target.hosts[0].clone();
    still_serves(&client, 1).await;

    let mut wrong_version = raw(&host);
    wrong_version
        .write_all(&[9, 3, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4])
        .unwrap();
    assert!(
        closed_by_server(wrong_version),
        "bad proto version closes the connection"
    );
    still_serves(&client, 2).await;

    let mut oversized = raw(&host);
    oversized.write_all(&[2, 3, 0, 0x10, 0, 0, 0, 0]).unwrap();
    assert!(closed_by_server(oversized), "a 1 TiB frame is refused");
    still_serves(&client, 3).await;

    let mut cut = raw(&host);
    cut.write_all(&frame(3, &[22; 100])[..50]).unwrap();
    drop(cut);
    still_serves(&client, 4).await;
}

#[tokio::test]
async fn malformed_message_gets_parameter_error_and_connection_survives() {
    let (target, client) = common::cluster(3).await;
    let mut conn = raw(&target.hosts[0]);
    // A 22-byte header announcing one op that is not there.
    let mut header = vec![22, 1, 0, 0, 0, 0];
    header.extend_from_slice(&[0; 12]);
    header.extend_from_slice(&[0, 0, 0, 1]);
    conn.write_all(&frame(3, &header)).unwrap();
    let reply = read_frame(&mut conn);
    assert_eq!(reply[5], 4, "PARAMETER_ERROR");
    conn.write_all(&frame(1, b"node\n")).unwrap();
    let info = String::from_utf8(read_frame(&mut conn)).unwrap();
    assert!(
        info.starts_with("node\t"),
        "same connection still answers: {info:?}"
    );
    still_serves(&client, 5).await;
}

#[tokio::test]
async fn max_conns_refuses_extra_connections() {
    let (target, client) = common::cluster_with(1, &["--max-conns", "300"]).await;
    still_serves(&client, 6).await;
    let held: Vec<TcpStream> = (0..300).map(|_| raw(&target.hosts[0])).collect();
    let extra = raw(&target.hosts[0]);
    assert!(
        closed_by_server(extra),
        "connection beyond --max-conns is closed"
    );
    drop(held);
}
