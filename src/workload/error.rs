//! A workload no run can use, each message naming the flag and a valid value.

use super::bins::MAX_BINS;
use super::object::MAX_VALUE_BYTES;
use super::{KeyDist, MAX_BATCH, MAX_CALL_BYTES, MAX_NAMESPACE, MAX_SET};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    #[error("invalid workload {0:?}: use RU,<read%> (e.g. RU,50), RR[,<read%>] or I")]
    Mix(String),
    #[error(
        "invalid object spec {0:?}: use I8, S<bytes> or B<bytes> (or I, S:<bytes>, B:<bytes>) with 1 to {MAX_VALUE_BYTES} bytes, comma-separated for several bins (e.g. -o I,S:100)"
    )]
    Object(String),
    #[error("-o lists {0} object specs: use at most {MAX_BINS} (one bin each)")]
    Bins(usize),
    #[error("invalid --namespace {0:?}: use a name of 1 to {MAX_NAMESPACE} bytes (e.g. -n test)")]
    Namespace(String),
    #[error("invalid --set {0:?}: use a name of at most {MAX_SET} bytes (e.g. -s test)")]
    Set(String),
    #[error(
        "invalid --keys-dist {0:?}: use uniform, zipf[,<theta>] with 0 < theta < 1 (e.g. zipf,0.99) or hot,<key%>,<op%> (e.g. hot,10,90)"
    )]
    KeysDist(String),
    #[error(
        "--keys-dist {0} draws keys at random, but -w I writes them in order: drop --keys-dist or use -w RU,<read%> or RR"
    )]
    SequentialDist(KeyDist),
    #[error("invalid key count {0}: use -k 1 or more")]
    Keys(u64),
    #[error("invalid --batch-size {0}: use 1 to {MAX_BATCH}")]
    BatchSize(usize),
    #[error(
        "--batch-size {batch} × -o {object} is more than {} MiB per call: lower the batch size or the object sizes",
        MAX_CALL_BYTES >> 20
    )]
    CallSize { batch: usize, object: String },
}
