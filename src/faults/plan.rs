//! What goes wrong when: `--fault "<at>:<node>:<kind>[:<for>]"` and the named scenarios,
//! turned into the timed orders a target carries out.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use crate::durations::parse_latency;
use crate::server::fault::Fault;

/// How long a restarted node stays down when `restart` is given no `for`.
const RESTART_DOWN: Duration = Duration::from_secs(2);

/// Result codes a user may name instead of giving the number.
const CODES: [(&str, u8); 3] = [("device-overload", 18), ("key-busy", 14), ("timeout", 9)];

/// One fault of a run: at `at` into the measured span, node `node` is given `kind` for
/// `for_` (until the end when `None`). `kill` with a `for` and `restart` bring the node
/// back when it ends, `move` brings it back on another port; `hang`, `slow` and `errors`
/// are healed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultSpec {
    pub at: Duration,
    pub node: usize,
    pub kind: Fault,
    pub for_: Option<Duration>,
}

/// The forms `--fault` takes, for error messages.
const FORM: &str = "use <at>:<node>:<kind>[:<for>], kind one of kill, restart, move, hang, partition, heal, \
                    slow=<latency>, errors=<code|device-overload|key-busy>/<percent>%, drop; \
                    e.g. 5s:1:hang:3s";

impl FromStr for FaultSpec {
    type Err = String;

    fn from_str(spec: &str) -> Result<FaultSpec, String> {
        let bad = |why: &str| format!("bad --fault {spec:?}: {why}; {FORM}");
        let parts: Vec<&str> = spec.split(':').collect();
        let (at, node, kind, for_) = match parts.as_slice() {
            [at, node, kind] => (at, node, kind, None),
            [at, node, kind, for_] => (at, node, kind, Some(for_)),
            _ => return Err(bad("expected 3 or 4 parts")),
        };
        let duration = |s: &str| {
            parse_latency(s)
                .map(Duration::from_nanos)
                .map_err(|_| bad(&format!("{s:?} is not a duration")))
        };
        let kind = parse_kind(kind).map_err(|why| bad(&why))?;
        let for_ = match (for_.map(|f| duration(f)).transpose()?, kind) {
            (Some(_), Fault::Drop | Fault::Heal) => {
                return Err(bad("drop and heal happen once, they take no <for>"));
            }
            (None, Fault::Restart | Fault::Move) => Some(RESTART_DOWN),
            (for_, _) => for_,
        };
        Ok(FaultSpec {
            at: match at.trim_start_matches('0') {
                "" | "s" | "ms" | "us" | "ns" => Duration::ZERO,
                _ => duration(at)?,
            },
            node: node
                .parse()
                .map_err(|_| bad(&format!("node {node:?} is not a node index (0, 1, …)")))?,
            kind,
            for_,
        })
    }
}

/// A kind as `--fault` spells it: `kill`, `slow=2ms`, `errors=18/25%`, …
fn parse_kind(kind: &str) -> Result<Fault, String> {
    let (name, arg) = match kind.split_once('=') {
        Some((name, arg)) => (name, Some(arg)),
        None => (kind, None),
    };
    match (name, arg) {
        ("kill", None) => Ok(Fault::Kill),
        ("restart", None) => Ok(Fault::Restart),
        ("move", None) => Ok(Fault::Move),
        ("hang", None) => Ok(Fault::Hang),
        ("drop", None) => Ok(Fault::Drop),
        ("partition", None) => Ok(Fault::Partition),
        ("heal", None) => Ok(Fault::Heal),
        ("slow", Some(delay)) => parse_latency(delay)
            .map(|ns| Fault::Slow(Duration::from_nanos(ns)))
            .map_err(|_| format!("slow={delay} is not a latency")),
        ("errors", Some(arg)) => errors(arg),
        _ => Err(format!("unknown kind {kind:?}")),
    }
}

/// `<code>/<percent>%`, the code a number or a name of [`CODES`].
fn errors(arg: &str) -> Result<Fault, String> {
    let bad = || format!("errors={arg} is not <code>/<percent>%");
    let (code, percent) = arg.split_once('/').ok_or_else(bad)?;
    let code = match CODES.iter().find(|(name, _)| *name == code) {
        Some(&(_, code)) => code,
        None => code.parse().map_err(|_| bad())?,
    };
    let percent = percent.strip_suffix('%').unwrap_or(percent);
    match percent.parse() {
        Ok(percent) if (1..=100).contains(&percent) => Ok(Fault::Errors { code, percent }),
        _ => Err(bad()),
    }
}

/// A kind as `--fault` spells it, the inverse of [`parse_kind`].
fn kind_name(kind: Fault) -> String {
    match kind {
        Fault::Kill => "kill".into(),
        Fault::Restart => "restart".into(),
        Fault::Move => "move".into(),
        Fault::Hang => "hang".into(),
        Fault::Drop => "drop".into(),
        Fault::Partition => "partition".into(),
        Fault::Heal => "heal".into(),
        Fault::Slow(delay) => format!("slow={}", short(delay)),
        Fault::Errors { code, percent } => format!("errors={code}/{percent}%"),
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            short(self.at),
            self.node,
            kind_name(self.kind)
        )?;
        match self.for_ {
            Some(for_) => write!(f, ":{}", short(for_)),
            None => Ok(()),
        }
    }
}

/// Whole seconds as `5s`, whole milliseconds as `2667ms`, anything finer in µs.
fn short(d: Duration) -> String {
    match (d.subsec_nanos(), d.subsec_nanos() % 1_000_000) {
        (0, _) => format!("{}s", d.as_secs()),
        (_, 0) => format!("{}ms", d.as_millis()),
        _ => format!("{}us", d.as_micros()),
    }
}

impl Serialize for FaultSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A timed order for the target: at `at` into the measured span, give `node` `fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub at: Duration,
    pub node: usize,
    pub fault: Fault,
}

impl FaultSpec {
    /// When it ends: its `for` after it starts, or never (`None`).
    pub fn end(&self) -> Option<Duration> {
        self.for_.map(|for_| self.at + for_)
    }

    /// The orders that carry it out: the fault, then what undoes it when its `for` ends.
    pub fn steps(&self) -> Vec<Step> {
        let (fault, undo) = match self.kind {
            Fault::Kill | Fault::Restart => (Fault::Kill, Fault::Restart),
            Fault::Move => (Fault::Kill, Fault::Move),
            fault => (fault, Fault::Heal),
        };
        let step = |at, fault| Step {
            at,
            node: self.node,
            fault,
        };
        let mut steps = vec![step(self.at, fault)];
        steps.extend(self.end().map(|end| step(end, undo)));
        steps
    }
}

/// The named scenarios (`--scenario`): one fault on node 1, from a third of the measured
/// span for a third of it, so the run shows a before, a during and an after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Node 1 dies and stays dead.
    NodeLoss,
    /// Node 1 hangs, then answers again.
    HungNode,
    /// Node 1 adds 5 ms to every reply, then stops.
    SlowNode,
    /// Node 1 dies and comes back.
    Restart,
    /// Node 1 fails half its requests with device overload (code 18), then stops.
    ErrorStorm,
}

impl Scenario {
    pub fn fault(self, duration: Duration) -> FaultSpec {
        let third = Duration::from_millis((duration.as_millis() / 3) as u64);
        let (kind, for_) = match self {
            Scenario::NodeLoss => (Fault::Kill, None),
            Scenario::HungNode => (Fault::Hang, Some(third)),
            Scenario::SlowNode => (Fault::Slow(Duration::from_millis(5)), Some(third)),
            Scenario::Restart => (Fault::Restart, Some(third)),
            Scenario::ErrorStorm => (
                Fault::Errors {
                    code: 18,
                    percent: 50,
                },
                Some(third),
            ),
        };
        FaultSpec {
            at: third,
            node: 1,
            kind,
            for_,
        }
    }
}

/// Why a plan cannot run against a cluster of `nodes` nodes for `duration`.
pub fn check(faults: &[FaultSpec], nodes: usize, duration: Duration) -> Result<(), String> {
    for fault in faults {
        if fault.node >= nodes {
            return Err(format!(
                "--fault {fault}: node {} is not in a {nodes}-node cluster: use 0 to {}",
                fault.node,
                nodes - 1
            ));
        }
        if fault.at >= duration {
            return Err(format!(
                "--fault {fault}: starts after the run's {}s: start it earlier or raise -d",
                duration.as_secs()
            ));
        }
        if matches!(fault.kind, Fault::Kill | Fault::Restart | Fault::Move) && nodes < 2 {
            return Err(format!(
                "--fault {fault}: the only node cannot be killed: use --nodes 3"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn specs_parse_and_print_back() {
        let spec: FaultSpec = "5s:1:hang:3s".parse().unwrap();
        assert_eq!(
            spec,
            FaultSpec {
                at: s(5),
                node: 1,
                kind: Fault::Hang,
                for_: Some(s(3))
            }
        );
        assert_eq!(spec.to_string().parse::<FaultSpec>(), Ok(spec));
        let storm: FaultSpec = "0:2:errors=device-overload/25%".parse().unwrap();
        assert_eq!(
            storm.kind,
            Fault::Errors {
                code: 18,
                percent: 25
            }
        );
        assert_eq!(storm.to_string().parse::<FaultSpec>(), Ok(storm));
        let slow: FaultSpec = "1s:0:slow=2ms".parse().unwrap();
        assert_eq!(slow.kind, Fault::Slow(Duration::from_millis(2)));
        assert_eq!(slow.to_string().parse::<FaultSpec>(), Ok(slow));
        assert_eq!(
            "1s:0:restart".parse::<FaultSpec>().unwrap().for_,
            Some(RESTART_DOWN)
        );
    }

    #[test]
    fn bad_specs_name_the_form() {
        for bad in [
            "5s:1",
            "5s:x:hang",
            "soon:1:hang",
            "5s:1:pause",
            "5s:1:slow",
            "5s:1:errors=18/0%",
            "5s:1:errors=nope/5%",
            "5s:1:drop:2s",
            "5s:1:heal:2s",
        ] {
            let e = bad.parse::<FaultSpec>().unwrap_err();
            assert!(
                e.starts_with("bad --fault") && e.contains("e.g. 5s:1:hang:3s"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_fault_with_a_for_is_undone_when_it_ends() {
        let hang: FaultSpec = "2s:1:hang:1s".parse().unwrap();
        let faults: Vec<_> = hang.steps().iter().map(|s| (s.at, s.fault)).collect();
        assert_eq!(faults, [(s(2), Fault::Hang), (s(3), Fault::Heal)]);
        let kill: FaultSpec = "2s:1:kill".parse().unwrap();
        assert_eq!(kill.steps().len(), 1, "a kill without <for> stays");
        let moved: FaultSpec = "2s:1:move".parse().unwrap();
        let faults: Vec<_> = moved.steps().iter().map(|s| (s.at, s.fault)).collect();
        assert_eq!(faults, [(s(2), Fault::Kill), (s(4), Fault::Move)]);
        let restart = Scenario::Restart.fault(s(30)).steps();
        assert_eq!(
            restart.iter().map(|s| (s.at, s.fault)).collect::<Vec<_>>(),
            [(s(10), Fault::Kill), (s(20), Fault::Restart)]
        );
    }

    #[test]
    fn plans_that_cannot_run_are_refused() {
        let hang: FaultSpec = "2s:3:hang".parse().unwrap();
        assert!(check(&[hang], 3, s(10)).unwrap_err().contains("use 0 to 2"));
        let late: FaultSpec = "20s:1:hang".parse().unwrap();
        assert!(check(&[late], 3, s(10)).unwrap_err().contains("raise -d"));
        let kill: FaultSpec = "2s:0:kill".parse().unwrap();
        assert!(check(&[kill], 1, s(10)).unwrap_err().contains("--nodes 3"));
        assert!(check(&[kill], 3, s(10)).is_ok());
    }
}
