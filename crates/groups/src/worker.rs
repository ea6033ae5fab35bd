//! This process as a paired comparison's worker ([`aerobench::compare::protocol`]): set up
//! from the environment, it serves the benchmarks it was asked for through
//! [`Group::bench`](crate::group::Group::bench) and answers the comparison's requests.

use std::collections::HashSet;
use std::io::BufRead;
use std::sync::OnceLock;
use std::time::Duration;

use aerobench::compare::protocol::{COUNT, Reply, Request, WORKER};
use aerobench::op_counters::Syscalls;

use crate::{callgrind, span};

/// The benchmarks this worker serves.
pub struct Worker {
    ids: HashSet<String>,
}

/// This process's worker, if the comparison started it as one.
pub fn current() -> Option<&'static Worker> {
    static WORKER_: OnceLock<Option<Worker>> = OnceLock::new();
    WORKER_
        .get_or_init(|| {
            let ids = std::env::var(WORKER).ok()?;
            if std::env::var(COUNT).as_deref() == Ok("instructions") {
                span::count_instructions();
            }
            Some(Worker {
                ids: ids.split(',').map(str::to_string).collect(),
            })
        })
        .as_ref()
}

impl Worker {
    pub fn wants(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Says the benchmark is ready, then answers requests until the comparison moves on.
    /// A request it cannot read, or a closed stdin, ends the process: the comparison is
    /// gone or broken, and nothing measured could reach it.
    pub fn serve(&self, id: &str, routine: &mut dyn FnMut(u64) -> Duration) {
        println!("{}", Reply::Ready(id.to_string()));
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let line = line.unwrap_or_else(|e| crate::exit_with(format!("worker stdin: {e}")));
            let reply = match Request::parse(&line) {
                Ok(Request::Run(iters)) => Reply::Nanos(nanos(routine(iters))),
                Ok(Request::Syscalls(iters)) => {
                    let counter = Syscalls::open();
                    let before = counter.as_ref().and_then(Syscalls::count);
                    let measured = routine(iters);
                    let after = counter.as_ref().and_then(Syscalls::count);
                    Reply::Syscalls {
                        calls: before.zip(after).map(|(b, a)| a - b),
                        nanos: nanos(measured),
                    }
                }
                Ok(Request::Dump(label)) => {
                    callgrind::dump_stats_at(&label);
                    Reply::Dumped
                }
                Ok(Request::Next) => return,
                Err(e) => crate::exit_with(format!("worker: {e}")),
            };
            println!("{reply}");
        }
        crate::exit_with("worker: the comparison closed its requests")
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
