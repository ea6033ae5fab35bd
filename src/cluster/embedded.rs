//! The embedded default target: `aerobench-server` started as a child process.
//!
//! A child process, not a thread, so a pprof flamegraph of the benchmark process holds
//! client frames only, and the server's CPU time can be read apart from the client's. The
//! child's stdin is a pipe that only this process holds: however this process ends (return,
//! panic, Ctrl-C, SIGKILL) the pipe closes and the server exits (`--control-stdin`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use std::os::unix::process::CommandExt;

use super::placement::{CpuSet, pin_current_thread};
use super::{Error, SettingError};
use crate::server::READY_PREFIX;
use crate::server::fault::{Fault, Order};

/// How long the server may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long it may take to exit once its stdin closes, before it is killed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(3);

/// A running server child; dropping it stops the server.
pub struct EmbeddedServer {
    child: Mutex<Child>,
    control: Mutex<Option<ChildStdin>>,
    /// `host:port` per node, from the ready line.
    pub hosts: Vec<String>,
    /// The ready line itself (names, build, namespaces).
    pub ready_line: String,
}

impl EmbeddedServer {
    /// Starts `binary` with `nodes` nodes on free loopback ports plus `extra_args`, on
    /// `cpus` when given, and waits for its ready line.
    pub fn start(
        binary: &Path,
        nodes: usize,
        extra_args: &[String],
        cpus: Option<&CpuSet>,
    ) -> Result<Self, Error> {
        let mut command = Command::new(binary);
        if let Some(mask) = cpus.map(CpuSet::mask) {
            // SAFETY: the closure only makes a system call (no allocation, no lock), which
            // is what may run between fork and exec.
            unsafe { command.pre_exec(move || pin_current_thread(&mask)) };
        }
        let mut child = command
            .args([
                "--nodes",
                &nodes.to_string(),
                "--port",
                "0",
                "--control-stdin",
            ])
            .args(extra_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| Error::Spawn {
                binary: binary.into(),
                source,
            })?;
        let (stdout, control) = (child.stdout.take(), child.stdin.take());
        let ready_line = match stdout.ok_or(Error::ServerExited).and_then(wait_ready) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let hosts = field(&ready_line, "nodes")
            .map(|v| v.split(',').map(str::to_string).collect())
            .ok_or_else(|| Error::ReadyLine(ready_line.clone()))?;
        Ok(EmbeddedServer {
            child: Mutex::new(child),
            control: Mutex::new(control),
            hosts,
            ready_line,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap_or_else(|p| p.into_inner()).id()
    }

    /// Gives node `node` a fault from now on (see [`Fault`]); the server logs it, or why
    /// it cannot, to our stderr.
    pub fn fault(&self, node: usize, fault: Fault) -> Result<(), Error> {
        let mut control = self.control.lock().unwrap_or_else(|p| p.into_inner());
        let pipe = control.as_mut().ok_or(Error::ServerStopped)?;
        writeln!(pipe, "{}", Order { node, fault }).map_err(Error::ControlPipe)
    }

    /// A value of the ready line, e.g. `build`.
    pub fn ready_field(&self, key: &str) -> Option<&str> {
        field(&self.ready_line, key)
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        drop(
            self.control
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let deadline = std::time::Instant::now() + EXIT_TIMEOUT;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Reads the child's stdout until the ready line (bounded by [`READY_TIMEOUT`]), then keeps
/// forwarding its later lines (stats, faults applied) to our stderr.
fn wait_ready(stdout: std::process::ChildStdout) -> Result<String, Error> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with(READY_PREFIX) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(line);
                }
            } else if !line.starts_with("aerobench-server: serving") {
                eprintln!("{line}");
            }
        }
    });
    rx.recv_timeout(READY_TIMEOUT).map_err(|e| match e {
        mpsc::RecvTimeoutError::Timeout => Error::NoReadyLine(READY_TIMEOUT),
        mpsc::RecvTimeoutError::Disconnected => Error::ServerExited,
    })
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

/// Why the embedded server cannot be given `fault`, if it cannot: a partition needs a
/// network between the nodes, and they share one process (the server refuses it too).
pub fn refusal(fault: Fault) -> Option<&'static str> {
    (fault == Fault::Partition).then_some(
        "the embedded server's nodes share one process and no network: \
         AEROBENCH_TARGET=container AEROBENCH_CONTAINER_NETWORK=published for partition",
    )
}

/// Finds the `aerobench-server` binary: `AEROBENCH_SERVER_BIN`, else beside the running
/// executable or one directory up (cargo puts tests and benches in `target/<profile>/deps`).
pub fn locate_binary() -> Result<PathBuf, Error> {
    if let Some(path) = std::env::var_os("AEROBENCH_SERVER_BIN") {
        let path = PathBuf::from(path);
        return match path.is_file() {
            true => Ok(path),
            false => Err(SettingError::ServerBin(path).into()),
        };
    }
    let exe = std::env::current_exe().map_err(Error::OwnExecutable)?;
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("aerobench-server"))
        .find(|p| p.is_file())
        .ok_or(Error::ServerMissing)
}
