//! Valgrind's client requests to callgrind, for counting the instructions of the measured
//! ops alone: a paired comparison's counting worker runs under
//! `valgrind --tool=callgrind --collect-atstart=no`, and [`Span`](crate::span::Span)s switch
//! collection on around each measured op. Off valgrind a request is a few register
//! rotations that change nothing (the sequence valgrind recognises), and the spans only
//! make one when the process counts.

/// `VG_USERREQ_TOOL_BASE('C', 'T')`: callgrind's requests (valgrind's `callgrind.h`).
const BASE: usize = ((b'C' as usize) << 24) | ((b'T' as usize) << 16);
const TOGGLE_COLLECT: usize = BASE + 2;
const DUMP_STATS_AT: usize = BASE + 3;

/// Switches callgrind's event collection on if it is off, off if it is on.
#[inline(always)]
pub fn toggle_collect() {
    request([TOGGLE_COLLECT, 0, 0, 0, 0, 0]);
}

/// Writes a profile of what was collected since the last dump, with `label` in its `desc:`
/// line, and zeroes the counts.
pub fn dump_stats_at(label: &str) {
    let label = std::ffi::CString::new(label.replace('\0', " ")).unwrap_or_default();
    request([DUMP_STATS_AT, label.as_ptr() as usize, 0, 0, 0, 0]);
}

/// Valgrind's special instruction sequence on x86-64 (`VALGRIND_DO_CLIENT_REQUEST_EXPR` in
/// `valgrind.h`): `rax` points at the request and its arguments, the answer comes back in
/// `rdx` (its default when not under valgrind). The four rotations of `rdi` add up to 128
/// bits, so they leave it as it was.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn request(args: [usize; 6]) -> usize {
    let result: usize;
    // SAFETY: the sequence reads `args` (which outlives the asm) and changes no register
    // but `rdx` (declared) and the flags (Rust assumes those clobbered).
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") 0usize => result,
            in("rax") args.as_ptr(),
            options(nostack),
        );
    }
    result
}

/// Elsewhere instructions are not counted (the comparison refuses `--metric instructions`
/// before it starts a counting worker).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn request(_args: [usize; 6]) -> usize {
    0
}
