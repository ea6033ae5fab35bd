//! Execution of one single-record command (get, exists, put, delete, touch, operate)
//! against the store, with the real server's semantics for generation, TTL, record-exists
//! policies and RESPOND_ALL_OPS. Batch rows run through the same function.

use super::codec::*;
use super::msgpack::sort_map;
use super::store::{
    Digest, MAX_RECORD_SIZE, Particle, Record, Shard, Store, next_generation, void_time_for,
};

/// Result codes the server returns (`result_code.rs` in the client).
pub mod rc {
    pub const OK: u8 = 0;
    pub const KEY_NOT_FOUND: u8 = 2;
    pub const GENERATION: u8 = 3;
    pub const PARAMETER: u8 = 4;
    pub const KEY_EXISTS: u8 = 5;
    /// A transaction dropped unapplied because its deadline passed before it was served.
    pub const TIMEOUT: u8 = 9;
    pub const BIN_TYPE: u8 = 12;
    pub const RECORD_TOO_BIG: u8 = 13;
    pub const UNSUPPORTED_FEATURE: u8 = 16;
    /// Community Edition's answer to a compressed request.
    pub const ENTERPRISE_ONLY: u8 = 25;
    pub const NAMESPACE_NOT_FOUND: u8 = 20;
    /// The answer to any security message: like Community Edition, this server has none.
    pub const SECURITY_NOT_SUPPORTED: u8 = 51;
}

/// Refuses a message carrying a field this server does not implement (filter expression,
/// UDF, scan or query, transaction): run without it, the command would do something other
/// than what the client asked, so it is answered UNSUPPORTED_FEATURE instead.
pub fn refuse_unsupported(mut field_types: impl Iterator<Item = u8>) -> Result<(), u8> {
    let supported = |t| matches!(t, FIELD_NAMESPACE | FIELD_SET | FIELD_KEY | FIELD_DIGEST);
    match field_types.all(supported) {
        true => Ok(()),
        false => Err(rc::UNSUPPORTED_FEATURE),
    }
}

/// What kind of client call a command is, for statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Get,
    Exists,
    Put,
    Delete,
    Touch,
    Operate,
}

/// One record command, from a single-record message or a batch row.
#[derive(Debug, Clone)]
pub struct Command<'a> {
    pub info1: u8,
    pub info2: u8,
    pub info3: u8,
    pub generation: u32,
    pub record_ttl: u32,
    pub namespace: &'a [u8],
    pub digest: Digest,
    pub ops: Vec<Op<'a>>,
}

impl<'a> Command<'a> {
    /// Builds a command from a single-record message; the error is the result code to
    /// answer: UNSUPPORTED_FEATURE (see [`refuse_unsupported`]), or PARAMETER when the
    /// namespace or digest is missing or malformed.
    pub fn from_message(msg: &Message<'a>) -> Result<Self, u8> {
        refuse_unsupported(msg.fields.iter().map(|f| f.field_type))?;
        let field = |field_type| msg.field(field_type).ok_or(rc::PARAMETER);
        let digest = field(FIELD_DIGEST)?.try_into().map_err(|_| rc::PARAMETER)?;
        Ok(Command {
            info1: msg.header.info1,
            info2: msg.header.info2,
            info3: msg.header.info3,
            generation: msg.header.generation,
            record_ttl: msg.header.record_ttl,
            namespace: field(FIELD_NAMESPACE)?,
            digest,
            ops: msg.ops.clone(),
        })
    }

    pub fn kind(&self) -> Kind {
        let writes = self.info2 & INFO2_WRITE != 0;
        match (writes, self.info2 & INFO2_DELETE != 0) {
            (true, true) => Kind::Delete,
            (true, _) if self.info1 & INFO1_READ != 0 => Kind::Operate,
            (true, _) if self.ops.len() == 1 && self.ops[0].op_type == OP_TOUCH => Kind::Touch,
            (true, _) => Kind::Put,
            (false, _) if self.info1 & INFO1_NOBINDATA != 0 && self.ops.is_empty() => Kind::Exists,
            (false, _) => Kind::Get,
        }
    }

    fn respond_all(&self) -> bool {
        self.info2 & INFO2_RESPOND_ALL_OPS != 0
    }
}

/// Header values of a reply.
struct Outcome {
    rc: u8,
    generation: u32,
    void_time: u32,
    n_ops: u16,
}

impl Outcome {
    fn error(rc: u8) -> Self {
        Outcome {
            rc,
            generation: 0,
            void_time: 0,
            n_ops: 0,
        }
    }

    fn ok(record: &Record, n_ops: u16) -> Self {
        Outcome {
            rc: rc::OK,
            generation: record.generation.into(),
            void_time: record.void_time,
            n_ops,
        }
    }
}

/// Executes `cmd` and appends its reply (22-byte header and ops) to `out`. `index` goes
/// into the header's transaction-ttl slot, where batch replies carry the row index.
/// Returns the result code.
pub fn execute(cmd: &Command<'_>, store: &Store, index: u32, out: &mut Vec<u8>) -> u8 {
    let start = out.len();
    out.resize(start + MSG_HEADER_LEN, 0);
    let outcome = run(cmd, store, out);
    finish_reply(out, start, &outcome, index);
    outcome.rc
}

/// Appends the reply of a command refused before it ran: result code `code`, no ops.
pub fn refuse(code: u8, index: u32, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + MSG_HEADER_LEN, 0);
    finish_reply(out, start, &Outcome::error(code), index);
}

fn run(cmd: &Command<'_>, store: &Store, out: &mut Vec<u8>) -> Outcome {
    match store.namespace(cmd.namespace) {
        None => Outcome::error(rc::NAMESPACE_NOT_FOUND),
        Some(ns) => {
            let mut shard = ns.shard(&cmd.digest);
            if cmd.info2 & INFO2_WRITE != 0 {
                write(cmd, &mut shard, out)
            } else {
                read(cmd, &mut shard, out)
            }
        }
    }
}

/// Writes the header reserved at `start`; a failed command's reply carries no ops.
fn finish_reply(out: &mut Vec<u8>, start: usize, outcome: &Outcome, index: u32) {
    let n_ops = if outcome.rc == rc::OK {
        outcome.n_ops
    } else {
        out.truncate(start + MSG_HEADER_LEN);
        0
    };
    let header = MsgHeader {
        result_code: outcome.rc,
        generation: outcome.generation,
        record_ttl: outcome.void_time,
        transaction_ttl: index,
        n_ops,
        ..MsgHeader::default()
    };
    header.write_at(&mut out[start..start + MSG_HEADER_LEN]);
}

/// A read, answered from the record as found, then read-touch (see [`read_touch`]).
fn read(cmd: &Command<'_>, shard: &mut Shard<'_>, out: &mut Vec<u8>) -> Outcome {
    let now_ms = shard.now_ms;
    let Some(record) = shard.get_mut(&cmd.digest) else {
        return Outcome::error(rc::KEY_NOT_FOUND);
    };
    let outcome = read_record(cmd, record, out);
    if outcome.rc == rc::OK {
        read_touch(cmd.record_ttl, record, now_ms);
    }
    outcome
}

/// Read-touch (server 8): a read's `record_ttl` is a percentage; 1 to 100 touches the
/// record when at most that share of the TTL last set is left, restoring that TTL. As on
/// the real server, the reply shows the record before the touch and the generation stays.
/// 0 is the namespace default, off as in the default configuration; `u32::MAX` never
/// touches.
fn read_touch(percent: u32, record: &mut Record, now_ms: u64) {
    if !(1..=100).contains(&percent) || record.void_time == 0 {
        return;
    }
    let ttl = u64::from(record.void_time).saturating_sub(record.last_update_ms / 1000);
    let left_ms = (u64::from(record.void_time) * 1000).saturating_sub(now_ms);
    if left_ms * 100 > ttl * 1000 * u64::from(percent) {
        return;
    }
    record.void_time = (now_ms / 1000 + ttl) as u32;
    record.last_update_ms = now_ms;
}

fn read_record(cmd: &Command<'_>, record: &Record, out: &mut Vec<u8>) -> Outcome {
    if cmd.info1 & INFO1_NOBINDATA != 0 {
        return Outcome::ok(record, 0);
    }
    if cmd.ops.is_empty() {
        if cmd.info1 & INFO1_GET_ALL == 0 {
            return Outcome::error(rc::PARAMETER);
        }
        return Outcome::ok(record, emit_all_bins(record, out));
    }
    let mut n_ops = 0;
    for op in &cmd.ops {
        if op.op_type != OP_READ {
            return Outcome::error(rc::UNSUPPORTED_FEATURE);
        }
        n_ops += emit_read(record, op, cmd, out);
    }
    Outcome::ok(record, n_ops)
}

fn write(cmd: &Command<'_>, shard: &mut Shard<'_>, out: &mut Vec<u8>) -> Outcome {
    let (now, now_ms) = (shard.now(), shard.now_ms);
    let existing = shard.get(&cmd.digest);
    if let Err(code) = check_preconditions(cmd, existing) {
        return Outcome::error(code);
    }
    if cmd.info2 & INFO2_DELETE != 0 {
        shard.remove(&cmd.digest);
        return Outcome::ok(&Record::default(), 0);
    }
    let replace = cmd.info3 & (INFO3_CREATE_OR_REPLACE | INFO3_REPLACE_ONLY) != 0;
    let (stored_generation, stored_void_time) =
        existing.map_or((0, 0), |r| (r.generation, r.void_time));
    let mut record = match existing {
        Some(r) if !replace => r.clone(),
        _ => Record::default(),
    };
    let n_ops = match apply_ops(cmd, &mut record, out) {
        Ok(n) => n,
        Err(code) => return Outcome::error(code),
    };
    if record.stored_size() > MAX_RECORD_SIZE {
        return Outcome::error(rc::RECORD_TOO_BIG);
    }
    if record.bins.is_empty() {
        // A write that leaves no bin deletes the record; like a delete, it answers
        // generation 0.
        shard.remove(&cmd.digest);
        return Outcome::ok(&Record::default(), n_ops);
    }
    record.generation = next_generation(stored_generation);
    record.void_time = void_time_for(cmd.record_ttl, stored_void_time, now);
    record.last_update_ms = now_ms;
    let outcome = Outcome::ok(&record, n_ops);
    shard.insert(cmd.digest, record);
    outcome
}

/// Generation and record-exists policies, checked before any op runs.
fn check_preconditions(cmd: &Command<'_>, existing: Option<&Record>) -> Result<(), u8> {
    let stored_generation = existing.map_or(0, |r| u32::from(r.generation));
    let exists = existing.is_some();
    let must_exist = cmd.info2 & INFO2_DELETE != 0
        || cmd.info3 & (INFO3_UPDATE_ONLY | INFO3_REPLACE_ONLY) != 0
        || cmd.ops.iter().any(|op| op.op_type == OP_TOUCH);
    if must_exist && !exists {
        return Err(rc::KEY_NOT_FOUND);
    }
    if cmd.info2 & INFO2_CREATE_ONLY != 0 && exists {
        return Err(rc::KEY_EXISTS);
    }
    if cmd.info2 & INFO2_GENERATION != 0 && cmd.generation != stored_generation {
        return Err(rc::GENERATION);
    }
    if cmd.info2 & INFO2_GENERATION_GT != 0 && cmd.generation <= stored_generation {
        return Err(rc::GENERATION);
    }
    let delete = cmd.info2 & INFO2_DELETE != 0;
    let read_all_with_respond_all = cmd.info1 & INFO1_GET_ALL != 0 && cmd.respond_all();
    if (!delete && cmd.ops.is_empty()) || read_all_with_respond_all {
        return Err(rc::PARAMETER);
    }
    Ok(())
}

/// Runs the ops of a write in order on `record`, appending reply ops; returns their count.
fn apply_ops(cmd: &Command<'_>, record: &mut Record, out: &mut Vec<u8>) -> Result<u16, u8> {
    let mut n_ops = 0;
    for op in &cmd.ops {
        match op.op_type {
            OP_READ => {
                n_ops += emit_read(record, op, cmd, out);
                continue;
            }
            OP_TOUCH => {}
            OP_WRITE if op.particle == PARTICLE_NULL => record.remove_bin(op.name),
            OP_WRITE => record.set_bin(op.name, particle_of(op)),
            OP_INCR => increment(record, op)?,
            OP_APPEND | OP_PREPEND => concatenate(record, op)?,
            OP_DELETE => record.bins.clear(),
            _ => return Err(rc::UNSUPPORTED_FEATURE),
        }
        if cmd.respond_all() {
            encode_op(out, op.op_type, PARTICLE_NULL, op.name, &[]);
            n_ops += 1;
        }
    }
    Ok(n_ops)
}

/// The value an op writes; a map is stored sorted by key, as the real server keeps it.
fn particle_of(op: &Op<'_>) -> Particle {
    let sorted = match op.particle {
        PARTICLE_MAP => sort_map(op.value),
        _ => None,
    };
    Particle {
        particle: op.particle,
        bytes: sorted.unwrap_or_else(|| op.value.to_vec()),
    }
}

fn eight_bytes(bytes: &[u8]) -> Result<[u8; 8], u8> {
    bytes.try_into().map_err(|_| rc::PARAMETER)
}

/// INCR: integer or float add; creates a missing bin; a type mismatch is a bin type error.
fn increment(record: &mut Record, op: &Op<'_>) -> Result<(), u8> {
    let delta = eight_bytes(op.value)?;
    let Some(bin) = record.bin_mut(op.name) else {
        record.set_bin(op.name, particle_of(op));
        return Ok(());
    };
    if bin.particle != op.particle {
        return Err(rc::BIN_TYPE);
    }
    let current = eight_bytes(&bin.bytes)?;
    let sum = match op.particle {
        PARTICLE_INTEGER => i64::from_be_bytes(current)
            .wrapping_add(i64::from_be_bytes(delta))
            .to_be_bytes(),
        PARTICLE_FLOAT => (f64::from_be_bytes(current) + f64::from_be_bytes(delta)).to_be_bytes(),
        _ => return Err(rc::BIN_TYPE),
    };
    bin.bytes = sum.to_vec();
    Ok(())
}

/// APPEND / PREPEND on a string or blob bin of the same type; creates a missing bin.
fn concatenate(record: &mut Record, op: &Op<'_>) -> Result<(), u8> {
    if op.particle != PARTICLE_STRING && op.particle != PARTICLE_BLOB {
        return Err(rc::BIN_TYPE);
    }
    let Some(bin) = record.bin_mut(op.name) else {
        record.set_bin(op.name, particle_of(op));
        return Ok(());
    };
    if bin.particle != op.particle {
        return Err(rc::BIN_TYPE);
    }
    if op.op_type == OP_APPEND {
        bin.bytes.extend_from_slice(op.value);
    } else {
        bin.bytes.splice(0..0, op.value.iter().copied());
    }
    Ok(())
}

/// A READ op: all bins for an empty name with GET_ALL, nothing for an empty name
/// otherwise (header only), the named bin, or nil for a missing bin under
/// RESPOND_ALL_OPS.
fn emit_read(record: &Record, op: &Op<'_>, cmd: &Command<'_>, out: &mut Vec<u8>) -> u16 {
    if op.name.is_empty() {
        return if cmd.info1 & INFO1_GET_ALL != 0 {
            emit_all_bins(record, out)
        } else {
            0
        };
    }
    match record.bin(op.name) {
        Some(value) => {
            encode_op(out, OP_READ, value.particle, op.name, &value.bytes);
            1
        }
        None if cmd.respond_all() => {
            encode_op(out, OP_READ, PARTICLE_NULL, op.name, &[]);
            1
        }
        None => 0,
    }
}

fn emit_all_bins(record: &Record, out: &mut Vec<u8>) -> u16 {
    for (name, value) in &record.bins {
        encode_op(out, OP_READ, value.particle, name, &value.bytes);
    }
    record.bins.len() as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd<'a>(info1: u8, info2: u8, ops: Vec<Op<'a>>) -> Command<'a> {
        Command {
            info1,
            info2,
            info3: 0,
            generation: 0,
            record_ttl: 0,
            namespace: b"test",
            digest: [1; 20],
            ops,
        }
    }

    fn op<'a>(op_type: u8, particle: u8, name: &'a [u8], value: &'a [u8]) -> Op<'a> {
        Op {
            op_type,
            particle,
            name,
            value,
        }
    }

    fn run(store: &Store, c: &Command<'_>) -> (MsgHeader, Vec<Op<'static>>) {
        let mut out = Vec::new();
        execute(c, store, 0, &mut out);
        let out: &'static [u8] = Box::leak(out.into_boxed_slice());
        let msg = Message::decode(out).unwrap();
        (msg.header, msg.ops)
    }

    const ONE: [u8; 8] = 1i64.to_be_bytes();

    #[test]
    fn put_get_increment_delete() {
        let store = Store::new(&["test"]);
        let put = cmd(
            0,
            INFO2_WRITE,
            vec![op(OP_WRITE, PARTICLE_INTEGER, b"a", &ONE)],
        );
        assert_eq!(run(&store, &put).0.generation, 1);
        let add = cmd(
            INFO1_READ,
            INFO2_WRITE | INFO2_RESPOND_ALL_OPS,
            vec![
                op(OP_INCR, PARTICLE_INTEGER, b"a", &ONE),
                op(OP_READ, PARTICLE_NULL, b"a", &[]),
            ],
        );
        let (h, ops) = run(&store, &add);
        assert_eq!((h.result_code, h.generation, h.n_ops), (rc::OK, 2, 2));
        assert_eq!(ops[0].particle, PARTICLE_NULL);
        assert_eq!(ops[1].value, 2i64.to_be_bytes());
        let get = cmd(INFO1_READ | INFO1_GET_ALL, 0, vec![]);
        assert_eq!(run(&store, &get).0.n_ops, 1);
        let del = cmd(0, INFO2_WRITE | INFO2_DELETE, vec![]);
        assert_eq!(run(&store, &del).0.result_code, rc::OK);
        assert_eq!(run(&store, &del).0.result_code, rc::KEY_NOT_FOUND);
        assert_eq!(run(&store, &get).0.result_code, rc::KEY_NOT_FOUND);
    }

    #[test]
    fn policies_and_type_errors() {
        let store = Store::new(&["test"]);
        let s = cmd(
            0,
            INFO2_WRITE,
            vec![op(OP_WRITE, PARTICLE_STRING, b"s", b"x")],
        );
        run(&store, &s);
        let mut create = s.clone();
        create.info2 |= INFO2_CREATE_ONLY;
        assert_eq!(run(&store, &create).0.result_code, rc::KEY_EXISTS);
        let mut gen_check = s.clone();
        gen_check.info2 |= INFO2_GENERATION;
        gen_check.generation = 9;
        assert_eq!(run(&store, &gen_check).0.result_code, rc::GENERATION);
        let incr = cmd(
            0,
            INFO2_WRITE,
            vec![op(OP_INCR, PARTICLE_INTEGER, b"s", &ONE)],
        );
        assert_eq!(run(&store, &incr).0.result_code, rc::BIN_TYPE);
        let prepend = cmd(
            0,
            INFO2_WRITE,
            vec![op(OP_PREPEND, PARTICLE_STRING, b"s", b"w")],
        );
        run(&store, &prepend);
        let read = cmd(INFO1_READ, 0, vec![op(OP_READ, 0, b"s", &[])]);
        assert_eq!(run(&store, &read).1[0].value, b"wx");
        let unknown_ns = Command {
            namespace: b"nope",
            ..read
        };
        assert_eq!(
            run(&store, &unknown_ns).0.result_code,
            rc::NAMESPACE_NOT_FOUND
        );
    }

    #[test]
    fn classifies_commands() {
        assert_eq!(cmd(INFO1_READ | INFO1_GET_ALL, 0, vec![]).kind(), Kind::Get);
        assert_eq!(
            cmd(INFO1_READ | INFO1_NOBINDATA, 0, vec![]).kind(),
            Kind::Exists
        );
        assert_eq!(
            cmd(0, INFO2_WRITE | INFO2_DELETE, vec![]).kind(),
            Kind::Delete
        );
        let touch = vec![op(OP_TOUCH, 0, b"", &[])];
        assert_eq!(cmd(0, INFO2_WRITE, touch).kind(), Kind::Touch);
    }
}
