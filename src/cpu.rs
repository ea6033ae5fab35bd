//! The CPU time this process has used, so a run can report CPU per op (the client's cost,
//! or the harness's own in self-overhead mode) and `own_cost` the client's beside the
//! server's; one `getrusage` reading serves both (and the context switches of
//! [`op_counters`](crate::op_counters)).

use std::time::Duration;

/// User plus system time of the whole process.
pub fn process_time() -> Duration {
    let (user, system) = process_times();
    user + system
}

/// This process's resource usage (all its threads).
pub fn usage() -> libc::rusage {
    // SAFETY: `getrusage` only writes the struct we pass.
    unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

/// User and system time of the whole process, apart.
pub fn process_times() -> (Duration, Duration) {
    let usage = usage();
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (time(usage.ru_utime), time(usage.ru_stime))
}

#[cfg(test)]
mod tests {
    #[test]
    fn grows_with_work() {
        let before = super::process_time();
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(super::process_time() > before, "{x}");
    }
}
