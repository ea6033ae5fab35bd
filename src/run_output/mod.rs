//! What a run shows and keeps: the per-second ticker line, the summary block, the seeding
//! progress bar, the JSON result file, and two such files compared.
//!
//! - [`ticker`]: one line per window.
//! - [`summary`]: the block printed at the end.
//! - [`result`]: the JSON result (fingerprint, knobs, outcome, per-second series).
//! - [`progress`]: the seeding progress bar.
//! - [`diff`]: two results compared metric by metric (`aerobench diff`).

pub mod diff;
pub mod progress;
pub mod result;
pub mod summary;
pub mod ticker;

pub use crate::durations::latency;
