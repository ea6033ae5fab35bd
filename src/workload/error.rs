//! A workload no run can use, each message naming the flag and a valid value.

use super::object::MAX_VALUE_BYTES;
use super::{MAX_BATCH, MAX_CALL_BYTES, ObjectSpec};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    #[error("invalid workload {0:?}: use RU,<read%> (e.g. RU,50), RR[,<read%>] or I")]
    Mix(String),
    #[error(
        "invalid object spec {0:?}: use I8, S<bytes> or B<bytes> with 1 to {MAX_VALUE_BYTES} bytes (e.g. S100)"
    )]
    Object(String),
    #[error("invalid key count {0}: use -k 1 or more")]
    Keys(u64),
    #[error("invalid --batch-size {0}: use 1 to {MAX_BATCH}")]
    BatchSize(usize),
    #[error(
        "--batch-size {batch} × {object} is more than {} MiB per call: lower the batch size or the object size",
        MAX_CALL_BYTES >> 20
    )]
    CallSize { batch: usize, object: ObjectSpec },
}
