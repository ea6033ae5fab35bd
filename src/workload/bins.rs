//! The bins each key holds: a list of object specs (`-o I,S:100,B:1024`), one bin per spec,
//! named `b0`, `b1`, … in order.
//!
//! The list has a fixed capacity, so a workload stays `Copy`; a read is checked bin by bin
//! against the values written for its key, without building them.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use aerospike_core::{Bin, Value};
use serde::{Serialize, Serializer};

use super::{ObjectSpec, WorkloadError};

/// The most bins a run writes to each key.
pub const MAX_BINS: usize = 16;

/// The bin a `--verify` write stamps with its version (an integer): not a `b<i>` name, so
/// [`Objects::matches`] leaves it to the verification.
pub const VERSION_BIN: &str = "ver";

/// Bin `i`'s name.
const NAMES: [&str; MAX_BINS] = [
    "b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10", "b11", "b12", "b13", "b14",
    "b15",
];

/// What each key holds: bin `b<i>` holds spec `i`'s value for the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objects {
    specs: [ObjectSpec; MAX_BINS],
    len: usize,
}

impl Default for Objects {
    /// asbench's default: one `I8` bin.
    fn default() -> Self {
        ObjectSpec::default().into()
    }
}

impl From<ObjectSpec> for Objects {
    /// One bin holding `spec`.
    fn from(spec: ObjectSpec) -> Objects {
        let mut specs = [ObjectSpec::default(); MAX_BINS];
        specs[0] = spec;
        Objects { specs, len: 1 }
    }
}

impl Objects {
    pub fn specs(&self) -> &[ObjectSpec] {
        &self.specs[..self.len]
    }

    /// Bytes of one key's values on the wire (before framing): the sum over its bins.
    pub fn size(&self) -> usize {
        self.specs().iter().map(|spec| spec.size()).sum()
    }

    /// Each bin's name and the value it holds for key `id`.
    pub fn values(&self, id: u64) -> impl Iterator<Item = (&'static str, Value)> + '_ {
        NAMES
            .iter()
            .zip(self.specs())
            .map(move |(&name, spec)| (name, spec.value(id)))
    }

    /// The bins a write of key `id` carries.
    pub fn bins(&self, id: u64) -> RecordBins {
        let mut bins = self.values(id).map(|(name, value)| Bin::new(name, value));
        match self.len {
            1 => RecordBins::One([bins.next().expect("one spec")]),
            _ => RecordBins::Many(bins.collect()),
        }
    }

    /// The bins a `--verify` write of key `id` carries: its values and `version`.
    pub fn stamped(&self, id: u64, version: u64) -> RecordBins {
        let values = self.values(id).map(|(name, value)| Bin::new(name, value));
        let version = Bin::new(VERSION_BIN, Value::Int(version as i64));
        RecordBins::Many(values.chain([version]).collect())
    }

    /// Whether the bins `found` hold every one of this list's values for key `id`; other
    /// bins are ignored. Compares in place: nothing is built or allocated.
    pub fn matches<'a, V: Borrow<Value>>(
        &self,
        id: u64,
        found: impl IntoIterator<Item = (&'a str, V)>,
    ) -> bool {
        let mut matched = 0;
        for (name, value) in found {
            match self.index(name) {
                Some(i) if self.specs[i].matches(id, value.borrow()) => matched += 1,
                Some(_) => return false,
                None => {}
            }
        }
        matched == self.len
    }

    /// The spec bin `name` holds, if it is one of this list's.
    fn index(&self, name: &str) -> Option<usize> {
        let i: usize = name.strip_prefix('b')?.parse().ok()?;
        (i < self.len && NAMES[i] == name).then_some(i)
    }
}

/// One key's bins, inline when there is one, so the usual single-bin write allocates no
/// list.
pub enum RecordBins {
    One([Bin; 1]),
    Many(Vec<Bin>),
}

impl Deref for RecordBins {
    type Target = [Bin];

    fn deref(&self) -> &[Bin] {
        match self {
            RecordBins::One(bin) => bin,
            RecordBins::Many(bins) => bins,
        }
    }
}

impl FromStr for Objects {
    type Err = WorkloadError;

    /// A comma list of specs, e.g. `I,S:100,B:1024`.
    fn from_str(s: &str) -> Result<Objects, WorkloadError> {
        let mut objects = Objects {
            specs: [ObjectSpec::default(); MAX_BINS],
            len: 0,
        };
        for (i, spec) in s.split(',').enumerate() {
            let slot = objects
                .specs
                .get_mut(i)
                .ok_or_else(|| WorkloadError::Bins(s.split(',').count()))?;
            *slot = spec.parse()?;
            objects.len = i + 1;
        }
        Ok(objects)
    }
}

impl fmt::Display for Objects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, spec) in self.specs().iter().enumerate() {
            let comma = if i > 0 { "," } else { "" };
            write!(f, "{comma}{spec}")?;
        }
        Ok(())
    }
}

impl Serialize for Objects {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(bins: &[Bin]) -> Vec<(&str, &Value)> {
        bins.iter().map(|b| (b.name.as_str(), &b.value)).collect()
    }

    #[test]
    fn parses_a_list_in_both_spellings_and_prints_it_back() {
        let objects: Objects = "I,S:100,B1024".parse().unwrap();
        assert_eq!(
            objects.specs(),
            [
                ObjectSpec::Int,
                ObjectSpec::Str(100),
                ObjectSpec::Bytes(1024)
            ]
        );
        assert_eq!(objects.to_string(), "I8,S100,B1024");
        assert_eq!(objects.size(), 8 + 100 + 1024);
        assert_eq!("I8".parse::<Objects>().unwrap(), Objects::default());
        assert_eq!(Objects::default().to_string(), "I8", "old results' knob");
        assert_eq!(NAMES[0], crate::workload::space::RUN.bin);
    }

    #[test]
    fn a_bad_list_names_the_bad_spec_or_the_limit() {
        for (bad, needle) in [
            ("I,S:0", "\"S:0\""),
            ("I,", "\"\""),
            (",I", "\"\""),
            (&["I"; MAX_BINS + 1].join(","), "at most 16"),
        ] {
            let e = bad.parse::<Objects>().unwrap_err().to_string();
            assert!(e.contains(needle) && !e.contains('\n'), "{bad}: {e}");
        }
        assert!(["I"; MAX_BINS].join(",").parse::<Objects>().is_ok());
    }

    #[test]
    fn a_write_carries_one_named_bin_per_spec() {
        let objects: Objects = "I,S4,B3".parse().unwrap();
        let bins = objects.bins(7);
        let names: Vec<&str> = bins.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["b0", "b1", "b2"]);
        assert_eq!(bins[0].value, Value::Int(7));
        assert!(matches!(Objects::default().bins(7), RecordBins::One(_)));
        let stamped = objects.stamped(7, 42);
        assert!(
            objects.matches(7, owned(&stamped)),
            "the version is not a value bin"
        );
        assert_eq!(
            (stamped[3].name.as_str(), &stamped[3].value),
            (VERSION_BIN, &Value::Int(42))
        );
    }

    #[test]
    fn a_read_matches_only_every_bin_of_its_own_key() {
        let objects: Objects = "I,S:5,B:9".parse().unwrap();
        let bins = objects.bins(3);
        assert!(objects.matches(3, owned(&bins)));
        assert!(objects.matches(3, objects.values(3)), "owned values too");
        assert!(!objects.matches(4, owned(&bins)), "another key's values");
        assert!(!objects.matches(3, owned(&bins[..2])), "a bin missing");
        let mut changed = owned(&bins);
        let other = Value::from("xxxxx");
        changed[1].1 = &other;
        assert!(!objects.matches(3, changed), "one bin differs");
        let extra = Value::Int(1);
        let mut more = owned(&bins);
        more.push(("b3", &extra));
        more.push(("v", &extra));
        assert!(
            objects.matches(3, more),
            "bins outside the list are not ours"
        );
        assert!(
            !Objects::default().matches(3, owned(&bins[1..])),
            "b0 missing"
        );
    }
}
