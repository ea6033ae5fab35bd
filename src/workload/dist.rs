//! Key distributions (`--keys-dist`): which key ids random calls draw.
//!
//! - `uniform`: every key alike.
//! - `zipf[,<theta>]`: YCSB's zipfian (theta 0.99 by default): rank `r` is drawn with
//!   probability proportional to `1 / (r + 1)^theta`, by Gray et al.'s closed form
//!   ("Quickly generating billion-record synthetic databases", SIGMOD 1994), and the ranks
//!   are scattered over the key space, so the hot keys are not neighbours.
//! - `hot,<key%>,<op%>`: asbench's hot keys: `op%` of draws go to the first `key%` of the
//!   key space, the rest to the other keys.
//!
//! What a draw needs is computed once per picker ([`KeyDraw::new`], a few dozen powers);
//! a draw then costs O(1) and allocates nothing.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use serde::{Serialize, Serializer};

use super::WorkloadError;

/// YCSB's default skew.
pub const DEFAULT_THETA: f64 = 0.99;

/// How random calls choose their keys.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum KeyDist {
    #[default]
    Uniform,
    /// `0 < theta < 1`.
    Zipf { theta: f64 },
    /// `op_pct` of draws land in the first `key_pct` of the key space.
    Hot { key_pct: u8, op_pct: u8 },
}

/// Parsing and [`KeyDist::valid`] accept no NaN theta, so equality is an equivalence.
impl Eq for KeyDist {}

impl KeyDist {
    /// Whether its parameters are in range (a workload built in code is checked too).
    pub fn valid(self) -> bool {
        match self {
            KeyDist::Uniform => true,
            KeyDist::Zipf { theta } => theta > 0.0 && theta < 1.0,
            KeyDist::Hot { key_pct, op_pct } => (1..=100).contains(&key_pct) && op_pct <= 100,
        }
    }
}

impl FromStr for KeyDist {
    type Err = WorkloadError;

    fn from_str(s: &str) -> Result<KeyDist, WorkloadError> {
        let bad = || WorkloadError::KeysDist(s.into());
        let pct = |p: &str| p.parse::<u8>().map_err(|_| bad());
        let lower = s.to_ascii_lowercase();
        let parts: Vec<&str> = lower.split(',').collect();
        let dist = match parts[..] {
            ["uniform"] => KeyDist::Uniform,
            ["zipf"] => KeyDist::Zipf {
                theta: DEFAULT_THETA,
            },
            ["zipf", theta] => KeyDist::Zipf {
                theta: theta.parse().map_err(|_| bad())?,
            },
            ["hot", key, op] => KeyDist::Hot {
                key_pct: pct(key)?,
                op_pct: pct(op)?,
            },
            _ => return Err(bad()),
        };
        dist.valid().then_some(dist).ok_or_else(bad)
    }
}

impl fmt::Display for KeyDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDist::Uniform => f.write_str("uniform"),
            KeyDist::Zipf { theta } => write!(f, "zipf,{theta}"),
            KeyDist::Hot { key_pct, op_pct } => write!(f, "hot,{key_pct},{op_pct}"),
        }
    }
}

impl Serialize for KeyDist {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A distribution over `0..keys`, ready to draw from.
#[derive(Debug, Clone, Copy)]
pub enum KeyDraw {
    Uniform {
        keys: u64,
    },
    Zipf(Zipf),
    /// Draws in `0..hot` with probability `op_pct`%, else in `hot..keys`.
    Hot {
        keys: u64,
        hot: u64,
        op_pct: u8,
    },
}

impl KeyDraw {
    /// `dist` over `0..keys` (`keys` ≥ 1, `dist` valid).
    pub fn new(dist: KeyDist, keys: u64) -> KeyDraw {
        match dist {
            KeyDist::Uniform => KeyDraw::Uniform { keys },
            KeyDist::Zipf { theta } => KeyDraw::Zipf(Zipf::new(keys, theta)),
            KeyDist::Hot { key_pct, op_pct } => KeyDraw::Hot {
                keys,
                hot: ((u128::from(keys) * u128::from(key_pct) / 100) as u64).max(1),
                op_pct,
            },
        }
    }

    /// One key id.
    pub fn next(&self, rng: &mut impl Rng) -> u64 {
        match *self {
            KeyDraw::Uniform { keys } => rng.random_range(0..keys),
            KeyDraw::Zipf(ref zipf) => zipf.next(rng),
            KeyDraw::Hot { keys, hot, op_pct } => {
                match hot == keys || rng.random_range(0..100) < op_pct {
                    true => rng.random_range(0..hot),
                    false => rng.random_range(hot..keys),
                }
            }
        }
    }
}

/// The zipfian generator's constants for one key count and theta (YCSB's
/// `ZipfianGenerator`), and the stride that scatters ranks over the key space.
#[derive(Debug, Clone, Copy)]
pub struct Zipf {
    keys: u64,
    theta: f64,
    zetan: f64,
    alpha: f64,
    eta: f64,
    /// Multiplying a rank by it modulo `keys` is a bijection (it is coprime with `keys`).
    stride: u64,
}

impl Zipf {
    fn new(keys: u64, theta: f64) -> Zipf {
        let n = keys as f64;
        let zetan = zeta(keys, theta);
        let zeta2 = 1.0 + 0.5f64.powf(theta);
        // The golden ratio's fraction of the key space: consecutive ranks land far apart.
        let mut stride = (0.618_033_988_749_894_9 * n) as u64 % keys;
        while gcd(stride, keys) != 1 {
            stride += 1;
        }
        Zipf {
            keys,
            theta,
            zetan,
            alpha: 1.0 / (1.0 - theta),
            eta: (1.0 - (2.0 / n).powf(1.0 - theta)) / (1.0 - zeta2 / zetan),
            stride,
        }
    }

    /// The rank drawn (0 the most frequent), scattered to a key id.
    fn next(&self, rng: &mut impl Rng) -> u64 {
        let rank = self.rank(rng.random::<f64>());
        (u128::from(rank) * u128::from(self.stride) % u128::from(self.keys)) as u64
    }

    /// The rank of the uniform draw `u` in `[0, 1)`.
    fn rank(&self, u: f64) -> u64 {
        let uz = u * self.zetan;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(self.theta) {
            return 1;
        }
        let rank = self.keys as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha);
        (rank as u64).min(self.keys - 1)
    }
}

/// The terms summed one by one before the tail is integrated.
const EXACT_TERMS: u64 = 64;

/// `Σ_{i=1..n} i^-theta`, exactly for small `n`, else the first terms plus the
/// Euler–Maclaurin estimate of the tail (its error is below 1e-12 here), so that it costs
/// the same for a billion keys as for a hundred.
fn zeta(n: u64, theta: f64) -> f64 {
    let f = |x: f64| x.powf(-theta);
    let head: f64 = (1..n.min(EXACT_TERMS)).map(|i| f(i as f64)).sum();
    if n < EXACT_TERMS {
        return head + f(n as f64);
    }
    let (a, b) = (EXACT_TERMS as f64, n as f64);
    let d1 = |x: f64| -theta * x.powf(-theta - 1.0);
    let d3 = |x: f64| -theta * (theta + 1.0) * (theta + 2.0) * x.powf(-theta - 3.0);
    let integral = (b.powf(1.0 - theta) - a.powf(1.0 - theta)) / (1.0 - theta);
    head + integral + (f(a) + f(b)) / 2.0 + (d1(b) - d1(a)) / 12.0 - (d3(b) - d3(a)) / 720.0
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::keys::generator;

    const DRAWS: usize = 200_000;

    /// How often each of `0..keys` was drawn.
    fn counts(dist: KeyDist, keys: u64) -> Vec<usize> {
        let draw = KeyDraw::new(dist, keys);
        let mut rng = generator(0);
        let mut counts = vec![0; keys as usize];
        for _ in 0..DRAWS {
            counts[draw.next(&mut rng) as usize] += 1;
        }
        counts
    }

    #[test]
    fn parses_and_prints_back() {
        for dist in ["uniform", "zipf,0.99", "zipf,0.5", "hot,10,90", "hot,100,0"] {
            assert_eq!(dist.parse::<KeyDist>().unwrap().to_string(), dist);
        }
        assert_eq!(
            "Zipf".parse(),
            Ok(KeyDist::Zipf {
                theta: DEFAULT_THETA
            })
        );
        for bad in [
            "",
            "zipf,1",
            "zipf,0",
            "zipf,NaN",
            "zipf,x",
            "hot,10",
            "hot,0,50",
            "hot,10,101",
            "hot,10,90,1",
            "pareto",
        ] {
            let e = bad.parse::<KeyDist>().unwrap_err().to_string();
            assert!(e.contains("--keys-dist") && !e.contains('\n'), "{bad}: {e}");
        }
    }

    #[test]
    fn zeta_agrees_with_the_plain_sum() {
        for theta in [0.2, 0.5, 0.99] {
            for n in [1, 2, 63, 64, 65, 1_000, 1_000_000] {
                // Smallest terms first, so the reference sum loses no precision.
                let sum: f64 = (1..=n).rev().map(|i| (i as f64).powf(-theta)).sum();
                let rel = (zeta(n, theta) - sum).abs() / sum;
                assert!(
                    rel < 1e-12,
                    "n {n} theta {theta}: {} vs {sum}",
                    zeta(n, theta)
                );
            }
        }
    }

    #[test]
    fn zipf_makes_a_few_scattered_keys_hot() {
        let keys = 1_000;
        let counts = counts(KeyDist::Zipf { theta: 0.99 }, keys);
        let uniform_share = DRAWS / keys as usize;
        let mut by_count: Vec<(usize, usize)> = counts.iter().copied().zip(0..).collect();
        by_count.sort_unstable_by(|a, b| b.cmp(a));
        // Rank 0 has probability 1/zeta(1000, 0.99) ≈ 0.134, rank 1 about half of it.
        let expected = DRAWS as f64 / zeta(keys, 0.99);
        let (top, second) = (by_count[0].0 as f64, by_count[1].0 as f64);
        assert!(
            (top - expected).abs() < 0.05 * expected,
            "{top} vs {expected}"
        );
        assert!(
            (second / top - 0.5f64.powf(0.99)).abs() < 0.05,
            "{second} / {top}"
        );
        assert!(by_count[0].0 > 50 * uniform_share);
        let hottest: Vec<usize> = by_count[..10].iter().map(|&(_, id)| id).collect();
        let spread = hottest.iter().max().unwrap() - hottest.iter().min().unwrap();
        assert!(
            spread > keys as usize / 2,
            "hot keys scattered: {hottest:?}"
        );
        assert!(
            counts.iter().filter(|&&c| c > 0).count() > 900,
            "the tail is drawn too"
        );
    }

    #[test]
    fn zipf_covers_small_and_huge_key_spaces() {
        assert_eq!(counts(KeyDist::Zipf { theta: 0.5 }, 1), [DRAWS]);
        let two = counts(KeyDist::Zipf { theta: 0.99 }, 2);
        assert!(two[0] > two[1] && two[1] > DRAWS / 4, "{two:?}");
        let draw = KeyDraw::new(KeyDist::Zipf { theta: 0.99 }, i64::MAX as u64);
        let mut rng = generator(1);
        assert!((0..10_000).all(|_| draw.next(&mut rng) < i64::MAX as u64));
    }

    #[test]
    fn hot_sends_its_share_of_draws_to_the_first_keys() {
        let counts = counts(
            KeyDist::Hot {
                key_pct: 10,
                op_pct: 90,
            },
            1_000,
        );
        let hot: usize = counts[..100].iter().sum();
        let share = hot as f64 / DRAWS as f64;
        assert!((0.89..0.91).contains(&share), "{share}");
        assert!(counts.iter().all(|&c| c > 0), "every key is drawn");
        let all_hot = self::counts(
            KeyDist::Hot {
                key_pct: 100,
                op_pct: 50,
            },
            10,
        );
        assert!(all_hot.iter().all(|&c| c > DRAWS / 20), "{all_hot:?}");
    }

    #[test]
    fn uniform_spreads_evenly() {
        let counts = counts(KeyDist::Uniform, 100);
        let share = DRAWS / 100;
        assert!(
            counts
                .iter()
                .all(|&c| c > share * 8 / 10 && c < share * 12 / 10)
        );
    }
}
