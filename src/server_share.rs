//! The server's own share of a get, measured by the server rather than inferred: the
//! `single_op` group reads it around `single_op/async/get` and keeps it beside Criterion's
//! results, where the report's waterfall reads it.
//!
//! - The embedded server times every request exactly and answers its totals (the
//!   [`service_time`](crate::server::service_time) info extension): the mean is read from
//!   two readings, before and after.
//! - The real server keeps log2 latency histograms per namespace and answers the last
//!   ticker slice of each (info `latencies:`): read throughout the benchmark, each slice
//!   once, they bound the mean between the buckets' edges, when the server keeps them in
//!   microseconds (`microsecond-histograms true`, which the container target sets).
//! - Otherwise the share is unknown, and says why.

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
    /// Where a histogram gave the mean: the least and the most it can be, ns (the mean is
    /// then an estimate inside them). `None` for an exact mean.
    #[serde(default)]
    pub bounds_ns: Option<(f64, f64)>,
    /// How the mean was measured, or why it is unknown.
    #[serde(default)]
    pub how: String,
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
            gets: served.map_or(0, |s| s.count),
            mean_ns: served
                .filter(|s| s.count > 0)
                .map(|s| s.sum_ns as f64 / s.count as f64),
            bounds_ns: None,
            how: match served {
                Some(_) => "timed by the server, every get".into(),
                None => format!("the {} target does not report it", fingerprint.target),
            },
            fingerprint,
        }
    }

    /// The share of the gets in `slices` (each read once), weighted by the gets each held;
    /// unknown when they hold none.
    pub fn from_slices(slices: &[Slice], fingerprint: Fingerprint) -> ServerShare {
        let weight: f64 = slices.iter().map(|s| s.ops_per_s).sum();
        let mix = |f: fn(&Slice) -> (f64, f64, f64)| {
            slices.iter().fold((0.0, 0.0, 0.0), |acc, s| {
                let (mean, low, high) = f(s);
                let w = s.ops_per_s / weight;
                (acc.0 + w * mean, acc.1 + w * low, acc.2 + w * high)
            })
        };
        let (mean, low, high) = mix(Slice::mean_ns);
        let known = weight > 0.0;
        ServerShare {
            fingerprint,
            // The slices give rates; a count is their sum over one-second ticks at best.
            gets: 0,
            mean_ns: known.then_some(mean),
            bounds_ns: known.then_some((low, high)),
            how: match known {
                true => format!(
                    "from the server's read histogram (info latencies:, {} ticker slice{}, log2 buckets)",
                    slices.len(),
                    if slices.len() == 1 { "" } else { "s" }
                ),
                false => "the server's read histogram held no read during the benchmark".into(),
            },
        }
    }

    /// Unknown, and why.
    pub fn unknown(why: String, fingerprint: Fingerprint) -> ServerShare {
        ServerShare {
            fingerprint,
            gets: 0,
            mean_ns: None,
            bounds_ns: None,
            how: why,
        }
    }
}

/// One ticker slice of a real server's latency histogram: its rate and the share of ops
/// at or above each power of two of its unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    pub ops_per_s: f64,
    /// `above[i]`: the fraction of ops that took 2^i units or more.
    pub above: Vec<f64>,
    pub unit_ns: f64,
}

impl Slice {
    /// One histogram of a `latencies:` answer, `{test}-read:usec,5751.0,0.05,0.02,…` (the
    /// unit, ops per second, then the percentage above 1, 2, 4, … units); `Err` says why
    /// it is no use (empty, or in milliseconds, far coarser than a get).
    pub fn parse(answer: &str) -> Result<Slice, String> {
        let (name, values) = answer
            .rsplit_once(':')
            .ok_or("no histogram in the answer")?;
        let mut fields = values.split(',');
        let unit_ns = match fields.next() {
            Some("usec") => 1e3,
            Some("msec") => {
                return Err(format!(
                    "{name} is kept in milliseconds: start the server with `microsecond-histograms true`"
                ));
            }
            _ => return Err(format!("{name} holds no slice yet")),
        };
        let numbers: Vec<f64> = fields
            .map(|f| {
                f.parse()
                    .map_err(|_| format!("{name}: {f:?} is not a number"))
            })
            .collect::<Result<_, _>>()?;
        let (&ops_per_s, percentages) = numbers.split_first().ok_or("no rate")?;
        Ok(Slice {
            ops_per_s,
            above: percentages.iter().map(|p| p / 100.0).collect(),
            unit_ns,
        })
    }

    /// The mean (an op spread evenly on a log scale within its bucket), and the least and
    /// the most it can be (every op at its bucket's lower or upper edge), ns. Ops below
    /// one unit count from 0 to 1; above the last edge, from it to twice it.
    fn mean_ns(&self) -> (f64, f64, f64) {
        let mut fractions = vec![(0.0, 1.0, 1.0 - self.above.first().unwrap_or(&0.0))];
        for (i, share) in self.above.iter().enumerate() {
            let next = self.above.get(i + 1).unwrap_or(&0.0);
            let edge = 2f64.powi(i as i32);
            fractions.push((edge, 2.0 * edge, (share - next).max(0.0)));
        }
        let (mut mean, mut low, mut high) = (0.0, 0.0, 0.0);
        for (from, to, fraction) in fractions {
            // The mean of a log-uniform value on [a, 2a] is a / ln 2.
            let middle = match from {
                0.0 => 0.5,
                a => a / std::f64::consts::LN_2,
            };
            mean += fraction * middle;
            low += fraction * from;
            high += fraction * to;
        }
        (mean * self.unit_ns, low * self.unit_ns, high * self.unit_ns)
    }
}

/// Each node's answer to info `name`; `None` when a node does not answer.
pub async fn answers(client: &Client, name: &str) -> Option<Vec<String>> {
    let mut all = vec![];
    for node in client.nodes() {
        let mut info = node.info(&AdminPolicy::default(), &[name]).await.ok()?;
        all.push(info.swap_remove(name)?);
    }
    Some(all)
}

/// The server's get totals summed over every node of `client`'s cluster; `None` when a
/// node does not answer them.
pub async fn get_totals(client: &Client) -> Option<Total> {
    let get = Request::Single(Kind::Get).index();
    let mut sum = Total::default();
    for answer in answers(client, INFO_NAME).await? {
        let total = parse(&answer)?[get];
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

    #[test]
    fn a_slice_is_read_from_a_latencies_answer() {
        let slice =
            Slice::parse("{test}-read:usec,2000.0,100.00,100.00,100.00,50.00,0.00").unwrap();
        assert_eq!((slice.ops_per_s, slice.unit_ns), (2000.0, 1e3));
        assert_eq!(slice.above, [1.0, 1.0, 1.0, 0.5, 0.0]);
        // Half the gets took 4–8 µs, half 8–16 µs.
        let (mean, low, high) = slice.mean_ns();
        assert_eq!((low, high), (6_000.0, 12_000.0));
        assert!((mean - 6_000.0 / std::f64::consts::LN_2).abs() < 1e-6);
        let ms = Slice::parse("{test}-read:msec,5751.0,0.05,0.02").unwrap_err();
        assert!(ms.contains("microsecond-histograms true"), "{ms}");
        assert!(
            Slice::parse("{test}-read:")
                .unwrap_err()
                .contains("no slice yet")
        );
    }

    #[test]
    fn slices_weigh_by_the_gets_they_held() {
        let slice = |ops_per_s, above: &[f64]| Slice {
            ops_per_s,
            above: above.to_vec(),
            unit_ns: 1e3,
        };
        // 3000 gets/s all at 1–2 µs, 1000 gets/s all at 2–4 µs.
        let slices = [slice(3000.0, &[1.0, 0.0]), slice(1000.0, &[1.0, 1.0, 0.0])];
        let share = ServerShare::from_slices(&slices, Fingerprint::default());
        assert_eq!(share.bounds_ns, Some((1_250.0, 2_500.0)));
        let none = ServerShare::from_slices(&[slice(0.0, &[])], Fingerprint::default());
        assert_eq!((none.mean_ns, none.bounds_ns), (None, None));
        assert!(none.how.contains("held no read"), "{}", none.how);
    }
}
