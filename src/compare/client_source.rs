//! For `--client`: which `aerospike-core` a side builds against, a crates.io version or a
//! local checkout, written into the side's own Cargo.toml with `toml_edit` (so comments,
//! features and the rest of the manifest stay as they are).
//!
//! A version replaces the pinned `=3.0.0` of both `aerospike-core` and `aerospike-sync`. A
//! path becomes a `[patch.crates-io]` entry, so every crate that depends on the client
//! (`aerospike-sync` included) gets the local one; the dependency is pinned to the local
//! crate's version too, or cargo would ignore a patch whose version the pin rejects and
//! quietly build the crates.io client.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, InlineTable, Item, Table, value};

const CORE: &str = "aerospike-core";
const SYNC: &str = "aerospike-sync";

/// One side's client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientSource {
    /// A crates.io version, e.g. `3.0.1`.
    Version(String),
    /// A local checkout: the `aerospike-core` crate, and `aerospike-sync` when it has one.
    Path {
        core: PathBuf,
        sync: Option<PathBuf>,
    },
}

/// Why a client source cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClientSourceError {
    #[error("client source '{0}' is neither a version nor a directory")]
    Neither(String),
    #[error("no aerospike-core crate at {0}")]
    NoCrate(String),
    #[error("cannot edit {}: {message}", path.display())]
    Manifest { path: PathBuf, message: String },
}

impl ClientSource {
    /// A directory is a checkout (the crate itself, or a workspace holding
    /// `aerospike-core/`); `N.N.N…` is a version; anything else is refused.
    pub fn parse(spec: &str) -> Result<ClientSource, ClientSourceError> {
        let dir = Path::new(spec);
        if dir.is_dir() {
            let core = if dir.join(CORE).join("Cargo.toml").is_file() {
                dir.join(CORE)
            } else {
                dir.to_path_buf()
            };
            if !core.join("Cargo.toml").is_file() {
                return Err(ClientSourceError::NoCrate(spec.into()));
            }
            let absolute = |p: &Path| {
                p.canonicalize()
                    .map_err(|_| ClientSourceError::NoCrate(spec.into()))
            };
            let sync = dir.join(SYNC);
            return Ok(ClientSource::Path {
                core: absolute(&core)?,
                sync: match sync.join("Cargo.toml").is_file() {
                    true => Some(absolute(&sync)?),
                    false => None,
                },
            });
        }
        if is_version(spec) {
            Ok(ClientSource::Version(spec.into()))
        } else {
            Err(ClientSourceError::Neither(spec.into()))
        }
    }

    /// How the side's label and messages name it.
    pub fn describe(&self) -> String {
        match self {
            ClientSource::Version(v) => v.clone(),
            ClientSource::Path { core, .. } => core.display().to_string(),
        }
    }

    /// Points the manifest at `manifest` (a side's Cargo.toml) at this client.
    pub fn apply(&self, manifest: &Path) -> Result<(), ClientSourceError> {
        let fail = |message: String| ClientSourceError::Manifest {
            path: manifest.into(),
            message,
        };
        let text = std::fs::read_to_string(manifest).map_err(|e| fail(e.to_string()))?;
        let mut doc: DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| fail(e.to_string()))?;
        match self {
            ClientSource::Version(version) => {
                for name in [CORE, SYNC] {
                    pin(&mut doc, name, version);
                }
            }
            ClientSource::Path { core, sync } => {
                let crates: Vec<(&str, &PathBuf)> = [(CORE, Some(core)), (SYNC, sync.as_ref())]
                    .into_iter()
                    .filter_map(|(name, path)| Some((name, path?)))
                    .collect();
                for (name, path) in crates {
                    if let Some(version) = crate_version(path) {
                        pin(&mut doc, name, &version);
                    }
                    let patch = doc
                        .entry("patch")
                        .or_insert_with(implicit_table)
                        .as_table_mut()
                        .ok_or_else(|| fail("[patch] is not a table".into()))?
                        .entry("crates-io")
                        .or_insert_with(|| Item::Table(Table::new()))
                        .as_table_mut()
                        .ok_or_else(|| fail("[patch.crates-io] is not a table".into()))?;
                    let mut entry = InlineTable::new();
                    entry.insert("path", path.display().to_string().into());
                    patch.insert(name, value(entry));
                }
            }
        }
        crate::files::write_atomically(manifest, doc.to_string().as_bytes())
            .map_err(|e| fail(e.to_string()))
    }
}

fn implicit_table() -> Item {
    let mut table = Table::new();
    table.set_implicit(true);
    Item::Table(table)
}

/// Sets `[dependencies] <name>`'s version requirement to exactly `version`, in whichever
/// form the manifest writes it (`name = "…"`, or an inline table with `version`).
fn pin(doc: &mut DocumentMut, name: &str, version: &str) {
    let exact = format!("={version}");
    let Some(dep) = doc.get_mut("dependencies").and_then(|d| d.get_mut(name)) else {
        return;
    };
    if let Some(table) = dep.as_table_like_mut() {
        table.insert("version", value(exact));
    } else if dep.is_str() {
        *dep = value(exact);
    }
}

/// `[package] version` of the crate at `dir`, when written out (not inherited).
fn crate_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let doc: DocumentMut = text.parse().ok()?;
    doc.get("package")?
        .get("version")?
        .as_str()
        .map(str::to_string)
}

/// `major.minor.patch`, optionally followed by a pre-release or build suffix.
fn is_version(spec: &str) -> bool {
    let core = spec.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}
