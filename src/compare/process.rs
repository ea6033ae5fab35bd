//! The programs a comparison runs (git, cargo, the bench binaries), each with a bounded
//! wait and a way to stop it on Ctrl-C, and cargo's JSON messages read back to find what a
//! build produced, instead of reading its human output.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// How often a wait looks at the child and at the cancel flag.
const POLL: Duration = Duration::from_millis(50);

/// Set when the user interrupts: every wait then stops its child and returns
/// [`ProcessError::Cancelled`], so the caller unwinds through its own clean-up.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// A flag raised by Ctrl-C and SIGTERM. A second signal ends the process at once
    /// (exit 130), for a clean-up that itself hangs.
    pub fn on_ctrl_c() -> Result<Cancel, ctrlc::Error> {
        let cancel = Cancel::new();
        let flag = cancel.clone();
        ctrlc::set_handler(move || {
            if flag.0.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("compare: interrupted, cleaning up");
        })?;
        Ok(cancel)
    }

    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why a program did not run to a successful end.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("cannot open the log {}: {source}", path.display())]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{program} did not finish within {limit:?}")]
    TimedOut { program: String, limit: Duration },
    #[error("interrupted")]
    Cancelled,
    #[error("cannot wait for {program}: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
}

/// Where a child's output goes.
pub enum Output<'a> {
    /// Captured and returned (for git's short answers).
    Capture,
    /// Appended to these files (stdout, stderr).
    Logs(&'a Path, &'a Path),
}

/// What a finished child left: its status and, when captured, its output.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to its end, at most `limit`. The child gets a process group of its own,
/// so stopping it (on timeout or cancel) also stops what it started (cargo's rustc jobs,
/// the embedded server a bench binary started).
pub fn run(
    mut command: Command,
    output: Output<'_>,
    limit: Duration,
    cancel: &Cancel,
) -> Result<Finished, ProcessError> {
    use std::os::unix::process::CommandExt;
    let program = command.get_program().to_string_lossy().into_owned();
    let capture = scratch_pair();
    let (out_path, err_path) = match output {
        Output::Capture => (capture.0.as_path(), capture.1.as_path()),
        Output::Logs(out, err) => (out, err),
    };
    command
        .stdin(Stdio::null())
        .stdout(append(out_path)?)
        .stderr(append(err_path)?)
        .process_group(0);
    let mut child = command.spawn().map_err(|source| ProcessError::Spawn {
        program: program.clone(),
        source,
    })?;
    let started = Instant::now();
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if cancel.is_raised() => break Err(ProcessError::Cancelled),
            Ok(None) if started.elapsed() > limit => {
                break Err(ProcessError::TimedOut {
                    program: program.clone(),
                    limit,
                });
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(source) => {
                break Err(ProcessError::Wait {
                    program: program.clone(),
                    source,
                });
            }
        }
    };
    if outcome.is_err() {
        // SAFETY: kill(2) with a negative pid signals the child's own process group,
        // created above; it touches no memory.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        let _ = child.wait();
    }
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let finished = outcome.map(|status| match output {
        Output::Capture => Finished {
            status,
            stdout: read(&capture.0),
            stderr: read(&capture.1),
        },
        Output::Logs(..) => Finished {
            status,
            stdout: String::new(),
            stderr: String::new(),
        },
    });
    let _ = std::fs::remove_file(&capture.0);
    let _ = std::fs::remove_file(&capture.1);
    finished
}

/// Two scratch files for a captured child's output (files, not pipes: a child that writes
/// more than a pipe holds must not block while it is polled).
fn scratch_pair() -> (PathBuf, PathBuf) {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("aerobench-compare-{}-{n}", std::process::id()));
    (base.with_extension("out"), base.with_extension("err"))
}

fn append(path: &Path) -> Result<File, ProcessError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| ProcessError::Log {
            path: path.into(),
            source,
        })
}

/// The last `lines` lines of a log, for an error message.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    target: Option<Target>,
    executable: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

/// The executables a `cargo … --message-format=json` build produced, by `(kind, name)`:
/// `("bench", "single_op")`, `("bin", "aerobench-server")`. Lines that are not JSON
/// messages (none, with `json-render-diagnostics`) are skipped.
pub fn built_executables(json_lines: &str) -> BTreeMap<(String, String), PathBuf> {
    json_lines
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .filter(|m| m.reason == "compiler-artifact")
        .filter_map(|m| {
            let target = m.target?;
            let kind = target.kind.into_iter().next()?;
            Some(((kind, target.name), m.executable?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_executables_in_cargo_messages() {
        let json = r#"{"reason":"compiler-artifact","target":{"name":"aerobench","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"single_op","kind":["bench"]},"executable":"/t/release/deps/single_op-1a2b"}
{"reason":"compiler-artifact","target":{"name":"aerobench-server","kind":["bin"]},"executable":"/t/release/aerobench-server"}
{"reason":"build-finished","success":true}"#;
        let found = built_executables(json);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[&("bench".into(), "single_op".into())],
            PathBuf::from("/t/release/deps/single_op-1a2b")
        );
        assert!(found.contains_key(&("bin".into(), "aerobench-server".into())));
    }
}
