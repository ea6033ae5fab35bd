//! Listeners and connections: accepts clients per node, reads one framed request at a
//! time, dispatches it, and writes the reply.
//!
//! A frame with a bad header (version, type or size) closes only its own connection, with a
//! log line; a well-framed message that does not parse is answered with PARAMETER_ERROR.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::batch;
use super::cluster::partition_of;
use super::codec::*;
use super::command::{Command, execute, rc, refuse, refuse_unsupported};
use super::info;
use super::service_time::Request;
use super::stats::bump;
use super::{ConnectionError, Shared, StartError};

/// How long the rest of a frame may take to arrive once its header has.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections for node `node` until `stop` fires; every connection closes when
/// `cuts` changes. Each connection runs on the next of `workers` in turn, or on the
/// current runtime when there are none.
pub async fn serve_node(
    node: usize,
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    cuts: watch::Receiver<u64>,
    workers: Arc<[Handle]>,
) {
    let open = Arc::new(AtomicUsize::new(0));
    let mut turn = 0usize;
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
        // A worker's runtime has its own I/O driver: the socket moves there unregistered.
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        bump(&shared.stats.connections, 1);
        bump(&shared.stats.connections_by_node[node], 1);
        open.fetch_add(1, Ordering::Relaxed);
        let (shared, open, mut cut) = (shared.clone(), open.clone(), cuts.clone());
        // Only a cut after this accept closes the connection.
        cut.mark_unchanged();
        let served = async move {
            if let Ok(stream) = TcpStream::from_std(stream)
                && let Err(reason) = serve_connection(node, stream, &shared, cut).await
            {
                bump(&shared.stats.malformed, 1);
                eprintln!("aerobench-server: node {node}: closing {peer}: {reason}");
            }
            open.fetch_sub(1, Ordering::Relaxed);
        };
        turn = turn.wrapping_add(1);
        match workers.get(turn % workers.len().max(1)) {
            Some(worker) => drop(worker.spawn(served)),
            None => drop(tokio::spawn(served)),
        }
    }
}

/// Serves one connection; `Err` names a protocol violation that closed it. A peer that
/// hangs up, or a cut (the node killed, or its connections dropped), ends it with `Ok`.
async fn serve_connection(
    node: usize,
    stream: TcpStream,
    shared: &Shared,
    mut cut: watch::Receiver<u64>,
) -> Result<(), ConnectionError> {
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().ok();
    // One wait on `cut` for the connection's life: re-arming it per request would take
    // the channel's lock twice per request.
    tokio::select! {
        _ = cut.changed() => Ok(()),
        served = serve_frames(node, stream, shared, peer) => served,
    }
}

/// The request loop: reads into one buffer and answers each frame straight from it, so a
/// request that arrived whole (the usual case) costs one read, one write and no copy.
async fn serve_frames(
    node: usize,
    mut stream: TcpStream,
    shared: &Shared,
    peer: Option<SocketAddr>,
) -> Result<(), ConnectionError> {
    let mut input = Input::default();
    let mut out = Vec::with_capacity(4096);
    loop {
        if !input.fill(&mut stream, 8).await {
            return Ok(());
        }
        let mut header = [0; 8];
        header.copy_from_slice(&input.pending()[..8]);
        let proto = ProtoHeader::parse(header);
        proto.validate(shared.max_frame)?;
        let frame = 8 + proto.size as usize;
        if input.pending().len() < frame {
            let deadline = tokio::time::Instant::now() + BODY_TIMEOUT;
            match tokio::time::timeout_at(deadline, input.fill(&mut stream, frame)).await {
                Ok(true) => {}
                Ok(false) => return Err(ConnectionError::CutMidFrame(peer)),
                Err(_) => return Err(ConnectionError::SlowBody(BODY_TIMEOUT)),
            }
        }
        // A hung node has read the request and never answers it; once healed, it drops a
        // request it held past its deadline instead of applying it.
        let held = shared.while_hung(node).await;
        // The frame is complete: the server's share of this request starts here.
        let start = Instant::now();
        out.clear();
        let body = &input.pending()[8..frame];
        let served = match held.is_some_and(|since| expired(proto.msg_type, body, since)) {
            true => {
                bump(&shared.stats.expired, 1);
                let batch = body.get(1).is_some_and(|info1| info1 & INFO1_BATCH != 0);
                refusal(batch, rc::TIMEOUT, &mut out);
                None
            }
            false => shared.answer(node, proto.msg_type, body, &mut out),
        };
        input.consume(frame);
        shared.delay(node).await;
        if stream.write_all(&out).await.is_err() {
            return Ok(());
        }
        if let Some(request) = served {
            shared
                .stats
                .service_time
                .record(node, request, start.elapsed());
        }
        bump(&shared.stats.bytes_in, frame as u64);
        bump(&shared.stats.bytes_out, out.len() as u64);
    }
}

/// A connection's read buffer: bytes `start..end` are received and not yet answered.
struct Input {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Default for Input {
    fn default() -> Self {
        Input {
            buf: vec![0; 64 * 1024],
            start: 0,
            end: 0,
        }
    }
}

impl Input {
    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
    }

    /// Reads until at least `want` bytes are pending; false if the peer closed (or the
    /// read failed) first.
    async fn fill(&mut self, stream: &mut TcpStream, want: usize) -> bool {
        while self.end - self.start < want {
            if self.buf.len() - self.start < want {
                // Make room: move the pending bytes to the front, growing for a large frame.
                self.buf.copy_within(self.start..self.end, 0);
                (self.start, self.end) = (0, self.end - self.start);
                if self.buf.len() < want {
                    self.buf.resize(want, 0);
                }
            }
            match stream.read(&mut self.buf[self.end..]).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => self.end += n,
            }
        }
        true
    }
}

/// Answers one request body into `out` (complete frames); returns the record request it
/// served, if it was one.
pub(super) fn dispatch(
    node: usize,
    msg_type: u8,
    body: &[u8],
    shared: &Shared,
    out: &mut Vec<u8>,
) -> Option<Request> {
    match msg_type {
        TYPE_INFO => {
            bump(&shared.stats.info, 1);
            let frame = begin_frame(out);
            out.extend_from_slice(&info::answer(body, node, &shared.cluster, &shared.stats));
            finish_frame(out, frame, TYPE_INFO);
        }
        TYPE_ADMIN => security_refusal(out),
        TYPE_COMPRESSED => single_reply(out, |out| refuse(rc::ENTERPRISE_ONLY, 0, out)),
        _ => return command_reply(node, body, shared, out),
    }
    None
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

/// Answers one AS_MSG body: a single-record command or a batch. Returns what it served;
/// `None` for a message refused before its kind was known.
fn command_reply(node: usize, body: &[u8], shared: &Shared, out: &mut Vec<u8>) -> Option<Request> {
    let Ok(msg) = Message::decode(body) else {
        single_reply(out, |out| refuse(rc::PARAMETER, 0, out));
        return None;
    };
    let batch = msg.header.info1 & INFO1_BATCH != 0;
    if let Some(code) = shared.injected_error(node) {
        refusal(batch, code, out);
        return None;
    }
    if batch {
        batch_reply(node, &msg, shared, out);
        return Some(Request::Batch);
    }
    let command = match Command::from_message(&msg) {
        Ok(command) => command,
        Err(code) => {
            single_reply(out, |out| refuse(code, 0, out));
            return None;
        }
    };
    note_command(node, &command, shared);
    single_reply(out, |out| {
        execute(&command, &shared.store, 0, out);
    });
    Some(Request::Single(command.kind()))
}

/// Whether the AS_MSG `body`, complete since `since`, has outlived its transaction_ttl
/// (message header bytes 14..18, in ms; 0 = none). asd drops such a transaction unapplied
/// and answers TIMEOUT: its client has given up on it, and applying it now could overwrite
/// a write the client acknowledged since. Only a hang holds a complete request before it is
/// served here (a slow node delays the reply, after applying), so only held requests are
/// checked and the usual path reads no extra clock.
fn expired(msg_type: u8, body: &[u8], since: Instant) -> bool {
    let ttl_ms = match (msg_type, body.get(14..18)) {
        (TYPE_MSG, Some(ttl)) => u32::from_be_bytes(ttl.try_into().expect("4 bytes")),
        _ => 0,
    };
    ttl_ms > 0 && since.elapsed() > Duration::from_millis(ttl_ms.into())
}

/// A message's refusal with `code`: the batch stream's LAST message, or a single reply.
fn refusal(batch: bool, code: u8, out: &mut Vec<u8>) {
    match batch {
        true => batch::last_message(out, code),
        false => single_reply(out, |out| refuse(code, 0, out)),
    }
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
            bind_listener(SocketAddr::new(ip, port))
        })
        .collect()
}

/// A non-blocking listener on `address`.
pub fn bind_listener(address: SocketAddr) -> Result<std::net::TcpListener, StartError> {
    let listener = std::net::TcpListener::bind(address)
        .map_err(|source| StartError::Bind { address, source })?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}
