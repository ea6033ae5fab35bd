//! The server's own share of a get, measured by the server rather than inferred: the
//! `single_op` group reads the embedded server's get totals (the
//! [`service_time`](crate::server::service_time) info extension) around
//! `single_op/async/get` and keeps their mean beside Criterion's results, where the
//! report's waterfall reads it. A target that does not answer the extension (the real
//! server, remote nodes) leaves it unknown.

use std::path::{Path, PathBuf};

use aerospike_core::Client;
use aerospike_core::policy::AdminPolicy;
use serde::{Deserialize, Serialize};

use crate::meta::Fingerprint;
use crate::server::command::Kind;
use crate::server::service_time::{INFO_NAME, Request, Total, parse};

/// The server's time per get over one benchmark, and what it was measured against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerShare {
    pub fingerprint: Fingerprint,
    /// Gets the server served during the benchmark (warm-up included).
    pub gets: u64,
    /// Mean server time per get, ns: from a complete request frame to its reply written.
    /// `None` when the target does not report it.
    pub mean_ns: Option<f64>,
}

impl ServerShare {
    /// `<criterion dir>/aerobench/server_share.json`.
    pub fn path(criterion_dir: &Path) -> PathBuf {
        criterion_dir.join("aerobench").join("server_share.json")
    }

    /// The share last recorded under `criterion_dir`, if any.
    pub fn load(criterion_dir: &Path) -> Option<ServerShare> {
        let text = std::fs::read_to_string(Self::path(criterion_dir)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The share of the gets served between two readings of [`get_totals`]; unknown when
    /// either is.
    pub fn between(
        before: Option<Total>,
        after: Option<Total>,
        fingerprint: Fingerprint,
    ) -> ServerShare {
        let served = before.zip(after).map(|(b, a)| Total {
            count: a.count.saturating_sub(b.count),
            sum_ns: a.sum_ns.saturating_sub(b.sum_ns),
        });
        ServerShare {
            fingerprint,
            gets: served.map_or(0, |s| s.count),
            mean_ns: served
                .filter(|s| s.count > 0)
                .map(|s| s.sum_ns as f64 / s.count as f64),
        }
    }
}

/// The server's get totals summed over every node of `client`'s cluster; `None` when a
/// node does not answer them.
pub async fn get_totals(client: &Client) -> Option<Total> {
    let get = Request::Single(Kind::Get).index();
    let mut sum = Total::default();
    for node in client.nodes() {
        let info = node
            .info(&AdminPolicy::default(), &[INFO_NAME])
            .await
            .ok()?;
        let total = parse(info.get(INFO_NAME)?)?[get];
        sum.count += total.count;
        sum.sum_ns += total.sum_ns;
    }
    Some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_is_over_the_gets_between_two_readings() {
        let total = |count, sum_ns| Some(Total { count, sum_ns });
        let share =
            ServerShare::between(total(10, 5_000), total(14, 13_000), Fingerprint::default());
        assert_eq!((share.gets, share.mean_ns), (4, Some(2_000.0)));
        for (before, after) in [
            (None, total(1, 1)),
            (total(1, 1), None),
            (total(1, 1), total(1, 1)),
        ] {
            let share = ServerShare::between(before, after, Fingerprint::default());
            assert_eq!(share.mean_ns, None, "unknown, or no get served");
        }
    }
}
