//! Which cores the embedded server and the client run on (`AEROBENCH_SERVER_CPUS`,
//! `AEROBENCH_CLIENT_CPUS`): on disjoint cores the client's ceiling is measured without the
//! server competing for them. Unset, both share every core the process may use.

use std::fmt;

use super::{Error, Kind, SettingError};

/// A set of CPU numbers, as Linux's cpuset lists write them (`0-3,6`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuSet(Vec<usize>);

impl CpuSet {
    /// `0`, `0-3`, `0-3,6`: numbers and inclusive ranges, comma-separated.
    pub fn parse(value: &str) -> Option<CpuSet> {
        let mut cpus = Vec::new();
        for part in value.split(',').map(str::trim) {
            let (first, last) = part.split_once('-').unwrap_or((part, part));
            let (first, last): (usize, usize) = (first.parse().ok()?, last.parse().ok()?);
            if first > last || last >= libc::CPU_SETSIZE as usize {
                return None;
            }
            cpus.extend(first..=last);
        }
        cpus.sort_unstable();
        cpus.dedup();
        Some(CpuSet(cpus))
    }

    /// The CPUs this process may run on.
    pub fn allowed() -> std::io::Result<CpuSet> {
        Self::of_process(0)
    }

    /// The CPUs process `pid` may run on (0: this thread).
    pub fn of_process(pid: libc::pid_t) -> std::io::Result<CpuSet> {
        // SAFETY: `sched_getaffinity` writes at most `size_of::<cpu_set_t>()` bytes into the
        // set we pass, and `CPU_ISSET` reads it within bounds.
        unsafe {
            let mut set = std::mem::zeroed::<libc::cpu_set_t>();
            if libc::sched_getaffinity(pid, size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let cpus = (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set));
            Ok(CpuSet(cpus.collect()))
        }
    }

    /// The `k`th of these CPUs (counting round), alone; `None` for an empty set.
    pub fn nth(&self, k: usize) -> Option<CpuSet> {
        let cpu = *self.0.get(k % self.0.len().max(1))?;
        Some(CpuSet(vec![cpu]))
    }

    pub fn is_subset(&self, of: &CpuSet) -> bool {
        self.0.iter().all(|c| of.0.contains(c))
    }

    pub fn overlaps(&self, other: &CpuSet) -> bool {
        self.0.iter().any(|c| other.0.contains(c))
    }

    pub fn contains(&self, cpu: usize) -> bool {
        self.0.contains(&cpu)
    }

    /// How many CPUs the set holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The CPUs in both sets.
    pub fn intersection(&self, other: &CpuSet) -> CpuSet {
        CpuSet(
            self.0
                .iter()
                .copied()
                .filter(|c| other.contains(*c))
                .collect(),
        )
    }

    /// The kernel's form of this set.
    pub fn mask(&self) -> libc::cpu_set_t {
        // SAFETY: an all-zero `cpu_set_t` is the empty set; `parse` bounds every CPU below
        // `CPU_SETSIZE`.
        unsafe {
            let mut set = std::mem::zeroed::<libc::cpu_set_t>();
            for &cpu in &self.0 {
                libc::CPU_SET(cpu, &mut set);
            }
            set
        }
    }
}

/// Restricts the calling thread, and every thread it starts afterwards, to `mask`. Only a
/// system call, so it may run between fork and exec.
pub fn pin_current_thread(mask: &libc::cpu_set_t) -> std::io::Result<()> {
    // SAFETY: the mask is a valid, fully initialised `cpu_set_t` of the size we pass.
    match unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), mask) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

impl fmt::Display for CpuSet {
    /// Ranges collapsed: `0-3,6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &cpu in &self.0 {
            match runs.last_mut() {
                Some((_, last)) if *last + 1 == cpu => *last = cpu,
                _ => runs.push((cpu, cpu)),
            }
        }
        let parts: Vec<String> = runs
            .iter()
            .map(|&(a, b)| match a == b {
                true => a.to_string(),
                false => format!("{a}-{b}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// Where the server and the client run; `None` leaves a side on every allowed core.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    pub server: Option<CpuSet>,
    pub client: Option<CpuSet>,
}

impl Placement {
    /// One-line errors for a placement this process cannot make: CPUs it may not use, or a
    /// server it does not start.
    pub fn check(&self, kind: Kind) -> Result<(), SettingError> {
        if self.server.is_some() && kind != Kind::Embedded {
            return Err(SettingError::ServerCpusNotOurs(kind));
        }
        let Ok(allowed) = CpuSet::allowed() else {
            return Ok(());
        };
        let sides = [
            ("AEROBENCH_SERVER_CPUS", &self.server),
            ("AEROBENCH_CLIENT_CPUS", &self.client),
        ];
        for (name, cpus) in sides {
            if let Some(cpus) = cpus.as_ref().filter(|c| !c.is_subset(&allowed)) {
                return Err(SettingError::CpusNotAllowed {
                    name,
                    cpus: cpus.to_string(),
                    allowed: allowed.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Puts this thread, and the runtimes and threads it starts from now on, on the
    /// client's CPUs. Called once the server is up, so a server child does not inherit them.
    pub fn pin_client(&self) -> Result<(), Error> {
        let Some(cpus) = &self.client else {
            return Ok(());
        };
        pin_current_thread(&cpus.mask()).map_err(|source| Error::Pin {
            cpus: cpus.to_string(),
            source,
        })
    }
}

impl fmt::Display for Placement {
    /// `shared`, or e.g. `server:0,client:1`, as the fingerprint records it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sides: Vec<String> = [("server", &self.server), ("client", &self.client)]
            .into_iter()
            .filter_map(|(side, cpus)| Some(format!("{side}:{}", cpus.as_ref()?)))
            .collect();
        match sides.is_empty() {
            true => f.write_str("shared"),
            false => f.write_str(&sides.join(",")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_print_as_cpuset_lists() {
        let set = CpuSet::parse("6, 0-3,2").unwrap();
        assert_eq!(set, CpuSet(vec![0, 1, 2, 3, 6]));
        assert_eq!(set.to_string(), "0-3,6");
        for bad in ["", "a", "3-1", "1-", "-1", "0,,1", "99999"] {
            assert_eq!(CpuSet::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn placement_names_each_pinned_side() {
        let one = |s| CpuSet::parse(s);
        assert_eq!(Placement::default().to_string(), "shared");
        let both = Placement {
            server: one("0"),
            client: one("1-3"),
        };
        assert_eq!(both.to_string(), "server:0,client:1-3");
        assert!(!both.server.unwrap().overlaps(&both.client.unwrap()));
    }

    #[test]
    fn only_the_embedded_server_and_allowed_cpus_can_be_placed() {
        let server = Placement {
            server: CpuSet::parse("0"),
            client: None,
        };
        assert!(server.check(Kind::Embedded).is_ok());
        let e = server.check(Kind::Remote).unwrap_err().to_string();
        assert!(e.contains("unset it for the remote target"), "{e}");
        let far = Placement {
            server: None,
            client: CpuSet::parse("1000"),
        };
        let e = far.check(Kind::Embedded).unwrap_err().to_string();
        assert!(
            e.starts_with("AEROBENCH_CLIENT_CPUS=1000 names CPUs"),
            "{e}"
        );
    }

    #[test]
    fn a_pinned_thread_runs_only_where_it_was_put() {
        let allowed = CpuSet::allowed().unwrap();
        let first = CpuSet(vec![allowed.0[0]]);
        let seen = std::thread::spawn(move || {
            pin_current_thread(&first.mask()).unwrap();
            CpuSet::allowed().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(seen, CpuSet(vec![allowed.0[0]]));
        assert!(seen.is_subset(&allowed));
    }
}
