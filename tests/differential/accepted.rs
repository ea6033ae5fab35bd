//! The differences that stay, and the check that every other field agrees.

use crate::observe::{Seen, lookup};

/// A difference that stays: the fields it covers (by prefix), what the embedded server
/// must answer there instead, and why the client's cost is unchanged. The same rows are
/// README's table "Where the embedded server differs from Aerospike 8.1.2.0".
pub(crate) struct Accepted {
    pub(crate) covers: &'static [&'static str],
    pub(crate) ours: &'static [(&'static str, &'static str)],
    pub(crate) why: &'static str,
}

pub(crate) const ACCEPTED: &[Accepted] = &[
    Accepted {
        covers: &[
            "filter_true.get",
            "filter_false.get",
            "filter_false.delete",
            "filter_false.batch",
        ],
        ours: &[
            ("filter_true.get.rc", "16"),
            ("filter_false.get.rc", "16"),
            ("filter_false.delete.rc", "16"),
            ("filter_false.batch[0].code", "Some(UnsupportedFeature)"),
        ],
        why: "filter expressions are refused with UNSUPPORTED_FEATURE (16), not evaluated",
    },
    Accepted {
        covers: &["cdt_list_append", "hll_add"],
        ours: &[("cdt_list_append.rc", "16"), ("hll_add.rc", "16")],
        why: "CDT (list, map, bit) and HLL operations are refused with UNSUPPORTED_FEATURE (16)",
    },
    Accepted {
        covers: &["udf_execute"],
        ours: &[("udf_execute.rc", "16")],
        why: "UDF calls are refused with UNSUPPORTED_FEATURE (16)",
    },
    Accepted {
        covers: &["scan"],
        ours: &[("scan", "Err(16)")],
        why: "scans and queries are refused with UNSUPPORTED_FEATURE (16)",
    },
    Accepted {
        covers: &["truncate", "sindex_create"],
        ours: &[("truncate.rc", "4"), ("sindex_create.rc", "4")],
        why: "truncate and secondary-index info commands answer `ERROR:4:unrecognized command`",
    },
];

/// The accepted difference covering `field`, if any.
pub(crate) fn accepted(field: &str) -> Option<&'static Accepted> {
    ACCEPTED
        .iter()
        .find(|a| a.covers.iter().any(|prefix| field.starts_with(prefix)))
}

/// Every field either side observed that disagrees and no [`Accepted`] row covers.
pub(crate) fn differences(real: &[(String, Seen)], ours: &[(String, Seen)]) -> Vec<String> {
    let mut fields: Vec<&String> = real.iter().map(|(f, _)| f).collect();
    for (field, _) in ours {
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    let mut failures = Vec::new();
    for field in fields {
        let (mine, theirs) = (lookup(ours, field), lookup(real, field));
        if accepted(field).is_none() && !mine.agrees(&theirs) {
            failures.push(format!("{field}: ours {mine:?}, real {theirs:?}"));
        }
    }
    failures
}

pub(crate) fn assert_no_failures(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} difference(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
