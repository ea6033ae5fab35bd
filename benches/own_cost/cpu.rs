//! CPU time of a process, a container's cgroup or a process tree, read from `/proc` and
//! cgroup v2 so each server's cost per op can be set beside the client's.

use std::path::PathBuf;

use serde::Serialize;
use tokio::runtime::Runtime;

/// CPU time split as the kernel accounts it: seconds, or µs per op once divided.
#[derive(Clone, Copy, Default, Serialize)]
pub(crate) struct Cpu {
    pub(crate) user: f64,
    pub(crate) system: f64,
}

impl Cpu {
    pub(crate) fn total(self) -> f64 {
        self.user + self.system
    }

    pub(crate) fn plus(self, other: Cpu) -> Cpu {
        Cpu {
            user: self.user + other.user,
            system: self.system + other.system,
        }
    }

    pub(crate) fn minus(self, earlier: Cpu) -> Cpu {
        Cpu {
            user: self.user - earlier.user,
            system: self.system - earlier.system,
        }
    }

    /// This process's CPU time so far (`getrusage`): the client's tend thread, Tokio
    /// workers and callers.
    pub(crate) fn of_this_process() -> Cpu {
        let (user, system) = aerobench::cpu::process_times();
        Cpu {
            user: user.as_secs_f64(),
            system: system.as_secs_f64(),
        }
    }

    pub(crate) fn scaled(self, by: f64) -> Cpu {
        Cpu {
            user: self.user * by,
            system: self.system * by,
        }
    }

    /// Microseconds per op of `self` seconds over `ops` ops.
    pub(crate) fn us_per_op(self, ops: u64) -> Cpu {
        Cpu {
            user: self.user * 1e6 / ops as f64,
            system: self.system * 1e6 / ops as f64,
        }
    }
}

/// Where a server's CPU time is read.
pub(crate) enum CpuSource {
    /// One process: `/proc/<pid>/stat`.
    Process(u32),
    /// A cgroup v2 directory: its `cpu.stat` covers every process of a container.
    Cgroup(PathBuf),
    /// A process and all its descendants, summed from `/proc` (no cgroup v2 here).
    Tree(u32),
}

impl CpuSource {
    pub(crate) fn read(&self) -> Result<Cpu, String> {
        match self {
            CpuSource::Process(pid) => proc_stat(&pid.to_string())
                .map(|(_, cpu)| cpu)
                .ok_or_else(|| format!("cannot read /proc/{pid}/stat")),
            CpuSource::Cgroup(dir) => cgroup_cpu(dir),
            CpuSource::Tree(root) => Ok(tree_cpu(*root)),
        }
    }
}

/// Parent pid and CPU seconds of process `pid` (`self` for this one) from `/proc`.
pub(crate) fn proc_stat(pid: &str) -> Option<(u32, Cpu)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name: ppid is field 4, utime and stime 14, 15.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let seconds = |i: usize| Some(fields.get(i)?.parse::<f64>().ok()? / ticks);
    let cpu = Cpu {
        user: seconds(11)?,
        system: seconds(12)?,
    };
    Some((fields.get(1)?.parse().ok()?, cpu))
}

/// `user_usec` and `system_usec` of a cgroup v2 `cpu.stat`.
pub(crate) fn cgroup_cpu(dir: &std::path::Path) -> Result<Cpu, String> {
    let path = dir.join("cpu.stat");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .map(|us| us / 1e6)
            .ok_or_else(|| format!("{} has no {name}", path.display()))
    };
    Ok(Cpu {
        user: field("user_usec ")?,
        system: field("system_usec ")?,
    })
}

/// CPU seconds of `root` and every live descendant.
pub(crate) fn tree_cpu(root: u32) -> Cpu {
    let processes: Vec<(u32, u32, Cpu)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let (ppid, cpu) = proc_stat(&pid.to_string())?;
            Some((pid, ppid, cpu))
        })
        .collect();
    let mut tree = vec![root];
    let mut total = Cpu::default();
    while let Some(pid) = tree.pop() {
        for &(child, parent, cpu) in &processes {
            if child == pid {
                total = total.plus(cpu);
            }
            if parent == pid {
                tree.push(child);
            }
        }
    }
    total
}

/// How a container's CPU is read: its main process's cgroup v2 directory when the
/// container's id is in its path (the process is this host's), else its process tree.
pub(crate) fn container_cpu(runtime: &Runtime, container: &str) -> Result<CpuSource, String> {
    use testcontainers::bollard::Docker;
    let (id, pid) = runtime.block_on(async {
        let docker = Docker::connect_with_defaults().map_err(|e| e.to_string())?;
        let info = docker
            .inspect_container(container, None)
            .await
            .map_err(|e| e.to_string())?;
        let pid = info.state.and_then(|s| s.pid).unwrap_or(0);
        Ok::<_, String>((info.id.unwrap_or_default(), pid as u32))
    })?;
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    if pid == 0 || id.is_empty() || !cgroups.contains(&id) {
        return Err(format!(
            "the processes of container {container} are not visible from this process, \
             so its CPU time cannot be read (Docker on another host or pid namespace?)"
        ));
    }
    let cgroup = cgroups
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .zip(cgroup2_mount())
        .map(|(path, mount)| mount.join(path.trim_start_matches('/')))
        .filter(|dir| dir.join("cpu.stat").exists());
    Ok(cgroup.map_or(CpuSource::Tree(pid), CpuSource::Cgroup))
}

/// Where cgroup v2 is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on hybrid
/// hosts), from this process's mount table.
pub(crate) fn cgroup2_mount() -> Option<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    table.lines().find_map(|line| {
        let (fields, fs) = line.split_once(" - ")?;
        let cgroup2 = fs.split_whitespace().next()? == "cgroup2";
        cgroup2.then(|| fields.split_whitespace().nth(4).map(PathBuf::from))?
    })
}
