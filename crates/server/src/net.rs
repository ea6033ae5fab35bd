//! Listeners and connections: accepts clients per node, reads one framed request at a
//! time, dispatches it, and writes the reply.
//!
//! A frame with a bad header (version, type or size) closes only its own connection, with a
//! log line; a well-framed message that does not parse is answered with PARAMETER_ERROR.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::batch;
use super::cluster::partition_of;
use super::codec::*;
use super::command::{Command, execute, rc, refuse, refuse_unsupported};
use super::info;
use super::stats::bump;
use super::{ConnectionError, Shared, StartError};

/// How long the rest of a frame may take to arrive once its header has.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections for node `node` until `stop` fires.
pub async fn serve_node(
    node: usize,
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("aerobench-server: node {node}: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let max = shared.max_conns;
        if max > 0 && open.load(Ordering::Relaxed) >= max {
            bump(&shared.stats.refused, 1);
            eprintln!(
                "aerobench-server: node {node}: refusing {peer}: {max} connections open (--max-conns)"
            );
            continue;
        }
        bump(&shared.stats.connections, 1);
        open.fetch_add(1, Ordering::Relaxed);
        let (shared, open, stop) = (shared.clone(), open.clone(), stop.clone());
        tokio::spawn(async move {
            if let Err(reason) = serve_connection(node, stream, &shared, stop).await {
                bump(&shared.stats.malformed, 1);
                eprintln!("aerobench-server: node {node}: closing {peer}: {reason}");
            }
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Serves one connection; `Err` names a protocol violation that closed it. A peer that
/// hangs up, or a node that stops, ends it with `Ok`.
async fn serve_connection(
    node: usize,
    stream: TcpStream,
    shared: &Shared,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ConnectionError> {
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().ok();
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut body = Vec::new();
    let mut out = Vec::with_capacity(4096);
    loop {
        let mut header = [0u8; 8];
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            read = reader.read_exact(&mut header) => if read.is_err() { return Ok(()) },
        }
        let proto = ProtoHeader::parse(header);
        proto.validate(shared.max_frame)?;
        body.resize(proto.size as usize, 0);
        match tokio::time::timeout(BODY_TIMEOUT, reader.read_exact(&mut body)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Err(ConnectionError::CutMidFrame(peer)),
            Err(_) => return Err(ConnectionError::SlowBody(BODY_TIMEOUT)),
        }
        out.clear();
        shared.answer(node, proto.msg_type, &body, &mut out);
        if let Some(delayer) = &shared.delayer {
            delayer.wait(shared.service_delay).await;
        }
        if writer.write_all(&out).await.is_err() {
            return Ok(());
        }
        bump(&shared.stats.bytes_in, 8 + proto.size);
        bump(&shared.stats.bytes_out, out.len() as u64);
    }
}

/// Answers one request body into `out` (complete frames).
pub(super) fn dispatch(node: usize, msg_type: u8, body: &[u8], shared: &Shared, out: &mut Vec<u8>) {
    match msg_type {
        TYPE_INFO => {
            bump(&shared.stats.info, 1);
            let frame = begin_frame(out);
            out.extend_from_slice(&info::answer(body, node, &shared.cluster, &shared.stats));
            finish_frame(out, frame, TYPE_INFO);
        }
        TYPE_ADMIN => security_refusal(out),
        TYPE_COMPRESSED => single_reply(out, |out| refuse(rc::ENTERPRISE_ONLY, 0, out)),
        _ => command_reply(node, body, shared, out),
    }
}

/// A server without security answers every security message with its 16-byte admin
/// header carrying SECURITY_NOT_SUPPORTED, as Community Edition does; the connection
/// stays open.
fn security_refusal(out: &mut Vec<u8>) {
    let frame = begin_frame(out);
    out.extend_from_slice(&[0, rc::SECURITY_NOT_SUPPORTED]);
    out.extend_from_slice(&[0; 14]);
    finish_frame(out, frame, TYPE_ADMIN);
}

/// Answers one AS_MSG body: a single-record command or a batch.
fn command_reply(node: usize, body: &[u8], shared: &Shared, out: &mut Vec<u8>) {
    let Ok(msg) = Message::decode(body) else {
        return single_reply(out, |out| refuse(rc::PARAMETER, 0, out));
    };
    if msg.header.info1 & INFO1_BATCH != 0 {
        return batch_reply(node, &msg, shared, out);
    }
    let command = match Command::from_message(&msg) {
        Ok(command) => command,
        Err(code) => return single_reply(out, |out| refuse(code, 0, out)),
    };
    note_command(node, &command, shared);
    single_reply(out, |out| {
        execute(&command, &shared.store, 0, out);
    });
}

fn batch_reply(node: usize, msg: &Message<'_>, shared: &Shared, out: &mut Vec<u8>) {
    bump(&shared.stats.batch, 1);
    let others = msg.fields.iter().map(|f| f.field_type);
    if let Err(code) = refuse_unsupported(others.filter(|&t| t != FIELD_BATCH_INDEX)) {
        return batch::last_message(out, code);
    }
    match msg.field(FIELD_BATCH_INDEX).map(batch::parse_rows) {
        Some(Ok(rows)) => {
            bump(&shared.stats.batch_rows, rows.len() as u64);
            batch::respond(&rows, &shared.store, out, |c| note_command(node, c, shared));
        }
        _ => batch::last_message(out, rc::PARAMETER),
    }
}

/// Counts a command by kind, and notes when it reached a node that is not its master.
fn note_command(node: usize, command: &Command<'_>, shared: &Shared) {
    shared.stats.count(command.kind());
    bump(&shared.stats.by_node[node], 1);
    if shared.cluster.master_of(partition_of(&command.digest)) != node {
        bump(&shared.stats.misrouted, 1);
    }
}

fn single_reply(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let frame = begin_frame(out);
    write(out);
    finish_frame(out, frame, TYPE_MSG);
}

/// Binds `count` listeners on `ip`: `port` then the following ports, or free ports when
/// `port` is 0.
pub fn bind_listeners(
    ip: std::net::IpAddr,
    port: u16,
    count: usize,
) -> Result<Vec<std::net::TcpListener>, StartError> {
    (0..count)
        .map(|i| {
            let port = if port == 0 { 0 } else { port + i as u16 };
            let address = SocketAddr::new(ip, port);
            let listener = std::net::TcpListener::bind(address)
                .map_err(|source| StartError::Bind { address, source })?;
            listener.set_nonblocking(true)?;
            Ok(listener)
        })
        .collect()
}
