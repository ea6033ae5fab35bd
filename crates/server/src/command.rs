//! Execution of one single-record command (get, exists, put, delete, touch, operate)
//! against the store, with the real server's semantics for generation, TTL, record-exists
//! policies and RESPOND_ALL_OPS. Batch rows run through the same function.

use super::codec::*;
use super::store::{Digest, Particle, Record, Shard, Store, next_generation, void_time_for};

/// Result codes the server returns (`result_code.rs` in the client).
pub mod rc {
    pub const OK: u8 = 0;
    pub const KEY_NOT_FOUND: u8 = 2;
    pub const GENERATION: u8 = 3;
    pub const PARAMETER: u8 = 4;
    pub const KEY_EXISTS: u8 = 5;
    pub const BIN_TYPE: u8 = 12;
    pub const UNSUPPORTED_FEATURE: u8 = 16;
    pub const NAMESPACE_NOT_FOUND: u8 = 20;
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
    /// Builds a command from a single-record message; `None` if namespace or digest is
    /// missing or malformed.
    pub fn from_message(msg: &Message<'a>) -> Option<Self> {
        let digest = msg.field(FIELD_DIGEST)?.try_into().ok()?;
        Some(Command {
            info1: msg.header.info1,
            info2: msg.header.info2,
            info3: msg.header.info3,
            generation: msg.header.generation,
            record_ttl: msg.header.record_ttl,
            namespace: msg.field(FIELD_NAMESPACE)?,
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
    let outcome = match store.namespace(cmd.namespace) {
        None => Outcome::error(rc::NAMESPACE_NOT_FOUND),
        Some(ns) => {
            let mut shard = ns.shard(&cmd.digest);
            if cmd.info2 & INFO2_WRITE != 0 {
                write(cmd, &mut shard, out)
            } else {
                read(cmd, &mut shard, out)
            }
        }
    };
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
    outcome.rc
}

fn read(cmd: &Command<'_>, shard: &mut Shard<'_>, out: &mut Vec<u8>) -> Outcome {
    let Some(record) = shard.get(&cmd.digest) else {
        return Outcome::error(rc::KEY_NOT_FOUND);
    };
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
    let now = shard.now;
    let existing = shard.get(&cmd.digest);
    if let Err(code) = check_preconditions(cmd, existing) {
        return Outcome::error(code);
    }
    if cmd.info2 & INFO2_DELETE != 0 {
        let removed = shard.remove(&cmd.digest).unwrap_or_default();
        return Outcome::ok(&removed, 0);
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
    record.generation = next_generation(stored_generation);
    record.void_time = void_time_for(cmd.record_ttl, stored_void_time, now);
    let outcome = Outcome::ok(&record, n_ops);
    if record.bins.is_empty() {
        shard.remove(&cmd.digest);
    } else {
        shard.insert(cmd.digest, record);
    }
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
            OP_TOUCH => continue,
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

fn particle_of(op: &Op<'_>) -> Particle {
    Particle {
        particle: op.particle,
        bytes: op.value.to_vec(),
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
