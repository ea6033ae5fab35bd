//! One side of a comparison: what it is (a commit, or HEAD with another client), its label,
//! its checkout, and the binaries its build produced, copied out of the shared target
//! folder before the other side's build replaces them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::client_source::{ClientSource, ClientSourceError};
use super::process::{self, Cancel, Output, ProcessError};
use super::worktree::{GitError, Worktree};

/// A cold build of the suite here takes about eight minutes; an hour means a hang.
const BUILD_LIMIT: Duration = Duration::from_secs(3600);
/// A full (not `--quick`) run of the largest group takes minutes; an hour means a hang.
const RUN_LIMIT: Duration = Duration::from_secs(3600);
/// Listing a target's benchmarks starts its cluster and nothing more.
const LIST_LIMIT: Duration = Duration::from_secs(300);
/// The embedded server's binary, which each side's benches must start (its own build).
const SERVER: &str = "aerobench-server";

/// What a side builds.
#[derive(Debug, Clone)]
pub struct Side {
    /// `a-<short hash>` or `a-client`: the baseline name and the folder name.
    pub label: String,
    /// What `git worktree add` checks out: a full hash, fixed at the start.
    pub commit: String,
    /// The commit as the user named it (`HEAD~1`), for messages.
    pub named: String,
    pub client: Option<ClientSource>,
    /// Variables set for this side's benchmark runs only (`--b-env`).
    pub env: Vec<(String, String)>,
}

/// Why a side could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum SideError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Client(#[from] ClientSourceError),
    #[error("{side} has no bench target {bench} (no benches/{bench}.rs at {commit})")]
    NoBench {
        side: String,
        bench: String,
        commit: String,
    },
    #[error("cannot prepare {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("build of {side} failed (log: {})", log.display())]
    Build { side: String, log: PathBuf },
    #[error("the build of {side} produced no {what}")]
    Missing { side: String, what: String },
    #[error("{bench} failed for {side} ({status}; log: {})", log.display())]
    Run {
        side: String,
        bench: String,
        status: std::process::ExitStatus,
        log: PathBuf,
    },
    #[error(transparent)]
    Process(#[from] ProcessError),
}

/// A side whose bench binaries are built and copied to its folder.
#[derive(Debug)]
pub struct Built {
    pub side: Side,
    /// `target/compare/<label>`: binaries and logs.
    pub dir: PathBuf,
    pub benches: BTreeMap<String, PathBuf>,
    pub server: PathBuf,
    /// The checkout, where the binaries run (as cargo would run them); removed when the
    /// comparison ends.
    tree: Worktree,
}

impl Side {
    /// Checks the side out under `work`, points it at its client, builds `benches` into
    /// `target_dir` and copies the binaries out. The checkout lives as long as the result.
    pub fn build(
        &self,
        repo: &Path,
        work: &Path,
        target_dir: &Path,
        benches: &[String],
        cancel: &Cancel,
    ) -> Result<Built, SideError> {
        let dir = work.join(&self.label);
        let io = |source| SideError::Io {
            path: dir.clone(),
            source,
        };
        let tree = Worktree::add(repo, &dir.join("src"), &self.commit, cancel)?;
        // Only the checkout is kept from an earlier run; its binaries and logs go.
        for entry in std::fs::read_dir(&dir).map_err(io)?.flatten() {
            if entry.file_name() != "src" {
                let path = entry.path();
                let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
            }
        }
        for bench in benches {
            if !tree
                .path()
                .join("benches")
                .join(format!("{bench}.rs"))
                .is_file()
            {
                return Err(SideError::NoBench {
                    side: self.label.clone(),
                    bench: bench.clone(),
                    commit: self.named.clone(),
                });
            }
        }
        if let Some(client) = &self.client {
            client.apply(&tree.path().join("Cargo.toml"))?;
        }
        let what = match &self.client {
            Some(c) => format!("{}, aerospike-core {}", self.named, c.describe()),
            None => self.named.clone(),
        };
        eprintln!("compare: building {} ({what})", self.label);
        let (json, log) = (dir.join("build.json"), dir.join("build.log"));
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo
            .current_dir(tree.path())
            .env("CARGO_TARGET_DIR", target_dir)
            .env("AEROBENCH_COMMIT", &self.label)
            .args([
                "bench",
                "--no-run",
                "--message-format=json-render-diagnostics",
            ]);
        for bench in benches {
            cargo.args(["--bench", bench]);
        }
        let done = process::run(cargo, Output::Logs(&json, &log), BUILD_LIMIT, cancel)?;
        if !done.status.success() {
            eprintln!("{}", process::tail(&log, 20));
            return Err(SideError::Build {
                side: self.label.clone(),
                log,
            });
        }
        let built = process::built_executables(&std::fs::read_to_string(&json).unwrap_or_default());
        let copy = |kind: &str, name: &str| -> Result<PathBuf, SideError> {
            let from = built
                .get(&(kind.to_string(), name.to_string()))
                .ok_or_else(|| SideError::Missing {
                    side: self.label.clone(),
                    what: format!("{kind} {name}"),
                })?;
            let to = dir.join(name);
            std::fs::copy(from, &to).map_err(|source| SideError::Io {
                path: to.clone(),
                source,
            })?;
            Ok(to)
        };
        let server = copy("bin", SERVER)?;
        let benches = benches
            .iter()
            .map(|b| Ok((b.clone(), copy("bench", b)?)))
            .collect::<Result<_, SideError>>()?;
        Ok(Built {
            side: self.clone(),
            dir,
            benches,
            server,
            tree,
        })
    }
}

impl Built {
    /// The ids of bench target `bench`'s benchmarks that `filter` selects, in Criterion's
    /// order (its `--list`, kept alone in `list.log`).
    pub fn list(
        &self,
        bench: &str,
        filter: Option<&str>,
        criterion_home: &Path,
        cancel: &Cancel,
    ) -> Result<Vec<String>, SideError> {
        let logs = [self.dir.join("list.log"), self.dir.join("list.stderr.log")];
        let _ = std::fs::remove_file(&logs[0]);
        let mut args = vec!["--list".to_string()];
        args.extend(filter.map(str::to_string));
        self.invoke(bench, &args, criterion_home, &logs, LIST_LIMIT, cancel)?;
        let text = std::fs::read_to_string(&logs[0]).map_err(|source| SideError::Io {
            path: logs[0].clone(),
            source,
        })?;
        Ok(listed(&text))
    }

    /// Runs bench target `bench` with Criterion arguments `args`, against this side's own
    /// server, with results under `criterion_home`. Output is appended to the side's
    /// `run.log` and `run.stderr.log`.
    pub fn run(
        &self,
        bench: &str,
        args: &[String],
        criterion_home: &Path,
        limit: Option<Duration>,
        cancel: &Cancel,
    ) -> Result<(), SideError> {
        let logs = [self.dir.join("run.log"), self.dir.join("run.stderr.log")];
        let limit = limit.unwrap_or(RUN_LIMIT);
        self.invoke(bench, args, criterion_home, &logs, limit, cancel)
    }

    /// A paired comparison's worker of bench target `bench` (not yet started): under
    /// callgrind when `count_dir` is given (its dumps go there), reaching the comparison's
    /// shared target through `target_env`.
    pub fn worker(
        &self,
        bench: &str,
        count_dir: Option<&Path>,
        target_env: &[(String, String)],
    ) -> Result<Command, SideError> {
        let exe = self.exe(bench)?;
        let mut command = match count_dir {
            Some(dir) => super::counts::command(exe, dir),
            None => Command::new(exe),
        };
        command
            .current_dir(self.tree.path())
            .env("CRITERION_HOME", self.dir.join("criterion"))
            .env("AEROBENCH_SERVER_BIN", &self.server)
            .envs(target_env.iter().map(|(k, v)| (k, v)))
            .envs(self.side.env.iter().map(|(k, v)| (k, v)));
        Ok(command)
    }

    fn exe(&self, bench: &str) -> Result<&PathBuf, SideError> {
        self.benches.get(bench).ok_or_else(|| SideError::Missing {
            side: self.side.label.clone(),
            what: format!("bench {bench} (not in --benches)"),
        })
    }

    /// Runs bench target `bench` with `args`, its stdout and stderr appended to `logs`; a
    /// failure names the bench and shows the end of its stderr.
    fn invoke(
        &self,
        bench: &str,
        args: &[String],
        criterion_home: &Path,
        [out, err]: &[PathBuf; 2],
        limit: Duration,
        cancel: &Cancel,
    ) -> Result<(), SideError> {
        let mut command = Command::new(self.exe(bench)?);
        command
            .current_dir(self.tree.path())
            .env("CRITERION_HOME", criterion_home)
            .env("AEROBENCH_SERVER_BIN", &self.server)
            .envs(self.side.env.iter().map(|(k, v)| (k, v)))
            .arg("--bench")
            .args(args);
        let done = process::run(command, Output::Logs(out, err), limit, cancel)?;
        if !done.status.success() {
            eprintln!("{}", process::tail(err, 10));
            return Err(SideError::Run {
                side: self.side.label.clone(),
                bench: bench.into(),
                status: done.status,
                log: err.clone(),
            });
        }
        Ok(())
    }
}

/// The ids in Criterion's `--list` output (`<id>: benchmark` lines).
fn listed(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_suffix(": benchmark"))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_the_ids_of_criterion_s_list() {
        let text = "aerobench: measuring against target=embedded\n\
                    batch/read/1: benchmark\nbatch/read/2: benchmark\n\nnot: a benchmark line\n";
        assert_eq!(super::listed(text), ["batch/read/1", "batch/read/2"]);
    }
}
