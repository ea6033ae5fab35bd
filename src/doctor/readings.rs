//! CPU readings taken at a probe's two edges: the client process and its busiest thread
//! (`/proc/self/task`), the server (a process's `/proc/<pid>/stat`, or a container's
//! cgroup), and the machine's busy share of the client's cores (`/proc/stat`). Each is a
//! counter; a probe's figure is the difference over its own wall time, so every share is a
//! ratio measured in that probe.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cluster::placement::CpuSet;

/// Clock ticks per second of `/proc`'s CPU times.
fn ticks_per_second() -> f64 {
    // SAFETY: `sysconf` only reads a system constant.
    match unsafe { libc::sysconf(libc::_SC_CLK_TCK) } {
        n if n > 0 => n as f64,
        _ => 100.0,
    }
}

/// utime + stime of a `/proc/.../stat` line, in ticks (fields 14 and 15, counted after
/// the command name, which may hold spaces).
fn stat_ticks(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    Some(fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?)
}

/// Where a server's CPU time is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCpu {
    /// A process on this machine (the embedded server): all its threads.
    Process(u32),
    /// A container's cgroup: `cpuacct.usage` (v1) or `cpu.stat` (v2) under this directory.
    Cgroup(PathBuf),
}

impl ServerCpu {
    /// The cgroup holding `pid` (a container's main process), where its CPU is counted.
    pub fn cgroup_of(pid: u32) -> Option<ServerCpu> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        let v1 = text.lines().find_map(|l| {
            let (_, rest) = l.split_once(':')?;
            let (controllers, path) = rest.split_once(':')?;
            controllers
                .split(',')
                .any(|c| c == "cpuacct")
                .then(|| PathBuf::from(format!("/sys/fs/cgroup/cpuacct{path}")))
        });
        let v2 = || {
            let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
            Some(PathBuf::from(format!("/sys/fs/cgroup{path}")))
        };
        v1.or_else(v2)
            .filter(|dir| dir.is_dir())
            .map(ServerCpu::Cgroup)
    }

    /// CPU time used so far.
    fn used(&self) -> Option<Duration> {
        match self {
            ServerCpu::Process(pid) => {
                let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                Some(Duration::from_secs_f64(
                    stat_ticks(&text)? as f64 / ticks_per_second(),
                ))
            }
            ServerCpu::Cgroup(dir) => {
                if let Ok(ns) = std::fs::read_to_string(dir.join("cpuacct.usage")) {
                    return Some(Duration::from_nanos(ns.trim().parse().ok()?));
                }
                let stat = std::fs::read_to_string(dir.join("cpu.stat")).ok()?;
                let usec = stat.lines().find_map(|l| l.strip_prefix("usage_usec "))?;
                Some(Duration::from_micros(usec.trim().parse().ok()?))
            }
        }
    }

    /// The cores the server may run on: its process's affinity; a cgroup's, the machine's.
    pub fn cores(&self) -> Option<usize> {
        match self {
            ServerCpu::Process(pid) => affinity(*pid).map(|set| set.len()),
            ServerCpu::Cgroup(_) => std::thread::available_parallelism().ok().map(|n| n.get()),
        }
    }
}

/// The CPUs process `pid` may run on.
pub fn affinity(pid: u32) -> Option<CpuSet> {
    CpuSet::of_process(pid as libc::pid_t).ok()
}

/// Busy and total ticks of the CPUs in `cpus`, from `/proc/stat`.
fn machine_ticks(cpus: &CpuSet) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let mut sum = (0, 0);
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(cpu) = fields
            .next()
            .and_then(|f| f.strip_prefix("cpu"))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        if !cpus.contains(cpu) {
            continue;
        }
        let values: Vec<u64> = fields.filter_map(|f| f.parse().ok()).collect();
        // user nice system idle iowait irq softirq steal (guest is inside user).
        let total: u64 = values.iter().take(8).sum();
        let idle = values.get(3).unwrap_or(&0) + values.get(4).unwrap_or(&0);
        sum.0 += total - idle;
        sum.1 += total;
    }
    (sum.1 > 0).then_some(sum)
}

/// CPU time of each thread of this process, by thread id.
fn thread_times() -> BTreeMap<u32, u64> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return BTreeMap::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| {
            let tid = entry.file_name().to_str()?.parse().ok()?;
            let text = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            Some((tid, stat_ticks(&text)?))
        })
        .collect()
}

/// The counters at one edge of a probe.
#[derive(Debug, Clone)]
pub struct Reading {
    at: Instant,
    process: Duration,
    threads: BTreeMap<u32, u64>,
    server: Option<Duration>,
    machine: Option<(u64, u64)>,
}

/// Where a probe reads: the server's CPU, and the client's cores for the machine's share.
#[derive(Debug, Clone)]
pub struct Gauges {
    pub server: Option<ServerCpu>,
    pub client_cpus: CpuSet,
}

impl Gauges {
    pub fn read(&self) -> Reading {
        Reading {
            at: Instant::now(),
            process: crate::cpu::process_time(),
            threads: thread_times(),
            server: self.server.as_ref().and_then(ServerCpu::used),
            machine: machine_ticks(&self.client_cpus),
        }
    }
}

/// What the CPUs did between two readings, in cores (1.0 = one core all the time).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CpuUse {
    /// The client process, all threads.
    pub client_cores: f64,
    /// Its busiest thread.
    pub busiest_thread: f64,
    /// The server, where it can be read.
    pub server_cores: Option<f64>,
    /// The share of the client's cores busy with anything (any process), 0 to 1.
    pub machine_busy: Option<f64>,
}

impl CpuUse {
    pub fn between(before: &Reading, after: &Reading) -> CpuUse {
        let wall = (after.at - before.at).as_secs_f64().max(1e-9);
        let ticks = ticks_per_second();
        let busiest = after
            .threads
            .iter()
            .map(|(tid, t)| t - before.threads.get(tid).copied().unwrap_or(0).min(*t))
            .max()
            .unwrap_or(0);
        CpuUse {
            client_cores: (after.process - before.process).as_secs_f64() / wall,
            busiest_thread: busiest as f64 / ticks / wall,
            server_cores: before
                .server
                .zip(after.server)
                .map(|(b, a)| a.saturating_sub(b).as_secs_f64() / wall),
            machine_busy: before.machine.zip(after.machine).and_then(|(b, a)| {
                let total = a.1.checked_sub(b.1).filter(|&t| t > 0)?;
                Some(a.0.saturating_sub(b.0) as f64 / total as f64)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_user_plus_system_ticks() {
        let line = "42 (tokio-rt worker) S 1 42 42 0 -1 4194560 10 0 0 0 123 45 0 0 20 0 9 0";
        assert_eq!(stat_ticks(line), Some(168));
    }

    #[test]
    fn work_shows_in_the_process_and_its_busiest_thread() {
        let gauges = Gauges {
            server: Some(ServerCpu::Process(std::process::id())),
            client_cpus: CpuSet::allowed().unwrap(),
        };
        let before = gauges.read();
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
        }
        let used = CpuUse::between(&before, &gauges.read());
        assert!(used.busiest_thread > 0.3, "{used:?} {x}");
        assert!(used.client_cores >= used.busiest_thread * 0.9, "{used:?}");
        assert!(used.server_cores.unwrap() > 0.3, "{used:?}");
        assert!(used.machine_busy.unwrap() > 0.0, "{used:?}");
    }
}
