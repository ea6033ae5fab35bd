//! The read/write mix: `RU,<read%>` (read/update), `RR[,<read%>]` (read/replace) and `I`
//! (insert), spelled as in the Aerospike benchmark tools.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::WorkloadError;

/// Whether one call reads or writes its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read = 0,
    Write = 1,
}

impl Access {
    /// Every kind, in the order a [`crate::stats::Tally`] holds them.
    pub const ALL: [Access; 2] = [Access::Read, Access::Write];

    /// The name reports give its calls.
    pub fn name(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// How a write treats the record it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// Merge the bin into the record (`RecordExistsAction::Update`).
    Update,
    /// Replace the whole record (`RecordExistsAction::Replace`).
    Replace,
}

/// The share of reads and what the writes do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// Random keys; `read_pct` of calls read, the rest update.
    ReadUpdate { read_pct: u8 },
    /// Random keys; `read_pct` of calls read, the rest replace.
    ReadReplace { read_pct: u8 },
    /// Every call writes the next keys of the key space in order, wrapping around.
    Insert,
}

impl Mix {
    /// The percentage of calls that read.
    pub fn read_pct(self) -> u8 {
        match self {
            Mix::ReadUpdate { read_pct } | Mix::ReadReplace { read_pct } => read_pct,
            Mix::Insert => 0,
        }
    }

    pub fn write_kind(self) -> WriteKind {
        match self {
            Mix::ReadReplace { .. } => WriteKind::Replace,
            Mix::ReadUpdate { .. } | Mix::Insert => WriteKind::Update,
        }
    }

    /// Whether keys come in key-space order rather than at random.
    pub fn sequential(self) -> bool {
        self == Mix::Insert
    }

    /// Which access a call makes, given a uniform draw in `0..100`.
    pub fn access(self, draw: u8) -> Access {
        match draw < self.read_pct() {
            true => Access::Read,
            false => Access::Write,
        }
    }
}

impl Default for Mix {
    /// The usual asbench workload: 50/50 read/update.
    fn default() -> Self {
        Mix::ReadUpdate { read_pct: 50 }
    }
}

impl FromStr for Mix {
    type Err = WorkloadError;

    fn from_str(s: &str) -> Result<Mix, WorkloadError> {
        let bad = || WorkloadError::Mix(s.into());
        let (name, pct) = match s.split_once(',') {
            Some((name, pct)) => (name, Some(pct)),
            None => (s, None),
        };
        let read_pct = match pct.map(str::parse::<u8>) {
            None => None,
            Some(Ok(p)) if p <= 100 => Some(p),
            Some(_) => return Err(bad()),
        };
        match (name.to_ascii_uppercase().as_str(), read_pct) {
            ("RU", Some(read_pct)) => Ok(Mix::ReadUpdate { read_pct }),
            ("RR", read_pct) => Ok(Mix::ReadReplace {
                read_pct: read_pct.unwrap_or(50),
            }),
            ("I", None) => Ok(Mix::Insert),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mix::ReadUpdate { read_pct } => write!(f, "RU,{read_pct}"),
            Mix::ReadReplace { read_pct } => write!(f, "RR,{read_pct}"),
            Mix::Insert => f.write_str("I"),
        }
    }
}

impl Serialize for Mix {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_benchmark_tool_spellings() {
        assert_eq!("RU,50".parse(), Ok(Mix::ReadUpdate { read_pct: 50 }));
        assert_eq!("ru,100".parse(), Ok(Mix::ReadUpdate { read_pct: 100 }));
        assert_eq!("RR".parse(), Ok(Mix::ReadReplace { read_pct: 50 }));
        assert_eq!("RR,80".parse(), Ok(Mix::ReadReplace { read_pct: 80 }));
        assert_eq!("I".parse(), Ok(Mix::Insert));
        for mix in ["RU,50", "RR,80", "I"] {
            assert_eq!(mix.parse::<Mix>().unwrap().to_string(), mix);
        }
    }

    #[test]
    fn rejects_with_the_valid_forms() {
        for bad in ["RU", "RU,101", "RU,x", "I,5", "X", ""] {
            let e = bad.parse::<Mix>().unwrap_err().to_string();
            assert!(e.contains("RU,<read%>") && !e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn read_share_follows_the_draw() {
        let mix = Mix::ReadUpdate { read_pct: 30 };
        let reads = (0..100).filter(|&d| mix.access(d) == Access::Read).count();
        assert_eq!(reads, 30);
        assert_eq!(Mix::Insert.access(0), Access::Write);
        assert_eq!(Mix::ReadUpdate { read_pct: 100 }.access(99), Access::Read);
    }
}
