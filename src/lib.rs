//! aerobench: a benchmark suite for the Aerospike Rust client (`aerospike-core`).
//!
//! - [`server`]: the embedded in-memory server that speaks the Aerospike wire protocol, a
//!   crate of its own (`crates/server`, which depends on nothing of the suite), re-exported
//!   here.
//! - [`cluster`]: where the cluster comes from (embedded, container, remote).
//! - [`meta`]: what every number was measured against.
//! - [`criterion_results`]: Criterion's saved results read back (baseline comparison, batch
//!   model), and the fingerprint kept beside them.
//! - [`server_share`]: the embedded server's own time per get, measured around
//!   `single_op/async/get` for the report's waterfall.
//! - [`op_counters`]: what one op costs besides time (allocations, context switches, new
//!   connections), counted while a benchmark is profiled.
//! - [`site`]: the HTML and Markdown report built from all of the above.
//! - [`compare`]: two commits or two clients built side by side and compared benchmark by
//!   benchmark (`aerobench compare`).
//! - [`clock`]: calendar dates from Unix time.
//! - [`cpu`]: the CPU time this process has used.
//! - [`durations`]: nanoseconds written for people.
//! - [`files`]: results and reports written whole or not at all.
//! - [`profile`]: flamegraphs drawn from folded stacks, and differential ones. What every
//!   Criterion group shares (and the pprof sampling) is the `groups` crate (`crates/groups`),
//!   which only the benchmarks link.
//! - [`workload`]: the mix, key ids and values a run uses.
//! - [`driver`]: the driver behind the CLI and the throughput groups, closed loop or at a
//!   fixed rate.
//! - [`faults`]: faults during a run and what they did (time to detect, to recover).
//! - [`knee`]: the highest rate that holds a latency SLA (`aerobench knee`).
//! - [`stats`]: latency histograms, outcome counts and the figures reported.
//! - [`run_output`]: what a run prints and keeps: the ticker line, the summary block and
//!   the JSON result.
//! - [`verify`]: `run --verify`: every write versioned, each key's last acknowledged
//!   version logged by its one writer, and every key read back after the run.

pub use aerobench_server as server;

pub mod clock;
pub mod cluster;
pub mod compare;
pub mod cpu;
pub mod criterion_results;
pub mod doctor;
pub mod driver;
pub mod durations;
pub mod faults;
pub mod files;
pub mod knee;
pub mod meta;
pub mod op_counters;
pub mod profile;
pub mod run_output;
pub mod server_share;
pub mod site;
pub mod stats;
pub mod verify;
pub mod workload;

/// Whether this runs under CI (`CI=true`), where a missing real server fails instead of
/// skipping.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Prints `aerobench: <message>` and exits with status 2: the one-line error of a bad
/// setting, for the CLI and the benchmark binaries alike.
pub fn exit_with(message: impl std::fmt::Display) -> ! {
    eprintln!("aerobench: {message}");
    std::process::exit(2)
}
