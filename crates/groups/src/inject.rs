//! A known cost added inside the timed region, for the known-change check: a compare of a
//! commit with itself whose side B runs with `AEROBENCH_INJECT_NS` must flag the change it
//! adds, with the injected size inside its interval. Off unless the variable is set; then
//! every op of the benchmarks it names first spins a loop calibrated at start-up.
//!
//! `AEROBENCH_INJECT_NS=40` adds 40 ns per op in every benchmark; `key=6,single_op=900`
//! sets it per group, and a name may be any leading part of a benchmark's id
//! (`key/long_str=35,key=3`: the longest that matches wins; benchmarks not named get none).
//! `key=200t` asks for 200 loop turns instead of a time: the same instructions in every
//! process, calibrated or not (a known change for instruction counts, which a time
//! calibrated under valgrind would not be). A test knob, not a measurement: the process
//! says so on stderr.

use std::hint::black_box;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const VARIABLE: &str = "AEROBENCH_INJECT_NS";

/// Loop turns of the benchmark being run, set by [`arm`].
static TURNS: AtomicU64 = AtomicU64::new(0);

/// Sets the spin for benchmark (or group) `id` from the variable: [`Group`] arms each
/// benchmark before it runs. A malformed value ends the process with one line.
///
/// [`Group`]: crate::group::Group
pub fn arm(id: &str) {
    let Ok(text) = std::env::var(VARIABLE) else {
        return;
    };
    let amount = parse(&text, id).unwrap_or_else(|e| crate::exit_with(format!("{VARIABLE}: {e}")));
    let (turns, what) = match amount {
        Amount::Nanos(ns) if ns > 0.0 => (lasting(ns, ns_per_turn()), format!("{ns} ns")),
        Amount::Turns(turns) if turns > 0 => (turns, format!("{turns} loop turns")),
        _ => (0, String::new()),
    };
    if turns > 0 && TURNS.load(Ordering::Relaxed) != turns {
        eprintln!(
            "aerobench: {id}: injecting {what} of busy work per op ({VARIABLE}, a \
             known-change check: these numbers are not the client's)"
        );
    }
    TURNS.store(turns, Ordering::Relaxed);
}

/// Spins the armed turns; off, one load and one compare.
#[inline(always)]
pub fn spin() {
    for turn in 0..TURNS.load(Ordering::Relaxed) {
        black_box(turn);
    }
}

/// The turns that last `ns` where one turn takes `ns_per_turn`.
fn lasting(ns: f64, ns_per_turn: f64) -> u64 {
    (ns / ns_per_turn).round() as u64
}

/// How much busy work one op gets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Amount {
    Nanos(f64),
    Turns(u64),
}

/// The amount for benchmark `id` from `40` (every benchmark), `key=6,single_op=900` (those
/// groups; the longest name that is a leading part of `id` wins) or `key=200t` (turns).
fn parse(text: &str, id: &str) -> Result<Amount, String> {
    let amount = |s: &str| -> Result<Amount, String> {
        let s = s.trim();
        let parsed = match s.strip_suffix('t') {
            Some(turns) => turns.parse::<u64>().ok().map(Amount::Turns),
            None => s
                .parse::<f64>()
                .ok()
                .filter(|ns| ns.is_finite() && *ns >= 0.0)
                .map(Amount::Nanos),
        };
        parsed.ok_or_else(|| {
            format!(
                "{s:?} is not a number of nanoseconds or of turns (e.g. 40, key=6,batch=900 or key=200t)"
            )
        })
    };
    if !text.contains('=') {
        return amount(text);
    }
    let mut found = (0, Amount::Nanos(0.0));
    for part in text.split(',') {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?} is not group=ns (e.g. key=6,batch=900)"))?;
        let (name, value) = (name.trim(), amount(value)?);
        let names_it = id == name || id.starts_with(&format!("{name}/"));
        if names_it && name.len() >= found.0 {
            found = (name.len(), value);
        }
    }
    Ok(found.1)
}

/// Nanoseconds one turn of [`spin`] takes here: the fastest of a few timed runs.
fn ns_per_turn() -> f64 {
    static NS: OnceLock<f64> = OnceLock::new();
    *NS.get_or_init(|| {
        const CALIBRATION: u64 = 20_000_000;
        (0..5)
            .map(|_| {
                let start = Instant::now();
                for turn in 0..CALIBRATION {
                    black_box(turn);
                }
                start.elapsed().as_secs_f64() * 1e9 / CALIBRATION as f64
            })
            .fold(f64::INFINITY, f64::min)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_for_all_groups_or_one_per_group() {
        assert_eq!(parse("40", "key"), Ok(Amount::Nanos(40.0)));
        assert_eq!(
            parse("key=6,single_op=900", "single_op"),
            Ok(Amount::Nanos(900.0))
        );
        assert_eq!(
            parse("key=6,single_op=900", "batch"),
            Ok(Amount::Nanos(0.0))
        );
        assert_eq!(
            parse("key=200t,rng=3", "key/int/set"),
            Ok(Amount::Turns(200))
        );
        let specific = "key/long_str=35,key=3";
        assert_eq!(parse(specific, "key/long_str/set"), Ok(Amount::Nanos(35.0)));
        assert_eq!(parse(specific, "key/int/set"), Ok(Amount::Nanos(3.0)));
        assert_eq!(parse("key/int=3", "key/int_x"), Ok(Amount::Nanos(0.0)));
        assert!(parse("key=2.5t", "key").is_err());
        assert!(parse("key", "key").is_err());
        assert!(parse("key=x", "key").is_err());
        assert!(parse("-3", "key").is_err());
    }

    /// The spin asked for is its nanoseconds in calibrated turns, and the calibration is a
    /// real duration. Whether the spin then takes that long on this shared machine is a
    /// timing, shown by the known-change compare (README), not asserted here.
    #[test]
    fn a_spin_is_its_nanoseconds_in_calibrated_turns() {
        assert_eq!(lasting(1_000.0, 0.25), 4_000);
        assert_eq!(lasting(900.0, 0.3), 3_000);
        assert_eq!(lasting(0.1, 0.3), 0, "under half a turn: none");
        let ns = ns_per_turn();
        assert!(ns.is_finite() && ns > 0.0, "calibrated {ns} ns per turn");
    }
}
