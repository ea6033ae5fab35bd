//! One side's checkout: a detached `git worktree` under `target/compare/<side>/src`,
//! removed again when the comparison ends, however it ends (an error, a panic, or Ctrl-C,
//! which unwinds through the same path: see [`super::process::Cancel`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::{self, Cancel, Output, ProcessError};

/// git answers locally; a minute means something is wrong (a lock held by another git).
const GIT_LIMIT: Duration = Duration::from_secs(60);

/// Why a checkout could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("unknown commit {0}")]
    UnknownCommit(String),
    #[error("not inside a git repository: {0}")]
    NotARepository(String),
    #[error("git worktree add {} {commit} failed: {message}", path.display())]
    Add {
        path: PathBuf,
        commit: String,
        message: String,
    },
    #[error("git: {0}")]
    Process(#[from] ProcessError),
}

/// Runs `git -C <dir> <args>` and returns its trimmed stdout, or git's first error line.
pub fn git(dir: &Path, args: &[&str], cancel: &Cancel) -> Result<Result<String, String>, GitError> {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir).args(args);
    let done = process::run(command, Output::Capture, GIT_LIMIT, cancel)?;
    if done.status.success() {
        Ok(Ok(done.stdout.trim().to_string()))
    } else {
        let first = done.stderr.lines().next().unwrap_or("failed").to_string();
        Ok(Err(first))
    }
}

/// The top of the repository holding `dir`.
pub fn toplevel(dir: &Path, cancel: &Cancel) -> Result<PathBuf, GitError> {
    git(dir, &["rev-parse", "--show-toplevel"], cancel)?
        .map(PathBuf::from)
        .map_err(GitError::NotARepository)
}

/// The short hash of `commit` (anything `git rev-parse` accepts).
pub fn short_hash(repo: &Path, commit: &str, cancel: &Cancel) -> Result<String, GitError> {
    rev_parse(repo, commit, true, cancel)
}

/// The full hash of `commit`: what a side checks out, fixed when the comparison starts, so
/// a commit made while it runs (HEAD moving) does not change what the second side builds.
pub fn full_hash(repo: &Path, commit: &str, cancel: &Cancel) -> Result<String, GitError> {
    rev_parse(repo, commit, false, cancel)
}

fn rev_parse(repo: &Path, commit: &str, short: bool, cancel: &Cancel) -> Result<String, GitError> {
    let spec = format!("{commit}^{{commit}}");
    let mut args = vec!["rev-parse", "--verify", "--quiet", &spec];
    if short {
        args.insert(1, "--short");
    }
    git(repo, &args, cancel)?
        .ok()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| GitError::UnknownCommit(commit.into()))
}

/// A detached checkout of one commit, removed on drop.
#[derive(Debug)]
pub struct Worktree {
    repo: PathBuf,
    path: PathBuf,
}

impl Worktree {
    /// Checks out `commit` at `path`. What a killed earlier run left at `path` (the folder
    /// or only git's record of it) is removed first.
    pub fn add(
        repo: &Path,
        path: &Path,
        commit: &str,
        cancel: &Cancel,
    ) -> Result<Worktree, GitError> {
        let _ = git(
            repo,
            &["worktree", "remove", "--force", &path.to_string_lossy()],
            cancel,
        )?;
        let _ = std::fs::remove_dir_all(path);
        let _ = git(repo, &["worktree", "prune"], cancel)?;
        let at = path.to_string_lossy();
        git(
            repo,
            &["worktree", "add", "--quiet", "--detach", &at, commit],
            cancel,
        )?
        .map_err(|message| GitError::Add {
            path: path.into(),
            commit: commit.into(),
            message,
        })?;
        Ok(Worktree {
            repo: repo.into(),
            path: path.into(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Worktree {
    /// Removes the checkout and git's record of it. Runs after a Ctrl-C too, so its git
    /// calls get a fresh, unraised cancel flag.
    fn drop(&mut self) {
        let cancel = Cancel::new();
        let at = self.path.to_string_lossy().into_owned();
        let removed = git(&self.repo, &["worktree", "remove", "--force", &at], &cancel);
        if !matches!(removed, Ok(Ok(_))) {
            let _ = std::fs::remove_dir_all(&self.path);
            let _ = git(&self.repo, &["worktree", "prune"], &cancel);
        }
    }
}
