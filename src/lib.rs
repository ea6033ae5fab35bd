//! aerobench: a benchmark suite for the Aerospike Rust client (`aerospike-core`).
//!
//! - [`server`]: the embedded in-memory server that speaks the Aerospike wire protocol
//!   (independent of everything else here).
//! - [`target`]: where the cluster comes from (embedded, container, remote).
//! - [`meta`]: what every number was measured against.
//! - [`harness`] and [`profile`]: what every Criterion group shares, and its flamegraphs.

pub mod harness;
pub mod meta;
pub mod profile;
pub mod server;
pub mod target;
