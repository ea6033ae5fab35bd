//! A paired comparison's handle on one worker process ([`protocol`](super::protocol)): it
//! starts the bench binary with the benchmarks to serve, sends requests and waits, bounded,
//! for the replies a reader thread takes off the worker's stdout. Everything else the
//! worker prints goes to its log. Dropping the handle kills the worker's process group.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use super::process::{Cancel, ProcessError};
use super::protocol::{PREFIX, Reply, Request, WORKER};

/// How often a wait looks at the cancel flag.
const POLL: Duration = Duration::from_millis(50);

/// Why a worker did not answer as asked.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("{name} ended before answering {asked} (log: {})", log.display())]
    Ended {
        name: String,
        asked: String,
        log: PathBuf,
    },
    #[error("{name} did not answer {asked} within {limit:?} (log: {})", log.display())]
    Silent {
        name: String,
        asked: String,
        limit: Duration,
        log: PathBuf,
    },
    #[error("{name} answered {asked} with {reply:?}")]
    Unexpected {
        name: String,
        asked: String,
        reply: Reply,
    },
}

/// A running worker.
pub struct Worker {
    name: String,
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<Reply>,
    log: PathBuf,
}

impl Worker {
    /// Starts `command` as a worker serving `ids`, named `name` in messages, its output
    /// (all but replies) appended to `log`.
    pub fn start(
        mut command: Command,
        ids: &[String],
        name: &str,
        log: &Path,
    ) -> Result<Worker, WorkerError> {
        use std::os::unix::process::CommandExt;
        let program = command.get_program().to_string_lossy().into_owned();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| ProcessError::Log {
                path: log.into(),
                source,
            })?;
        let err = file.try_clone().map_err(|source| ProcessError::Log {
            path: log.into(),
            source,
        })?;
        command
            .env(WORKER, ids.join(","))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err)
            .process_group(0);
        let mut child = command
            .spawn()
            .map_err(|source| ProcessError::Spawn { program, source })?;
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
            unreachable!("both pipes were asked for")
        };
        let (send, replies) = channel();
        std::thread::spawn(move || {
            let mut file = file;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                match Reply::parse(&line) {
                    Some(reply) => {
                        if send.send(reply).is_err() {
                            return;
                        }
                    }
                    None if !line.starts_with(PREFIX) => {
                        let _ = writeln!(file, "{line}");
                    }
                    None => {
                        let _ = writeln!(file, "unreadable reply: {line}");
                    }
                }
            }
        });
        Ok(Worker {
            name: name.to_string(),
            child,
            stdin,
            replies,
            log: log.into(),
        })
    }

    /// The next benchmark the worker serves, or `None` once it has served them all and
    /// ended.
    pub fn ready(
        &mut self,
        limit: Duration,
        cancel: &Cancel,
    ) -> Result<Option<String>, WorkerError> {
        match self.reply("a benchmark", limit, cancel) {
            Ok(Reply::Ready(id)) => Ok(Some(id)),
            Ok(reply) => Err(self.unexpected("a benchmark", reply)),
            Err(WorkerError::Ended { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends `request` and waits at most `limit` for its reply.
    pub fn ask(
        &mut self,
        request: &Request,
        limit: Duration,
        cancel: &Cancel,
    ) -> Result<Reply, WorkerError> {
        let asked = request.to_string();
        if writeln!(self.stdin, "{asked}").is_err() {
            return Err(self.ended(&asked));
        }
        self.reply(&asked, limit, cancel)
    }

    /// The measured nanoseconds of `iters` ops, and the wall time the request took.
    pub fn run(
        &mut self,
        iters: u64,
        limit: Duration,
        cancel: &Cancel,
    ) -> Result<(u64, Duration), WorkerError> {
        let started = Instant::now();
        match self.ask(&Request::Run(iters), limit, cancel)? {
            Reply::Nanos(nanos) => Ok((nanos, started.elapsed())),
            reply => Err(self.unexpected("run", reply)),
        }
    }

    /// Moves the worker on from its current benchmark (no reply).
    pub fn move_on(&mut self) -> Result<(), WorkerError> {
        writeln!(self.stdin, "{}", Request::Next).map_err(|_| self.ended("next"))
    }

    pub fn unexpected(&self, asked: &str, reply: Reply) -> WorkerError {
        WorkerError::Unexpected {
            name: self.name.clone(),
            asked: asked.into(),
            reply,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn reply(
        &mut self,
        asked: &str,
        limit: Duration,
        cancel: &Cancel,
    ) -> Result<Reply, WorkerError> {
        let started = Instant::now();
        loop {
            if cancel.is_raised() {
                return Err(ProcessError::Cancelled.into());
            }
            if started.elapsed() > limit {
                return Err(WorkerError::Silent {
                    name: self.name.clone(),
                    asked: asked.into(),
                    limit,
                    log: self.log.clone(),
                });
            }
            match self.replies.recv_timeout(POLL) {
                Ok(reply) => return Ok(reply),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(self.ended(asked)),
            }
        }
    }

    fn ended(&self, asked: &str) -> WorkerError {
        WorkerError::Ended {
            name: self.name.clone(),
            asked: asked.into(),
            log: self.log.clone(),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the worker's own process group, created at its start.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}
