//! The check that two sides measured the same thing: every bench binary writes what it
//! measured against to `<criterion dir>/aerobench/fingerprint.json` ([`RunRecord`]); after
//! each run the comparison moves that file to `aerobench/<side>/<bench>.json`, and compares
//! the two sides' records bench by bench, from the JSON, field by field.
//!
//! Groups that reach no cluster (`key`, `rng`, `timer`) write no record. When neither side
//! wrote one for a bench, the two runs are still comparable: this one comparison ran both on
//! this machine with the same environment, and there is no server whose build could differ;
//! a note says so. When only one side wrote one, something differs between the sides (one
//! commit predates the record), and the comparison is refused unless forced.

use std::path::{Path, PathBuf};

use crate::criterion_results::RunRecord;
use crate::files::{WriteError, write_atomically};

/// Where side `label`'s record of bench `bench` is kept.
pub fn saved_path(criterion_dir: &Path, label: &str, bench: &str) -> PathBuf {
    criterion_dir
        .join("aerobench")
        .join(label)
        .join(format!("{bench}.json"))
}

/// Moves the record the last run wrote (if it wrote one) to [`saved_path`].
pub fn keep(criterion_dir: &Path, label: &str, bench: &str) -> Result<(), WriteError> {
    let written = RunRecord::path(criterion_dir);
    let to = saved_path(criterion_dir, label, bench);
    let fail = |source| WriteError {
        path: to.clone(),
        source,
    };
    match std::fs::read(&written) {
        Ok(bytes) => {
            write_atomically(&to, &bytes)?;
            std::fs::remove_file(&written).map_err(fail)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(fail(e)),
    }
}

/// Side `label`'s record of `bench`, if it wrote one. A file that is there but unreadable
/// is an error, not an absence.
pub fn load(
    criterion_dir: &Path,
    label: &str,
    bench: &str,
) -> Result<Option<RunRecord>, FingerprintError> {
    let path = saved_path(criterion_dir, label, bench);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| FingerprintError::Unreadable {
                    path,
                    message: e.to_string(),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FingerprintError::Unreadable {
            path,
            message: e.to_string(),
        }),
    }
}

/// Why two sides are not compared.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    #[error("fingerprints differ, refusing to compare (use --force): {bench}: A: {a} | B: {b}")]
    Differ { bench: String, a: String, b: String },
    #[error(
        "{bench}: {with} recorded a fingerprint and {without} did not (built from a commit that predates fingerprint.json?), refusing to compare (use --force)"
    )]
    OneSided {
        bench: String,
        with: String,
        without: String,
    },
    #[error("cannot read the fingerprint {}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
}

/// What the check found: each side's first record (for the header lines) and notes to print.
#[derive(Debug, Default)]
pub struct Checked {
    pub a: Option<RunRecord>,
    pub b: Option<RunRecord>,
    pub notes: Vec<String>,
}

/// Compares sides `a` and `b` bench by bench. A difference is an error unless `force`, in
/// which case it becomes a note.
pub fn check(
    criterion_dir: &Path,
    a: &str,
    b: &str,
    benches: &[String],
    force: bool,
) -> Result<Checked, FingerprintError> {
    let mut checked = Checked::default();
    for bench in benches {
        let ra = load(criterion_dir, a, bench)?;
        let rb = load(criterion_dir, b, bench)?;
        let refusal = match (&ra, &rb) {
            (Some(x), Some(y)) if !x.fingerprint.comparable_with(&y.fingerprint) => {
                Some(FingerprintError::Differ {
                    bench: bench.clone(),
                    a: x.fingerprint.comparable_part(),
                    b: y.fingerprint.comparable_part(),
                })
            }
            (Some(_), None) | (None, Some(_)) => {
                let (with, without) = if ra.is_some() { (a, b) } else { (b, a) };
                Some(FingerprintError::OneSided {
                    bench: bench.clone(),
                    with: with.into(),
                    without: without.into(),
                })
            }
            (None, None) => {
                checked.notes.push(format!(
                    "{bench} recorded no fingerprint on either side (it reaches no cluster): both ran here, on {}",
                    crate::meta::machine()
                ));
                None
            }
            _ => None,
        };
        match refusal {
            Some(e) if !force => return Err(e),
            Some(e) => checked.notes.push(format!("--force: {e}")),
            None => {}
        }
        checked.a = checked.a.take().or(ra);
        checked.b = checked.b.take().or(rb);
    }
    Ok(checked)
}
