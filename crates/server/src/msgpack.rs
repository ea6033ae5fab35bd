//! Just enough MessagePack to store a map as the real server does: sorted by key
//! (integers by value, then strings, then blobs, each bytewise), so a client reads the
//! entries back in key order whatever order it wrote them in.

use super::codec::Reader;

/// Deepest nesting [`skip`] follows; deeper values are stored as sent.
const MAX_DEPTH: u8 = 64;

/// A map key in the server's order: the derived order puts integers before strings and
/// blobs, which compare by their payload (the particle-type byte first: string 3 < blob 4).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

/// `bytes` with the map's entries sorted by key, keeping a leading ordering-flags entry
/// first; `None` (store as sent) when it is not one well-formed map whose keys are all
/// integers, strings or blobs.
pub fn sort_map(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(bytes);
    let count = match r.u8().ok()? {
        m @ 0x80..=0x8f => usize::from(m & 0x0f),
        0xde => r.u16().ok()?.into(),
        0xdf => r.u32().ok()? as usize,
        _ => return None,
    };
    let at = |r: &Reader<'_>| bytes.len() - r.remaining();
    let mut out = bytes[..at(&r)].to_vec();
    let mut entries = Vec::new();
    for i in 0..count {
        let start = at(&r);
        if i == 0 && matches!(bytes.get(start), Some(0xc7 | 0xd4..=0xd8)) {
            skip(&mut r, 0)?;
            skip(&mut r, 0)?;
            out.extend_from_slice(&bytes[start..at(&r)]);
            continue;
        }
        let key = key(&mut r)?;
        skip(&mut r, 0)?;
        entries.push((key, start..at(&r)));
    }
    if r.remaining() != 0 {
        return None;
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, range) in entries {
        out.extend_from_slice(&bytes[range]);
    }
    Some(out)
}

fn key<'a>(r: &mut Reader<'a>) -> Option<Key<'a>> {
    let int = |bytes: &[u8], signed: bool| {
        let mut word = [if signed && bytes[0] & 0x80 != 0 {
            0xff
        } else {
            0
        }; 8];
        word[8 - bytes.len()..].copy_from_slice(bytes);
        Key::Int(i64::from_be_bytes(word))
    };
    let marker = r.u8().ok()?;
    let length = match marker {
        0x00..=0x7f => return Some(Key::Int(marker.into())),
        0xe0..=0xff => return Some(Key::Int((marker as i8).into())),
        0xcc..=0xcf => return Some(int(r.bytes(1 << (marker - 0xcc)).ok()?, false)),
        0xd0..=0xd3 => return Some(int(r.bytes(1 << (marker - 0xd0)).ok()?, true)),
        0xa0..=0xbf => usize::from(marker & 0x1f),
        0xc4 | 0xd9 => r.u8().ok()?.into(),
        0xc5 | 0xda => r.u16().ok()?.into(),
        0xc6 | 0xdb => r.u32().ok()? as usize,
        _ => return None,
    };
    r.bytes(length).ok().map(Key::Bytes)
}

/// Reads past one element, nested ones included.
fn skip(r: &mut Reader<'_>, depth: u8) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    let marker = r.u8().ok()?;
    let (length, items) = match marker {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
        0x80..=0x8f => (0, 2 * usize::from(marker & 0x0f)),
        0x90..=0x9f => (0, usize::from(marker & 0x0f)),
        0xa0..=0xbf => (usize::from(marker & 0x1f), 0),
        0xc4 | 0xd9 => (r.u8().ok()?.into(), 0),
        0xc5 | 0xda => (r.u16().ok()?.into(), 0),
        0xc6 | 0xdb => (r.u32().ok()? as usize, 0),
        0xc7 => (usize::from(r.u8().ok()?) + 1, 0),
        0xc8 => (usize::from(r.u16().ok()?) + 1, 0),
        0xc9 => (r.u32().ok()? as usize + 1, 0),
        0xca | 0xce | 0xd2 => (4, 0),
        0xcb | 0xcf | 0xd3 => (8, 0),
        0xcc | 0xd0 => (1, 0),
        0xcd | 0xd1 => (2, 0),
        0xd4..=0xd8 => ((1 << (marker - 0xd4)) + 1, 0),
        0xdc => (0, r.u16().ok()?.into()),
        0xdd => (0, r.u32().ok()? as usize),
        0xde => (0, 2 * usize::from(r.u16().ok()?)),
        0xdf => (0, 2 * r.u32().ok()? as usize),
        0xc1 => return None,
    };
    r.bytes(length).ok()?;
    for _ in 0..items {
        skip(r, depth + 1)?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A string key as the client packs it: a str whose payload starts with particle 3.
    fn string(s: &str) -> Vec<u8> {
        let mut out = vec![0xa0 | (s.len() as u8 + 1), 3];
        out.extend_from_slice(s.as_bytes());
        out
    }

    fn map(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![0x80 | (entries.len() as u8)];
        for key in entries {
            out.extend_from_slice(key);
            out.push(0x01);
        }
        out
    }

    #[test]
    fn sorts_integers_then_strings_then_blobs() {
        let blob = vec![0xa2, 4, 0];
        let written = map(&[
            string("b"),
            vec![0x07],
            blob.clone(),
            string(""),
            vec![0xfb],
        ]);
        let sorted = map(&[vec![0xfb], vec![0x07], string(""), string("b"), blob]);
        assert_eq!(sort_map(&written), Some(sorted));
    }

    #[test]
    fn keeps_the_ordering_flags_first() {
        let mut written = vec![0x83, 0xc7, 0, 1, 0xc0];
        written.extend_from_slice(&map(&[string("z"), string("a")])[1..]);
        let mut sorted = vec![0x83, 0xc7, 0, 1, 0xc0];
        sorted.extend_from_slice(&map(&[string("a"), string("z")])[1..]);
        assert_eq!(sort_map(&written), Some(sorted));
    }

    #[test]
    fn leaves_what_it_cannot_sort() {
        assert_eq!(sort_map(&[0x91, 0x01]), None, "a list");
        assert_eq!(sort_map(&[0x81, 0xc3, 0x01]), None, "a boolean key");
        assert_eq!(sort_map(&[0x82, 0x01]), None, "cut short");
        assert_eq!(sort_map(&[0x81, 0x01, 0x01, 0x00]), None, "trailing bytes");
        assert_eq!(
            sort_map(&[0xdf, 0xff, 0xff, 0xff, 0xff]),
            None,
            "huge count"
        );
    }
}
