//! A known cost added inside the timed region, for the known-change check: a compare of a
//! commit with itself whose side B runs with `AEROBENCH_INJECT_NS` must flag the change it
//! adds, with the injected size inside its interval. Off unless the variable is set; then
//! every op of the process's group first spins a loop calibrated at start-up.
//!
//! `AEROBENCH_INJECT_NS=40` adds 40 ns per op in every group; `key=6,single_op=900` sets it
//! per group (groups not named get none). A test knob, not a measurement: the process says
//! so on stderr.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Instant;

const VARIABLE: &str = "AEROBENCH_INJECT_NS";

/// Busy work of a fixed number of loop turns; `Spin::default()` does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spin {
    turns: u64,
}

/// The spin of this process's group, set once by [`arm`].
static ARMED: OnceLock<Spin> = OnceLock::new();

/// Sets this process's spin from the variable for group `group` (once; [`layers::group`]
/// and the throughput group call it). A malformed value ends the process with one line.
///
/// [`layers::group`]: crate::layers::group
pub fn arm(group: &str) {
    ARMED.get_or_init(|| Spin::configured(group));
}

impl Spin {
    /// The spin [`arm`] set; none before it.
    pub fn current() -> Spin {
        ARMED.get().copied().unwrap_or_default()
    }

    /// What the variable asks for group `group` (none when it is unset or does not name
    /// the group).
    fn configured(group: &str) -> Spin {
        let Ok(text) = std::env::var(VARIABLE) else {
            return Spin::default();
        };
        let ns =
            parse(&text, group).unwrap_or_else(|e| crate::exit_with(format!("{VARIABLE}: {e}")));
        if ns == 0.0 {
            return Spin::default();
        }
        let spin = Spin::lasting(ns, ns_per_turn());
        eprintln!(
            "aerobench: {group}: injecting {ns} ns of busy work per op ({VARIABLE}, a \
             known-change check: these numbers are not the client's)"
        );
        spin
    }

    /// The spin that lasts `ns` where one turn takes `ns_per_turn`.
    fn lasting(ns: f64, ns_per_turn: f64) -> Spin {
        Spin {
            turns: (ns / ns_per_turn).round() as u64,
        }
    }

    /// Spins; the loop's count lives in a register, so when off this is one compare.
    #[inline(always)]
    pub fn run(self) {
        for turn in 0..self.turns {
            black_box(turn);
        }
    }
}

/// `ns` for `group` from `40` (every group) or `key=6,single_op=900` (those groups).
fn parse(text: &str, group: &str) -> Result<f64, String> {
    let number = |s: &str| -> Result<f64, String> {
        match s.trim().parse::<f64>() {
            Ok(ns) if ns.is_finite() && ns >= 0.0 => Ok(ns),
            _ => Err(format!(
                "{s:?} is not a number of nanoseconds (e.g. 40 or key=6,batch=900)"
            )),
        }
    };
    if !text.contains('=') {
        return number(text);
    }
    let mut found = 0.0;
    for part in text.split(',') {
        let (name, ns) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?} is not group=ns (e.g. key=6,batch=900)"))?;
        let ns = number(ns)?;
        if name.trim() == group {
            found = ns;
        }
    }
    Ok(found)
}

/// Nanoseconds one turn of [`Spin::run`] takes here: the fastest of a few timed runs.
fn ns_per_turn() -> f64 {
    static NS: OnceLock<f64> = OnceLock::new();
    *NS.get_or_init(|| {
        const TURNS: u64 = 20_000_000;
        (0..5)
            .map(|_| {
                let start = Instant::now();
                Spin { turns: TURNS }.run();
                start.elapsed().as_secs_f64() * 1e9 / TURNS as f64
            })
            .fold(f64::INFINITY, f64::min)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_for_all_groups_or_one_per_group() {
        assert_eq!(parse("40", "key"), Ok(40.0));
        assert_eq!(parse("key=6,single_op=900", "single_op"), Ok(900.0));
        assert_eq!(parse("key=6,single_op=900", "batch"), Ok(0.0));
        assert!(parse("key", "key").is_err());
        assert!(parse("key=x", "key").is_err());
        assert!(parse("-3", "key").is_err());
    }

    /// The spin asked for is its nanoseconds in calibrated turns, and the calibration is a
    /// real duration. Whether the spin then takes that long on this shared machine is a
    /// timing, shown by the known-change compare (README), not asserted here.
    #[test]
    fn a_spin_is_its_nanoseconds_in_calibrated_turns() {
        assert_eq!(Spin::lasting(1_000.0, 0.25).turns, 4_000);
        assert_eq!(Spin::lasting(900.0, 0.3).turns, 3_000);
        assert_eq!(Spin::lasting(0.1, 0.3).turns, 0, "under half a turn: none");
        let ns = ns_per_turn();
        assert!(ns.is_finite() && ns > 0.0, "calibrated {ns} ns per turn");
    }
}
