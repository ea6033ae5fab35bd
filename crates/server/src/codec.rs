//! Byte-level encoding of the Aerospike wire protocol: the 8-byte proto header, the 22-byte
//! message header, fields and ops.
//!
//! Decoding never panics: every read goes through [`Reader`], which returns
//! [`DecodeError`] when the input is short or inconsistent. Encoding appends to a `Vec<u8>`
//! and patches sizes afterwards, so a response is built in one buffer without copies.

use std::fmt;

/// Protocol version carried in every proto header.
pub const PROTO_VERSION: u8 = 2;
/// Proto message type: text info request or reply.
pub const TYPE_INFO: u8 = 1;
/// Proto message type: security (login, user admin); a server without security refuses it.
pub const TYPE_ADMIN: u8 = 2;
/// Proto message type: AS_MSG data command.
pub const TYPE_MSG: u8 = 3;
/// Proto message type: an AS_MSG compressed with zlib, prefixed by its inflated size.
pub const TYPE_COMPRESSED: u8 = 4;
/// Length of the AS_MSG header that follows the proto header.
pub const MSG_HEADER_LEN: usize = 22;

/// info1 bits.
pub const INFO1_READ: u8 = 0x01;
pub const INFO1_GET_ALL: u8 = 0x02;
pub const INFO1_BATCH: u8 = 0x08;
pub const INFO1_NOBINDATA: u8 = 0x20;
/// info2 bits.
pub const INFO2_WRITE: u8 = 0x01;
pub const INFO2_DELETE: u8 = 0x02;
pub const INFO2_GENERATION: u8 = 0x04;
pub const INFO2_GENERATION_GT: u8 = 0x08;
pub const INFO2_CREATE_ONLY: u8 = 0x20;
pub const INFO2_RESPOND_ALL_OPS: u8 = 0x80;
/// info3 bits.
pub const INFO3_LAST: u8 = 0x01;
pub const INFO3_UPDATE_ONLY: u8 = 0x08;
pub const INFO3_CREATE_OR_REPLACE: u8 = 0x10;
pub const INFO3_REPLACE_ONLY: u8 = 0x20;

/// Field types the server reads.
pub const FIELD_NAMESPACE: u8 = 0;
pub const FIELD_SET: u8 = 1;
/// The user key, sent with `send_key`; stored by the real server, ignored here.
pub const FIELD_KEY: u8 = 2;
pub const FIELD_DIGEST: u8 = 4;
pub const FIELD_BATCH_INDEX: u8 = 41;

/// Op types the server executes.
pub const OP_READ: u8 = 1;
pub const OP_WRITE: u8 = 2;
pub const OP_INCR: u8 = 5;
pub const OP_APPEND: u8 = 9;
pub const OP_PREPEND: u8 = 10;
pub const OP_TOUCH: u8 = 11;
pub const OP_DELETE: u8 = 14;

/// Particle types the server interprets (all others are stored opaquely).
pub const PARTICLE_NULL: u8 = 0;
pub const PARTICLE_INTEGER: u8 = 1;
pub const PARTICLE_FLOAT: u8 = 2;
pub const PARTICLE_STRING: u8 = 3;
pub const PARTICLE_BLOB: u8 = 4;
pub const PARTICLE_MAP: u8 = 19;

/// Why a byte sequence is not a valid message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

fn err<T>(msg: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(msg.into()))
}

/// The 8-byte header that frames every message in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtoHeader {
    pub version: u8,
    pub msg_type: u8,
    pub size: u64,
}

impl ProtoHeader {
    pub fn parse(bytes: [u8; 8]) -> Self {
        let word = u64::from_be_bytes(bytes);
        ProtoHeader {
            version: bytes[0],
            msg_type: bytes[1],
            size: word & 0xFFFF_FFFF_FFFF,
        }
    }

    /// The header's wire form: version, type, then the body size in 48 bits.
    pub fn to_bytes(&self) -> [u8; 8] {
        let word = (u64::from(self.version) << 56)
            | (u64::from(self.msg_type) << 48)
            | (self.size & 0xFFFF_FFFF_FFFF);
        word.to_be_bytes()
    }

    /// Checks what a server accepts: version 2, an info, admin, AS_MSG or compressed
    /// AS_MSG type, and a body no larger than `max_size`.
    pub fn validate(&self, max_size: u64) -> Result<(), DecodeError> {
        if self.version != PROTO_VERSION {
            return err(format!("proto version {} (expected 2)", self.version));
        }
        if !(TYPE_INFO..=TYPE_COMPRESSED).contains(&self.msg_type) {
            return err(format!("unsupported proto type {}", self.msg_type));
        }
        if self.size > max_size {
            return err(format!(
                "frame of {} bytes exceeds the {max_size}-byte limit",
                self.size
            ));
        }
        Ok(())
    }
}

/// A bounds-checked cursor over a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return err(format!(
                "truncated: need {n} bytes at offset {}, have {}",
                self.pos,
                self.remaining()
            ));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn digest(&mut self) -> Result<[u8; 20], DecodeError> {
        self.array()
    }
}

/// The 22-byte AS_MSG header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MsgHeader {
    pub info1: u8,
    pub info2: u8,
    pub info3: u8,
    pub info4: u8,
    pub result_code: u8,
    pub generation: u32,
    pub record_ttl: u32,
    pub transaction_ttl: u32,
    pub n_fields: u16,
    pub n_ops: u16,
}

impl MsgHeader {
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header_sz = r.u8()?;
        if header_sz as usize != MSG_HEADER_LEN {
            return err(format!("message header size {header_sz} (expected 22)"));
        }
        Ok(MsgHeader {
            info1: r.u8()?,
            info2: r.u8()?,
            info3: r.u8()?,
            info4: r.u8()?,
            result_code: r.u8()?,
            generation: r.u32()?,
            record_ttl: r.u32()?,
            transaction_ttl: r.u32()?,
            n_fields: r.u16()?,
            n_ops: r.u16()?,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + MSG_HEADER_LEN, 0);
        self.write_at(&mut out[start..]);
    }

    /// Writes the header into the first 22 bytes of `slot` (space reserved earlier).
    pub fn write_at(&self, slot: &mut [u8]) {
        slot[..6].copy_from_slice(&[
            MSG_HEADER_LEN as u8,
            self.info1,
            self.info2,
            self.info3,
            self.info4,
            self.result_code,
        ]);
        slot[6..10].copy_from_slice(&self.generation.to_be_bytes());
        slot[10..14].copy_from_slice(&self.record_ttl.to_be_bytes());
        slot[14..18].copy_from_slice(&self.transaction_ttl.to_be_bytes());
        slot[18..20].copy_from_slice(&self.n_fields.to_be_bytes());
        slot[20..22].copy_from_slice(&self.n_ops.to_be_bytes());
    }
}

/// A tagged field: `u32 size`, `u8 type`, `size - 1` data bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    pub field_type: u8,
    pub data: &'a [u8],
}

impl<'a> Field<'a> {
    pub fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let size = r.u32()? as usize;
        if size == 0 {
            return err("field of size 0");
        }
        let field_type = r.u8()?;
        let data = r.bytes(size - 1)?;
        Ok(Field { field_type, data })
    }
}

/// One operation: `u32 size`, op type, particle type, flags, name length, name, value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op<'a> {
    pub op_type: u8,
    pub particle: u8,
    pub name: &'a [u8],
    pub value: &'a [u8],
}

impl<'a> Op<'a> {
    pub fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let size = r.u32()? as usize;
        if size < 4 {
            return err(format!("op of size {size} (minimum 4)"));
        }
        let op_type = r.u8()?;
        let particle = r.u8()?;
        let _flags = r.u8()?;
        let name_len = r.u8()? as usize;
        if name_len > size - 4 {
            return err(format!(
                "op name of {name_len} bytes overruns op of size {size}"
            ));
        }
        let name = r.bytes(name_len)?;
        let value = r.bytes(size - 4 - name_len)?;
        Ok(Op {
            op_type,
            particle,
            name,
            value,
        })
    }

    /// Appends this op in wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_op(out, self.op_type, self.particle, self.name, self.value);
    }
}

/// Appends one op without building an [`Op`] first.
pub fn encode_op(out: &mut Vec<u8>, op_type: u8, particle: u8, name: &[u8], value: &[u8]) {
    let name = &name[..name.len().min(255)];
    let size = (4 + name.len() + value.len()) as u32;
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&[op_type, particle, 0, name.len() as u8]);
    out.extend_from_slice(name);
    out.extend_from_slice(value);
}

/// Appends one field.
pub fn encode_field(out: &mut Vec<u8>, field_type: u8, data: &[u8]) {
    out.extend_from_slice(&((data.len() + 1) as u32).to_be_bytes());
    out.push(field_type);
    out.extend_from_slice(data);
}

/// A decoded AS_MSG: header, fields and ops borrowed from the frame body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub header: MsgHeader,
    pub fields: Vec<Field<'a>>,
    pub ops: Vec<Op<'a>>,
}

impl<'a> Message<'a> {
    /// Decodes a whole frame body; trailing bytes are an error, as on the real server.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let header = MsgHeader::decode(&mut r)?;
        let fields = (0..header.n_fields)
            .map(|_| Field::decode(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        let ops = (0..header.n_ops)
            .map(|_| Op::decode(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        if r.remaining() != 0 {
            return err(format!(
                "{} trailing bytes after the last op",
                r.remaining()
            ));
        }
        Ok(Message {
            header,
            fields,
            ops,
        })
    }

    pub fn field(&self, field_type: u8) -> Option<&'a [u8]> {
        self.fields
            .iter()
            .find(|f| f.field_type == field_type)
            .map(|f| f.data)
    }
}

/// Starts a proto frame in `out`; returns the offset to pass to [`finish_frame`].
pub fn begin_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0u8; 8]);
    start
}

/// Writes the proto header of the frame begun at `start`, sized to everything after it.
pub fn finish_frame(out: &mut [u8], start: usize, msg_type: u8) {
    let size = (out.len() - start - 8) as u64;
    let word = (u64::from(PROTO_VERSION) << 56) | (u64::from(msg_type) << 48) | size;
    out[start..start + 8].copy_from_slice(&word.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A put request as aerospike-core 3.0.0 writes it (namespace, set, digest, two bins).
    const PUT: &str = "16 00 01 00 00 00 00000000 00000000 000003e8 0003 0003 \
        00000005 00 74657374  00000004 01 736574 \
        00000015 04 82d7213b469812947c109a6d341e3b5b1dedec1f \
        0000000d 02 01 00 01 61 0000000000000001  00000007 02 03 00 01 73 6869 \
        0000000d 02 02 00 01 66 3ff8000000000000";

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_captured_put() {
        let body = hex(PUT);
        let msg = Message::decode(&body).unwrap();
        assert_eq!(msg.header.info2, INFO2_WRITE);
        assert_eq!(msg.header.transaction_ttl, 1000);
        assert_eq!(msg.field(FIELD_NAMESPACE), Some(&b"test"[..]));
        assert_eq!(msg.field(FIELD_SET), Some(&b"set"[..]));
        assert_eq!(msg.field(FIELD_DIGEST).map(<[u8]>::len), Some(20));
        let names: Vec<_> = msg.ops.iter().map(|o| o.name).collect();
        assert_eq!(names, [&b"a"[..], b"s", b"f"]);
        assert_eq!(msg.ops[1].value, b"hi");
        assert_eq!(msg.ops[2].particle, PARTICLE_FLOAT);
    }

    #[test]
    fn header_round_trips() {
        let h = MsgHeader {
            info1: 3,
            result_code: 2,
            generation: 7,
            record_ttl: 9,
            transaction_ttl: 1000,
            n_fields: 1,
            n_ops: 2,
            ..MsgHeader::default()
        };
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(out.len(), MSG_HEADER_LEN);
        assert_eq!(MsgHeader::decode(&mut Reader::new(&out)).unwrap(), h);
    }

    #[test]
    fn frame_size_is_patched() {
        let mut out = Vec::new();
        let start = begin_frame(&mut out);
        out.extend_from_slice(b"node\tA\n");
        finish_frame(&mut out, start, TYPE_INFO);
        let h = ProtoHeader::parse(out[..8].try_into().unwrap());
        assert_eq!((h.version, h.msg_type, h.size), (2, 1, 7));
    }

    #[test]
    fn op_round_trips() {
        let mut out = Vec::new();
        encode_op(&mut out, OP_WRITE, PARTICLE_STRING, b"bin", b"value");
        let op = Op::decode(&mut Reader::new(&out)).unwrap();
        assert_eq!((op.name, op.value), (&b"bin"[..], &b"value"[..]));
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        assert!(Message::decode(&[]).is_err());
        assert!(Message::decode(&[21; 22]).is_err());
        let mut body = hex(PUT);
        body.push(0);
        assert!(Message::decode(&body).is_err(), "trailing byte");
        let body = hex(PUT);
        assert!(
            Message::decode(&body[..body.len() - 1]).is_err(),
            "short op"
        );
        // An op whose name length overruns its own size.
        let bad_op = [0, 0, 0, 5, 2, 1, 0, 9, b'x'];
        assert!(Op::decode(&mut Reader::new(&bad_op)).is_err());
        assert!(Field::decode(&mut Reader::new(&[0, 0, 0, 0, 1])).is_err());
    }

    #[test]
    fn proto_header_limits() {
        let h = ProtoHeader::parse([2, 3, 0, 0, 0, 1, 0, 0]);
        assert!(h.validate(1 << 20).is_ok());
        assert!(h.validate(100).is_err());
        assert!(
            ProtoHeader::parse([3, 3, 0, 0, 0, 0, 0, 1])
                .validate(100)
                .is_err()
        );
        assert!(
            ProtoHeader::parse([2, 4, 0, 0, 0, 0, 0, 1])
                .validate(100)
                .is_ok()
        );
        assert!(
            ProtoHeader::parse([2, 5, 0, 0, 0, 0, 0, 1])
                .validate(100)
                .is_err()
        );
    }
}
