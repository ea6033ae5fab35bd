//! What a paired comparison and its workers say to each other. A worker is a bench binary
//! started with [`WORKER`] naming the benchmarks it serves; for each, in the order its
//! groups define them, it says [`Reply::Ready`] and then answers requests on its stdin,
//! one line each, until [`Request::Next`]. Replies are stdout lines that start with
//! [`PREFIX`], so anything else a process prints there is ignored.

use std::fmt;

/// The benchmark ids (`group/id`, comma-separated) a worker serves.
pub const WORKER: &str = "AEROBENCH_WORKER";
/// Set to `instructions` when the worker runs under callgrind: its spans then switch
/// collection on around each measured op.
pub const COUNT: &str = "AEROBENCH_WORKER_COUNT";
/// Every reply line starts with this.
pub const PREFIX: &str = "@aerobench ";

/// From the comparison to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Run `iters` ops; answer [`Reply::Nanos`].
    Run(u64),
    /// Run `iters` ops counting the process's system calls; answer [`Reply::Syscalls`].
    Syscalls(u64),
    /// Write callgrind's counts since the last dump under this label; answer
    /// [`Reply::Dumped`].
    Dump(String),
    /// Done with this benchmark: go on to the next one the worker serves, or exit.
    Next,
}

/// From a worker to the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Serving this benchmark.
    Ready(String),
    /// The measured time of a [`Request::Run`].
    Nanos(u64),
    /// System calls and measured time of a [`Request::Syscalls`] (`None`: not countable here).
    Syscalls {
        calls: Option<u64>,
        nanos: u64,
    },
    Dumped,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Run(iters) => write!(f, "run {iters}"),
            Request::Syscalls(iters) => write!(f, "syscalls {iters}"),
            Request::Dump(label) => write!(f, "dump {label}"),
            Request::Next => f.write_str("next"),
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PREFIX)?;
        match self {
            Reply::Ready(id) => write!(f, "ready {id}"),
            Reply::Nanos(nanos) => write!(f, "ns {nanos}"),
            Reply::Syscalls { calls, nanos } => match calls {
                Some(calls) => write!(f, "syscalls {calls} {nanos}"),
                None => write!(f, "syscalls - {nanos}"),
            },
            Reply::Dumped => f.write_str("dumped"),
        }
    }
}

impl Request {
    pub fn parse(line: &str) -> Result<Request, String> {
        let (verb, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        let iters = || {
            rest.parse::<u64>()
                .map_err(|_| format!("{line:?}: not a count"))
        };
        match verb {
            "run" => Ok(Request::Run(iters()?)),
            "syscalls" => Ok(Request::Syscalls(iters()?)),
            "dump" => Ok(Request::Dump(rest.to_string())),
            "next" => Ok(Request::Next),
            _ => Err(format!("{line:?} is not a request")),
        }
    }
}

impl Reply {
    /// The reply on `line`, `None` for a line that is not one (other output).
    pub fn parse(line: &str) -> Option<Reply> {
        let words: Vec<&str> = line.strip_prefix(PREFIX)?.split_whitespace().collect();
        let number = |w: &str| w.parse::<u64>().ok();
        match words.as_slice() {
            ["ready", id] => Some(Reply::Ready(id.to_string())),
            ["ns", nanos] => Some(Reply::Nanos(number(nanos)?)),
            ["syscalls", calls, nanos] => Some(Reply::Syscalls {
                calls: number(calls),
                nanos: number(nanos)?,
            }),
            ["dumped"] => Some(Reply::Dumped),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_read_back_as_written() {
        for request in [
            Request::Run(7),
            Request::Syscalls(3),
            Request::Dump("key/int/set 2".into()),
            Request::Next,
        ] {
            assert_eq!(Request::parse(&request.to_string()), Ok(request));
        }
        for reply in [
            Reply::Ready("batch/read/1".into()),
            Reply::Nanos(123),
            Reply::Syscalls {
                calls: Some(9),
                nanos: 5,
            },
            Reply::Syscalls {
                calls: None,
                nanos: 5,
            },
            Reply::Dumped,
        ] {
            assert_eq!(Reply::parse(&reply.to_string()), Some(reply));
        }
        assert_eq!(Reply::parse("aerobench: measuring against …"), None);
        assert!(Request::parse("run many").is_err());
    }
}
