//! Instructions per op: a side's bench binary run as a worker under callgrind, its spans
//! switching collection on around each measured op (`--collect-atstart=no`), the server
//! outside valgrind (the workers reach the comparison's shared target), ASLR off. For each
//! benchmark the worker grows its ops until one run counts [`TARGET`] instructions, then
//! runs that many twice, each dumped apart: the count per op is their mean, and how far
//! the two differ says whether this row's count repeats at all.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::process::Cancel;
use super::protocol::{COUNT, Reply, Request};
use super::worker::{Worker, WorkerError};

/// Instructions one counted run aims at: enough that fixed costs of a run vanish, few
/// enough that callgrind (about 50 times slower than the CPU) takes a fraction of a second.
const TARGET: u64 = 20_000_000;
/// Under callgrind a request takes far longer than natively.
const LIMIT: Duration = Duration::from_secs(600);
const MAX_ITERS: u64 = 1 << 32;

/// One side's count of one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Count {
    /// Instructions per op (user space, this process's threads, inside the spans).
    pub per_op: f64,
    /// |first − second| ÷ their mean, for the two counted runs.
    pub repeat: f64,
    pub iters: u64,
}

/// Why counting could not run here.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    #[error("counting instructions needs valgrind (apt-get install valgrind) and setarch; {0}")]
    Missing(String),
    #[error(transparent)]
    Worker(#[from] WorkerError),
    #[error("cannot read callgrind's dump {}: {message}", path.display())]
    Dump { path: PathBuf, message: String },
}

/// Checks that valgrind runs here, before anything is built.
pub fn check() -> Result<(), CountError> {
    if !cfg!(target_arch = "x86_64") {
        return Err(CountError::Missing(
            "its client requests are only written for x86-64 here".into(),
        ));
    }
    let ran = Command::new("valgrind").arg("--version").output();
    match ran {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(CountError::Missing(format!(
            "valgrind --version: {}",
            out.status
        ))),
        Err(e) => Err(CountError::Missing(format!("valgrind: {e}"))),
    }
}

/// The command that runs `exe` as a counting worker, its dumps under `dir`.
pub fn command(exe: &Path, dir: &Path) -> Command {
    let mut command = Command::new("setarch");
    command
        .args(["-R", "valgrind", "--tool=callgrind", "--collect-atstart=no"])
        .args(["--dump-line=no", "--compress-strings=no"])
        .arg(format!(
            "--callgrind-out-file={}",
            dir.join("callgrind.out.%p").display()
        ))
        .arg(exe)
        .env(COUNT, "instructions");
    command
}

/// Counts every benchmark `worker` serves, in its order, until it ends.
pub fn count_all(
    worker: &mut Worker,
    dir: &Path,
    cancel: &Cancel,
) -> Result<Vec<(String, Count)>, CountError> {
    let mut dumps = Dumps {
        dir: dir.to_path_buf(),
        pid: worker.pid(),
        taken: 0,
    };
    let mut counts = vec![];
    while let Some(id) = worker.ready(LIMIT, cancel)? {
        counts.push((id.clone(), count_one(worker, &mut dumps, &id, cancel)?));
        worker.move_on()?;
    }
    Ok(counts)
}

fn count_one(
    worker: &mut Worker,
    dumps: &mut Dumps,
    id: &str,
    cancel: &Cancel,
) -> Result<Count, CountError> {
    let mut iters = 1;
    loop {
        let counted = dumps.run(worker, iters, &format!("{id} calibrating"), cancel)?;
        if counted >= TARGET || iters >= MAX_ITERS {
            break;
        }
        let factor = TARGET as f64 / counted.max(1) as f64;
        iters = ((iters as f64 * factor.clamp(1.5, 10.0)).ceil() as u64).min(MAX_ITERS);
    }
    let first = dumps.run(worker, iters, &format!("{id} 1"), cancel)? as f64;
    let second = dumps.run(worker, iters, &format!("{id} 2"), cancel)? as f64;
    let mean = (first + second) / 2.0;
    Ok(Count {
        per_op: mean / iters as f64,
        repeat: match mean > 0.0 {
            true => (first - second).abs() / mean,
            false => 0.0,
        },
        iters,
    })
}

/// The dump files one worker's callgrind writes, read in turn.
struct Dumps {
    dir: PathBuf,
    pid: u32,
    taken: usize,
}

impl Dumps {
    /// Instructions counted in `iters` ops of the worker's benchmark.
    fn run(
        &mut self,
        worker: &mut Worker,
        iters: u64,
        label: &str,
        cancel: &Cancel,
    ) -> Result<u64, CountError> {
        worker.run(iters, LIMIT, cancel)?;
        match worker.ask(&Request::Dump(label.to_string()), LIMIT, cancel)? {
            Reply::Dumped => {}
            reply => return Err(worker.unexpected("dump", reply).into()),
        }
        self.taken += 1;
        let path = self
            .dir
            .join(format!("callgrind.out.{}.{}", self.pid, self.taken));
        let text = std::fs::read_to_string(&path).map_err(|e| CountError::Dump {
            path: path.clone(),
            message: e.to_string(),
        })?;
        instructions(&text, label).map_err(|message| CountError::Dump { path, message })
    }
}

/// The `Ir` total of a callgrind dump, checked to be the one labelled `label`.
fn instructions(text: &str, label: &str) -> Result<u64, String> {
    let trigger = format!("desc: Trigger: Client Request: {label}");
    if !text.lines().any(|line| line.trim_end() == trigger) {
        return Err(format!("it is not the dump labelled {label:?}"));
    }
    let total = text
        .lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or(line.strip_prefix("totals:"))
        })
        .ok_or("it has no summary line")?;
    let first = total.split_whitespace().next().unwrap_or("");
    first
        .parse()
        .map_err(|_| format!("its summary {total:?} is not a count"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_total_of_the_labelled_dump() {
        let dump = "version: 1\ncreator: callgrind-3.19.0\npid: 7\ncmd: key\npart: 2\n\n\
                    desc: I1 cache: \ndesc: Timerange: Basic block 1 - 2\n\
                    desc: Trigger: Client Request: key/int/set 1\n\npositions: line\n\
                    events: Ir\nsummary: 123456\n\nfn=main\n0 3\ntotals: 123456\n";
        assert_eq!(instructions(dump, "key/int/set 1"), Ok(123456));
        assert!(instructions(dump, "key/int/set 2").is_err());
        assert!(instructions("desc: Trigger: Client Request: x\n", "x").is_err());
    }
}
