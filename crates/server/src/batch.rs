//! The batch-index protocol: a parent message whose field 41 holds many rows, each an
//! independent record command, answered by a stream of row messages carrying the echoed
//! row index and a final LAST message.
//!
//! Rows are fully parsed before any runs, so a malformed batch is rejected whole with one
//! LAST message carrying PARAMETER_ERROR rather than half-executed.

use super::codec::*;
use super::command::{Command, execute, rc, refuse, refuse_unsupported};
use super::store::Store;

/// Row flag bits.
const ROW_REPEAT: u8 = 0x01;
const ROW_INFO: u8 = 0x02;
const ROW_GEN: u8 = 0x04;
const ROW_TTL: u8 = 0x08;
const ROW_INFO4: u8 = 0x10;

/// Upper bound on rows, far above what clients send (the real server caps at 5000 by
/// default); it keeps a hostile count from reserving huge vectors.
const MAX_ROWS: u32 = 100_000;
/// Row replies are cut into frames of about this size, as the real server streams them.
const FRAME_TARGET: usize = 128 * 1024;

/// One parsed row: the echoed index and the command to run, or the result code of a row
/// refused before it runs (see [`refuse_unsupported`]).
pub struct Row<'a> {
    pub index: u32,
    pub command: Result<Command<'a>, u8>,
}

/// Parses the BATCH_INDEX field's data into rows, resolving REPEAT rows.
pub fn parse_rows(data: &[u8]) -> Result<Vec<Row<'_>>, DecodeError> {
    let mut r = Reader::new(data);
    let count = r.u32()?;
    if count > MAX_ROWS {
        return Err(DecodeError(format!(
            "batch of {count} rows exceeds {MAX_ROWS}"
        )));
    }
    let _flags = r.u8()?;
    let mut rows: Vec<Row<'_>> = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let index = r.u32()?;
        let digest = r.digest()?;
        let row_flags = r.u8()?;
        let command = if row_flags == ROW_REPEAT {
            let previous = rows
                .last()
                .ok_or_else(|| DecodeError("first batch row is a REPEAT".into()))?;
            previous.command.clone().map(|c| Command { digest, ..c })
        } else {
            parse_full_row(&mut r, row_flags, digest)?
        };
        rows.push(Row { index, command });
    }
    Ok(rows)
}

fn parse_full_row<'a>(
    r: &mut Reader<'a>,
    flags: u8,
    digest: [u8; 20],
) -> Result<Result<Command<'a>, u8>, DecodeError> {
    let info1 = r.u8()?;
    let (info2, info3) = if flags & ROW_INFO != 0 {
        (r.u8()?, r.u8()?)
    } else {
        (0, 0)
    };
    if flags & ROW_INFO4 != 0 {
        r.u8()?;
    }
    let generation = if flags & ROW_GEN != 0 {
        r.u16()?.into()
    } else {
        0
    };
    let record_ttl = if flags & ROW_TTL != 0 { r.u32()? } else { 0 };
    let n_fields = r.u16()?;
    let n_ops = r.u16()?;
    let fields = (0..n_fields)
        .map(|_| Field::decode(r))
        .collect::<Result<Vec<_>, _>>()?;
    let ops = (0..n_ops)
        .map(|_| Op::decode(r))
        .collect::<Result<Vec<_>, _>>()?;
    let namespace = fields
        .iter()
        .find(|f| f.field_type == FIELD_NAMESPACE)
        .ok_or_else(|| DecodeError("batch row without a namespace field".into()))?
        .data;
    if let Err(code) = refuse_unsupported(fields.iter().map(|f| f.field_type)) {
        return Ok(Err(code));
    }
    Ok(Ok(Command {
        info1,
        info2,
        info3,
        generation,
        record_ttl,
        namespace,
        digest,
        ops,
    }))
}

/// Runs every row and appends the whole reply stream (row frames, then a separate frame
/// holding the LAST message) to `out`. `on_row` sees each row before it runs.
pub fn respond(
    rows: &[Row<'_>],
    store: &Store,
    out: &mut Vec<u8>,
    mut on_row: impl FnMut(&Command<'_>),
) {
    let mut frame = begin_frame(out);
    for row in rows {
        match &row.command {
            Ok(command) => {
                on_row(command);
                execute(command, store, row.index, out);
            }
            Err(code) => refuse(*code, row.index, out),
        }
        if out.len() - frame > FRAME_TARGET {
            finish_frame(out, frame, TYPE_MSG);
            frame = begin_frame(out);
        }
    }
    if out.len() - frame > 8 {
        finish_frame(out, frame, TYPE_MSG);
    } else {
        out.truncate(frame);
    }
    last_message(out, rc::OK);
}

/// Appends a frame holding only the LAST message with result code `code`.
pub fn last_message(out: &mut Vec<u8>, code: u8) {
    let frame = begin_frame(out);
    MsgHeader {
        info3: INFO3_LAST,
        result_code: code,
        ..MsgHeader::default()
    }
    .encode(out);
    finish_frame(out, frame, TYPE_MSG);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_row(out: &mut Vec<u8>, index: u32, digest: u8, info2: u8, ops: &[(&[u8], &[u8])]) {
        out.extend_from_slice(&index.to_be_bytes());
        out.extend_from_slice(&[digest; 20]);
        out.extend_from_slice(&[ROW_INFO | ROW_GEN | ROW_TTL, 0, info2, 0]);
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&2u16.to_be_bytes());
        out.extend_from_slice(&(ops.len() as u16).to_be_bytes());
        encode_field(out, FIELD_NAMESPACE, b"test");
        encode_field(out, FIELD_SET, b"");
        for (name, value) in ops {
            encode_op(out, OP_WRITE, PARTICLE_INTEGER, name, value);
        }
    }

    fn batch(rows: impl FnOnce(&mut Vec<u8>), count: u32) -> Vec<u8> {
        let mut data = count.to_be_bytes().to_vec();
        data.push(0x0D);
        rows(&mut data);
        data
    }

    #[test]
    fn repeat_rows_reuse_the_previous_row() {
        let data = batch(
            |d| {
                full_row(
                    d,
                    0,
                    1,
                    INFO2_WRITE | INFO2_RESPOND_ALL_OPS,
                    &[(&b"v"[..], &[0u8; 8][..])],
                );
                d.extend_from_slice(&7u32.to_be_bytes());
                d.extend_from_slice(&[2; 20]);
                d.push(ROW_REPEAT);
            },
            2,
        );
        let rows = parse_rows(&data).unwrap();
        assert_eq!(rows[1].index, 7);
        let repeated = rows[1].command.as_ref().unwrap();
        assert_eq!(repeated.digest, [2; 20]);
        assert_eq!(repeated.ops.len(), 1);

        let store = Store::new(&["test"]);
        let mut out = Vec::new();
        respond(&rows, &store, &mut out, |_| {});
        let first = ProtoHeader::parse(out[..8].try_into().unwrap());
        let rows_frame = &out[8..8 + first.size as usize];
        let mut r = Reader::new(rows_frame);
        let h0 = MsgHeader::decode(&mut r).unwrap();
        assert_eq!((h0.result_code, h0.n_ops), (rc::OK, 1));
        Op::decode(&mut r).unwrap();
        let h1 = MsgHeader::decode(&mut r).unwrap();
        assert_eq!(h1.transaction_ttl, 7);
        let last = &out[8 + first.size as usize..];
        assert_eq!(last.len(), 30);
        assert_eq!(last[8 + 3], INFO3_LAST);
    }

    #[test]
    fn malformed_batches_are_errors() {
        assert!(parse_rows(&[]).is_err());
        let leading_repeat = batch(
            |d| {
                d.extend_from_slice(&0u32.to_be_bytes());
                d.extend_from_slice(&[2; 20]);
                d.push(ROW_REPEAT);
            },
            1,
        );
        assert!(parse_rows(&leading_repeat).is_err());
        assert!(parse_rows(&batch(|_| {}, 3)).is_err(), "count beyond rows");
        assert!(parse_rows(&batch(|_| {}, u32::MAX)).is_err(), "huge count");
    }
}
