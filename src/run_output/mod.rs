//! What a run shows and keeps: the per-second ticker line, the summary block, the seeding
//! progress bar, and the JSON result file.
//!
//! - [`ticker`]: one line per window.
//! - [`summary`]: the block printed at the end.
//! - [`result`]: the JSON result (fingerprint, knobs, outcome, per-second series).
//! - [`progress`]: the seeding progress bar.

pub mod progress;
pub mod result;
pub mod summary;
pub mod ticker;

pub use crate::durations::latency;
