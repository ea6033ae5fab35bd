//! The object spec (`I8`, `S<n>`, `B<n>`, or asbench's `I`, `S:<n>`, `B:<n>`) and the value
//! it puts in a key's bin.
//!
//! The value is a pure function of the key id and the spec, so any read can be checked
//! against what this run (or the seeding) wrote, with no record of the writes kept.

use std::fmt;
use std::str::FromStr;

use aerospike_core::Value;
use serde::{Serialize, Serializer};

use super::WorkloadError;

/// The largest string or blob value accepted, in bytes.
pub const MAX_VALUE_BYTES: usize = 1 << 20;

/// What one key's bin holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ObjectSpec {
    /// An 8-byte integer equal to the key id (asbench's `-o I8` payload).
    #[default]
    Int,
    /// A string of this many alphanumeric characters.
    Str(usize),
    /// A blob of this many bytes.
    Bytes(usize),
}

impl ObjectSpec {
    /// The bin value for key `id`.
    pub fn value(self, id: u64) -> Value {
        match self {
            ObjectSpec::Int => Value::Int(id as i64),
            ObjectSpec::Str(n) => Value::String(alphanumeric(id).take(n).map(char::from).collect()),
            ObjectSpec::Bytes(n) => Value::Blob(filler(id).take(n).collect()),
        }
    }

    /// Whether `found` is the value [`Self::value`] gives for `id`, compared without
    /// building that value.
    pub fn matches(self, id: u64, found: &Value) -> bool {
        match (self, found) {
            (ObjectSpec::Int, Value::Int(v)) => *v == id as i64,
            (ObjectSpec::Str(n), Value::String(s)) => {
                s.len() == n && s.bytes().eq(alphanumeric(id).take(n))
            }
            (ObjectSpec::Bytes(n), Value::Blob(b)) => {
                b.len() == n && b.iter().copied().eq(filler(id).take(n))
            }
            _ => false,
        }
    }

    /// Bytes of one value on the wire (before framing).
    pub fn size(self) -> usize {
        match self {
            ObjectSpec::Int => 8,
            ObjectSpec::Str(n) | ObjectSpec::Bytes(n) => n,
        }
    }
}

/// A SplitMix64 byte stream seeded by the key id: cheap, and different for every key.
fn filler(id: u64) -> impl Iterator<Item = u8> {
    let mut state = id;
    std::iter::repeat_with(move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).to_le_bytes()
    })
    .flatten()
}

fn alphanumeric(id: u64) -> impl Iterator<Item = u8> {
    const CHARS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    filler(id).map(|b| CHARS[usize::from(b) % CHARS.len()])
}

impl FromStr for ObjectSpec {
    type Err = WorkloadError;

    fn from_str(s: &str) -> Result<ObjectSpec, WorkloadError> {
        let bad = || WorkloadError::Object(s.into());
        if s.eq_ignore_ascii_case("I8") || s.eq_ignore_ascii_case("I") {
            return Ok(ObjectSpec::Int);
        }
        let (kind, size) = s.split_at_checked(1).ok_or_else(bad)?;
        let size = size.strip_prefix(':').unwrap_or(size);
        let size = match size.parse::<usize>() {
            Ok(n) if (1..=MAX_VALUE_BYTES).contains(&n) => n,
            _ => return Err(bad()),
        };
        match kind {
            "S" | "s" => Ok(ObjectSpec::Str(size)),
            "B" | "b" => Ok(ObjectSpec::Bytes(size)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for ObjectSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectSpec::Int => f.write_str("I8"),
            ObjectSpec::Str(n) => write!(f, "S{n}"),
            ObjectSpec::Bytes(n) => write!(f, "B{n}"),
        }
    }
}

impl Serialize for ObjectSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_back() {
        for spec in ["I8", "S100", "B1"] {
            assert_eq!(spec.parse::<ObjectSpec>().unwrap().to_string(), spec);
        }
        for (asbench, ours) in [("I", "I8"), ("S:100", "S100"), ("b:7", "B7")] {
            assert_eq!(asbench.parse::<ObjectSpec>().unwrap().to_string(), ours);
        }
        for bad in ["I4", "S", "S0", "S:", "S::1", "B-1", "X8", "", "S1048577"] {
            let e = bad.parse::<ObjectSpec>().unwrap_err().to_string();
            assert!(
                e.contains("use I8, S<bytes> or B<bytes>") && !e.contains('\n'),
                "{e}"
            );
        }
    }

    #[test]
    fn every_value_matches_its_own_key_only() {
        for spec in [ObjectSpec::Int, ObjectSpec::Str(37), ObjectSpec::Bytes(9)] {
            for id in [0, 1, 99_999] {
                let value = spec.value(id);
                assert!(spec.matches(id, &value), "{spec} {id}");
                assert!(!spec.matches(id + 1, &value), "{spec} {id}");
            }
        }
        assert!(!ObjectSpec::Str(3).matches(1, &ObjectSpec::Bytes(3).value(1)));
        assert!(!ObjectSpec::Str(3).matches(1, &ObjectSpec::Str(4).value(1)));
    }

    #[test]
    fn strings_are_alphanumeric_of_the_asked_length() {
        let Value::String(s) = ObjectSpec::Str(100).value(7) else {
            panic!()
        };
        assert_eq!(s.len(), 100);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
