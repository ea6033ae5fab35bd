//! What one op costs besides time: heap allocations and bytes, context switches, and new
//! connections per op. The seed guide's findings were of this kind (a timer registered per
//! op, a pool that opens connections); these show them as numbers beside each benchmark.
//!
//! Counting costs a thread-local read and two uncontended atomic adds per allocation, so in
//! the benchmarks it is on only while a benchmark is profiled (`cargo bench --
//! --profile-time <s>`), where nothing is timed: the groups crate reads a [`Reading`] when
//! Criterion starts profiling a benchmark and another when it stops, divides by the ops
//! its per-op hook counted in between, and keeps the [`OpCounters`] beside the flamegraph.
//! `aerobench run` counts throughout and reads at the measured span's edges. The counts cover the whole pass: work a
//! benchmark does outside its timed region (building a fresh client, cloning an input)
//! is in them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use aerospike_core::Client;
use serde::{Deserialize, Serialize};

/// The system allocator, counting allocations and their bytes while [`set_counting`] is on;
/// off, it adds one relaxed load per call. Installed with `#[global_allocator]` by the
/// benchmark processes and the command line.
pub struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);

/// Slots the threads count in, so that threads on different cores never write the same
/// cache line: a count then costs a thread-local read and an uncontended add.
const SLOTS: usize = 64;

#[repr(align(128))]
struct Slot {
    allocations: AtomicU64,
    bytes: AtomicU64,
}

static COUNTS: [Slot; SLOTS] = [const {
    Slot {
        allocations: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    }
}; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's slot; `usize::MAX` until its first count. Const-initialised and without
    /// a destructor, so reading it never allocates.
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn count(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        let index = SLOT
            .try_with(|slot| {
                if slot.get() == usize::MAX {
                    slot.set(NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS);
                }
                slot.get()
            })
            .unwrap_or(0);
        COUNTS[index].allocations.fetch_add(1, Ordering::Relaxed);
        COUNTS[index]
            .bytes
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// Allocations and bytes counted so far, over every thread.
fn counted() -> (u64, u64) {
    COUNTS.iter().fold((0, 0), |(a, b), slot| {
        (
            a + slot.allocations.load(Ordering::Relaxed),
            b + slot.bytes.load(Ordering::Relaxed),
        )
    })
}

// SAFETY: every call is passed unchanged to `System`; counting touches only atomics and
// never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    /// A reallocation counts as an allocation of the new size: growing a buffer is a trip
    /// to the allocator like any other.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Turns counting on or off for the whole process.
pub fn set_counting(on: bool) {
    COUNTING.store(on, Ordering::Relaxed);
}

/// The process's totals at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    pub allocations: u64,
    pub bytes: u64,
    /// Context switches the process's threads made waiting (for a socket, a lock, a timer).
    pub voluntary_switches: u64,
    /// Context switches forced on them (time slice over, a higher-priority thread).
    pub involuntary_switches: u64,
}

impl Reading {
    pub fn now() -> Reading {
        let usage = crate::cpu::usage();
        let (allocations, bytes) = counted();
        Reading {
            allocations,
            bytes,
            voluntary_switches: usage.ru_nvcsw as u64,
            involuntary_switches: usage.ru_nivcsw as u64,
        }
    }
}

/// One benchmark's counters per op, over its profile pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpCounters {
    /// Ops the pass ran: the divisor.
    pub ops: u64,
    pub allocations: f64,
    pub bytes: f64,
    pub voluntary_switches: f64,
    pub involuntary_switches: f64,
    /// Connections the cluster accepted per op; `None` when the group has no cluster or
    /// the target does not say.
    pub new_connections: Option<f64>,
    /// System calls the process made per op; `None` where they could not be counted.
    #[serde(default)]
    pub syscalls: Option<f64>,
}

impl OpCounters {
    /// The counters of `ops` ops run between two readings (and between two readings of the
    /// cluster's accepted connections, when it reports them); `None` when no op ran.
    pub fn between(
        before: Reading,
        after: Reading,
        ops: u64,
        connections: Option<(u64, u64)>,
    ) -> Option<OpCounters> {
        let per_op = |b: u64, a: u64| a.saturating_sub(b) as f64 / ops as f64;
        (ops > 0).then(|| OpCounters {
            ops,
            allocations: per_op(before.allocations, after.allocations),
            bytes: per_op(before.bytes, after.bytes),
            voluntary_switches: per_op(before.voluntary_switches, after.voluntary_switches),
            involuntary_switches: per_op(before.involuntary_switches, after.involuntary_switches),
            new_connections: connections.map(|(b, a)| per_op(b, a)),
            syscalls: None,
        })
    }

    /// With the system calls a [`Syscalls`] counted over the same ops.
    pub fn with_syscalls(mut self, syscalls: Option<u64>) -> OpCounters {
        self.syscalls = syscalls.map(|n| n as f64 / self.ops as f64);
        self
    }

    /// `<bench dir>/profile/counters.json`, beside the flamegraph.
    pub fn path(profile_dir: &Path) -> PathBuf {
        profile_dir.join("counters.json")
    }

    /// The counters last recorded for the benchmark whose results are in `bench_dir`.
    pub fn load(bench_dir: &Path) -> Option<OpCounters> {
        let text = std::fs::read_to_string(Self::path(&bench_dir.join("profile"))).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// `3 allocs (412 B), 1.0 + 0.1 switches, 0 conns`: one cell of the report.
    pub fn summary(&self) -> String {
        let connections = self
            .new_connections
            .map_or("– conns".into(), |c| format!("{} conns", short(c)));
        let syscalls = self
            .syscalls
            .map_or(String::new(), |n| format!(", {} syscalls", short(n)));
        format!(
            "{} allocs ({} B), {} + {} switches, {connections}{syscalls}",
            short(self.allocations),
            short(self.bytes),
            short(self.voluntary_switches),
            short(self.involuntary_switches),
        )
    }
}

/// The process's system calls, counted by the kernel from when [`Syscalls::open`] ran: a
/// perf counter on the `raw_syscalls:sys_enter` tracepoint for each of its threads
/// (inherited by the threads they start, which count once they end). Each call then costs
/// the kernel a counter increment, so it is opened only where nothing is timed.
pub struct Syscalls {
    counters: Vec<std::fs::File>,
}

/// The tracepoint's id, as the kernel's tracing folder names it.
const SYS_ENTER_ID: &str = "/sys/kernel/tracing/events/raw_syscalls/sys_enter/id";

/// The first 64 bytes of `struct perf_event_attr` (`PERF_ATTR_SIZE_VER0`): enough for a
/// counting tracepoint event.
#[repr(C)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

impl Syscalls {
    /// Counters on every current thread; `None` where the kernel refuses them (no tracing
    /// folder, `perf_event_paranoid` above 1 without `CAP_PERFMON`, a seccomp filter).
    pub fn open() -> Option<Syscalls> {
        const PERF_TYPE_TRACEPOINT: u32 = 2;
        const INHERIT: u64 = 1 << 1;
        let id = std::fs::read_to_string(SYS_ENTER_ID)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let attr = PerfEventAttr {
            kind: PERF_TYPE_TRACEPOINT,
            size: size_of::<PerfEventAttr>() as u32,
            config: id,
            sample_period: 0,
            sample_type: 0,
            read_format: 0,
            flags: INHERIT,
            wakeup_events: 0,
            bp_type: 0,
            config1: 0,
        };
        let mut counters = vec![];
        for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let Some(tid) = task
                .file_name()
                .to_str()
                .and_then(|t| t.parse::<i32>().ok())
            else {
                continue;
            };
            // SAFETY: `attr` is a valid `perf_event_attr` of the size it states; the call
            // returns a new file descriptor we own, or -1.
            let fd = unsafe { libc::syscall(libc::SYS_perf_event_open, &attr, tid, -1, -1, 0) };
            if fd < 0 {
                // A thread that ended since the listing is no loss; a refusal is.
                match std::io::Error::last_os_error().raw_os_error() {
                    Some(libc::ESRCH) => continue,
                    _ => return None,
                }
            }
            // SAFETY: `fd` is a descriptor just opened for us and owned by nothing else.
            counters.push(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd as i32) });
        }
        Some(Syscalls { counters })
    }

    /// System calls counted so far, over every counter.
    pub fn count(&self) -> Option<u64> {
        use std::io::Read;
        let mut total = 0;
        for mut counter in &self.counters {
            let mut value = [0u8; 8];
            counter.read_exact(&mut value).ok()?;
            total += u64::from_ne_bytes(value);
        }
        Some(total)
    }
}

/// Connections the cluster of `client` has accepted, summed over its nodes (the
/// `client_connections_opened` of each node's `statistics`, the real server's name, which
/// the embedded server answers too); `None` when a node does not say.
pub async fn connections_opened(client: &Client) -> Option<u64> {
    let answers = crate::server_share::answers(client, "statistics").await?;
    answers
        .iter()
        .map(|a| statistic(a, "client_connections_opened"))
        .sum()
}

/// The value of `name` in a `name=value;…` statistics answer.
fn statistic(answer: &str, name: &str) -> Option<u64> {
    answer
        .split(';')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?
        .parse()
        .ok()
}

/// A per-op figure: whole numbers as such, fractions to two significant places.
fn short(value: f64) -> String {
    match value {
        v if v >= 10.0 || v == v.round() => format!("{v:.0}"),
        v if v >= 1.0 => format!("{v:.1}"),
        v => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static ALLOCATOR: CountingAllocator = CountingAllocator;

    #[test]
    fn counts_are_per_op_between_two_readings() {
        let reading = |n: u64| Reading {
            allocations: 10 * n,
            bytes: 1_000 * n,
            voluntary_switches: n,
            involuntary_switches: 0,
        };
        let counters = OpCounters::between(reading(1), reading(5), 4, Some((7, 9))).unwrap();
        assert_eq!(
            (
                counters.allocations,
                counters.bytes,
                counters.voluntary_switches
            ),
            (10.0, 1_000.0, 1.0)
        );
        assert_eq!(counters.new_connections, Some(0.5));
        assert_eq!(
            counters.summary(),
            "10 allocs (1000 B), 1 + 0 switches, 0.50 conns"
        );
        assert_eq!(OpCounters::between(reading(1), reading(2), 0, None), None);
    }

    #[test]
    fn a_statistic_is_found_by_its_whole_name() {
        let answer = "client_connections=3;client_connections_opened=17;x=1";
        assert_eq!(statistic(answer, "client_connections_opened"), Some(17));
        assert_eq!(statistic(answer, "client_connections"), Some(3));
        assert_eq!(statistic(answer, "client"), None);
    }

    /// The allocator counts while on and not while off. Installed here for this test binary
    /// as the benchmark processes install it.
    #[test]
    fn the_allocator_counts_only_while_on() {
        let allocate = |n: usize| std::hint::black_box(vec![0u8; n]);
        set_counting(true);
        let before = Reading::now();
        drop(allocate(4096));
        let after = Reading::now();
        set_counting(false);
        assert!(
            after.allocations > before.allocations,
            "{before:?} {after:?}"
        );
        assert!(after.bytes >= before.bytes + 4096, "{before:?} {after:?}");
        let before = Reading::now();
        drop(allocate(4096));
        assert_eq!(Reading::now().allocations, before.allocations);
    }

    /// The kernel counts this thread's system calls, and a thread it starts (once ended).
    #[test]
    fn system_calls_are_counted() {
        let syscalls = Syscalls::open().expect("perf counts the raw_syscalls:sys_enter tracepoint");
        let before = syscalls.count().unwrap();
        for _ in 0..100 {
            // SAFETY: getppid takes nothing and cannot fail.
            unsafe { libc::getppid() };
        }
        std::thread::spawn(|| {
            for _ in 0..100 {
                // SAFETY: as above.
                unsafe { libc::getppid() };
            }
        })
        .join()
        .unwrap();
        let counted = syscalls.count().unwrap() - before;
        assert!(counted >= 200, "{counted} system calls counted");
    }
}
