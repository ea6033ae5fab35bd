//! Flamegraphs drawn from folded stacks: the one a benchmark's profiler writes under
//! `cargo bench -- --profile-time <secs>` (the sampling itself is in the `groups` crate, the
//! only one that links pprof), and differential flamegraphs between two runs. Beside
//! `flamegraph.svg` the folded stacks are kept (`stacks.folded`), which is what a differential
//! flamegraph needs. Files are written through a temporary name and a rename, so an
//! interrupted run never leaves half a file.

use std::path::{Path, PathBuf};

use crate::files::{WriteError, write_atomically};

/// File names inside a benchmark's `profile/` directory.
pub const FLAMEGRAPH: &str = "flamegraph.svg";
pub const FOLDED: &str = "stacks.folded";

/// Why a flamegraph was not drawn.
#[derive(Debug, thiserror::Error)]
pub enum FlamegraphError {
    #[error("cannot diff {} and {}: {source}", before.display(), after.display())]
    Diff {
        before: PathBuf,
        after: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot draw the flamegraph: {0}")]
    Draw(Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Writes `stacks.folded` and the `flamegraph.svg` drawn from it into `dir`; `folded` holds
/// one `thread;outer;…;inner count` line per distinct stack, as inferno reads them.
pub fn draw(folded: &[String], title: &str, dir: &Path) -> Result<(), FlamegraphError> {
    write_atomically(&dir.join(FOLDED), folded.join("\n").as_bytes())?;
    let mut svg = Vec::new();
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    inferno::flamegraph::from_lines(&mut options, folded.iter().map(String::as_str), &mut svg)
        .map_err(|e| FlamegraphError::Draw(e.into()))?;
    Ok(write_atomically(&dir.join(FLAMEGRAPH), &svg)?)
}

/// A differential flamegraph: the shape of `after`, coloured by the change from `before`
/// (red grew, blue shrank), from two `stacks.folded` files.
pub fn differential(
    before: &Path,
    after: &Path,
    title: &str,
    out: &Path,
) -> Result<(), FlamegraphError> {
    let mut diff = Vec::new();
    inferno::differential::from_files(
        inferno::differential::Options::default(),
        before,
        after,
        &mut diff,
    )
    .map_err(|source| FlamegraphError::Diff {
        before: before.into(),
        after: after.into(),
        source,
    })?;
    let mut svg = Vec::new();
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    inferno::flamegraph::from_reader(&mut options, diff.as_slice(), &mut svg)
        .map_err(|e| FlamegraphError::Draw(e.into()))?;
    Ok(write_atomically(out, &svg)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differential_flamegraph_from_folded_stacks() {
        let dir = std::env::temp_dir().join(format!("aerobench-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (before, after, out) = (
            dir.join("a.folded"),
            dir.join("b.folded"),
            dir.join("new/diff.svg"),
        );
        std::fs::write(&before, "main;get;encode 10\nmain;get;io 90\n").unwrap();
        std::fs::write(&after, "main;get;encode 40\nmain;get;io 90\n").unwrap();
        differential(&before, &after, "get", &out).unwrap();
        let svg = std::fs::read_to_string(&out).unwrap();
        assert!(svg.contains("encode") && svg.contains("<svg"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
