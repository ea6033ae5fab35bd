//! The JSON result of a run: what it measured against (fingerprint), every knob, the
//! outcome and the per-second series. Written through a temporary file and a rename, so an
//! interrupted run leaves no half-written result.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::clock::utc_stamp;
use crate::driver::bare::Bare;
use crate::driver::{Distribution, Mode, OpenLoop, Pool, Run};
use crate::faults::{Effect, FaultSpec};
use crate::files::{WriteError, write_atomically};
use crate::meta::Fingerprint;
use crate::op_counters::OpCounters;
use crate::stats::{Figures, Percentiles};
use crate::verify::Findings;
use crate::workload::Workload;

/// Every knob of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Knobs {
    #[serde(flatten)]
    pub mode: Mode,
    #[serde(flatten)]
    pub workload: Workload,
    pub duration_s: f64,
    pub warmup_s: f64,
    /// Total timeout of each call; 0 = no per-op timeout.
    pub timeout_ms: u32,
    /// Open loop: calls per second asked for; `null` = closed loop.
    pub rate: Option<u64>,
    #[serde(flatten)]
    pub pool: Pool,
    /// Tokio worker threads running the tasks (async mode).
    pub workers: usize,
    pub seeded: bool,
    /// The client call was replaced by a ready future: the figures are the harness's own.
    pub self_overhead: bool,
    /// The bare reference loop ran: nothing recorded or checked (see `driver::bare`).
    pub bare: bool,
    /// Faults given to the cluster during the run (`--fault`, `--scenario`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSpec>,
}

impl Knobs {
    /// One second of 4 async tasks on `workload`, everything else off, for tests.
    #[cfg(test)]
    pub(crate) fn of_workload(workload: Workload) -> Knobs {
        Knobs {
            mode: Mode::Async { tasks: 4 },
            workload,
            duration_s: 1.0,
            warmup_s: 0.0,
            timeout_ms: 0,
            rate: None,
            pool: Pool::default(),
            workers: 1,
            seeded: false,
            self_overhead: false,
            bare: false,
            faults: Vec::new(),
        }
    }
}

/// The outcome of the whole measured span.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    #[serde(flatten)]
    pub figures: Figures,
    /// Process CPU time per successful op over the measured span.
    pub cpu_ns_per_op: f64,
    /// Allocations and context switches per successful op over the measured span.
    pub per_op: Option<OpCounters>,
    /// Connections the cluster accepted from the start of the run (warm-up included) to
    /// its end; `None` when the target does not say.
    pub connections_opened: Option<u64>,
    /// Tasks still in a call `LINGER` after the end, abandoned.
    pub abandoned: usize,
    /// How an open-loop run kept its schedule; `null` for a closed loop.
    pub open_loop: Option<Schedule>,
    /// Percentile curves of the measured span, for the report's percentile plot.
    pub distribution: Distribution,
    /// What each fault of the run did (detection, recovery, failures).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Effect>,
}

/// How an open-loop run kept its schedule.
#[derive(Debug, Clone, Serialize)]
pub struct Schedule {
    #[serde(flatten)]
    pub asked: OpenLoop,
    /// Calls per second completed over the measured span.
    pub achieved: f64,
    /// Calls sent more than 1 ms after they were due.
    pub late: u64,
    /// Whether every due call was sent and at most 1% of them late: a machine's odd
    /// stall makes a few calls late without the client falling behind its load.
    pub kept_up: bool,
}

impl Schedule {
    fn of(asked: OpenLoop, figures: &Figures) -> Schedule {
        Schedule {
            asked,
            achieved: figures.calls as f64 / figures.seconds,
            late: figures.late,
            kept_up: asked.unsent == 0 && figures.late * 100 <= figures.calls,
        }
    }
}

impl Outcome {
    /// The outcome of `run`, with the cluster's accepted connections read before and after.
    pub fn of(run: &Run, connections: Option<(u64, u64)>) -> Outcome {
        Outcome {
            figures: run.total.clone(),
            cpu_ns_per_op: run.cpu_ns_per_op(),
            per_op: run.op_counters(),
            connections_opened: connections.map(|(b, a)| a.saturating_sub(b)),
            abandoned: run.abandoned,
            open_loop: run.open_loop.map(|asked| Schedule::of(asked, &run.total)),
            distribution: run.distribution.clone(),
            faults: Vec::new(),
        }
    }

    /// An outcome of `figures` alone, for tests of what is printed and written.
    #[cfg(test)]
    pub(crate) fn of_figures(figures: Figures) -> Outcome {
        Outcome {
            figures,
            cpu_ns_per_op: 0.0,
            per_op: None,
            connections_opened: None,
            abandoned: 0,
            open_loop: None,
            distribution: Default::default(),
            faults: Vec::new(),
        }
    }
}

/// The seeding phase (`--seed`): every key written once before the run, timed on its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seeding {
    /// Keys written.
    pub keys: u64,
    pub seconds: f64,
    /// Keys written per second.
    pub tps: f64,
    pub errors: u64,
    pub timeouts: u64,
    /// Per batch call of the phase.
    pub latency_ns: Percentiles,
}

impl Seeding {
    pub fn of(figures: &Figures) -> Seeding {
        Seeding {
            keys: figures.writes,
            seconds: figures.seconds,
            tps: figures.tps,
            errors: figures.errors,
            timeouts: figures.timeouts,
            latency_ns: figures.latency_ns,
        }
    }
}

/// The file's content.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub fingerprint: &'a Fingerprint,
    pub knobs: &'a Knobs,
    /// `null` when the run did not seed.
    pub seed: Option<&'a Seeding>,
    /// What `--verify` found; absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<&'a Findings>,
    pub outcome: &'a Outcome,
    pub seconds: &'a [Figures],
}

/// The file of a bare run: no latency or per-second series, since a bare loop records none.
#[derive(Debug, Serialize)]
pub struct BareDocument<'a> {
    pub fingerprint: &'a Fingerprint,
    pub knobs: &'a Knobs,
    pub bare: BareOutcome,
}

/// What a bare run counted over its measured span.
#[derive(Debug, Serialize)]
pub struct BareOutcome {
    pub tps: f64,
    /// Calls completed, failed or not.
    pub ops: u64,
    /// Calls that failed with anything but "key not found".
    pub errors: u64,
    pub elapsed_s: f64,
    /// Process CPU time per call over the measured span.
    pub cpu_ns_per_op: f64,
}

impl BareOutcome {
    pub fn of(bare: &Bare) -> BareOutcome {
        BareOutcome {
            tps: bare.tps(),
            ops: bare.ops,
            errors: bare.errors,
            elapsed_s: bare.elapsed.as_secs_f64(),
            cpu_ns_per_op: bare.cpu_ns_per_op(),
        }
    }
}

/// `reports/runs/<UTC timestamp>-<mode>[-self-overhead|-bare].json`.
pub fn default_path(knobs: &Knobs, now: SystemTime) -> PathBuf {
    let overhead = match (knobs.self_overhead, knobs.bare) {
        (true, _) => "-self-overhead",
        (_, true) => "-bare",
        _ => "",
    };
    PathBuf::from("reports/runs").join(format!(
        "{}-{}{overhead}.json",
        utc_stamp(now),
        knobs.mode.name()
    ))
}

/// Writes `document` to `path` as JSON, whole or not at all.
pub fn write(path: &Path, document: &impl Serialize) -> Result<(), WriteError> {
    let json = serde_json::to_vec_pretty(document).map_err(|e| WriteError {
        path: path.into(),
        source: e.into(),
    })?;
    write_atomically(path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn write_replaces_atomically() {
        let dir = std::env::temp_dir().join(format!("aerobench-result-{}", std::process::id()));
        let path = dir.join("nested/r.json");
        let fp = Fingerprint {
            target: "embedded".into(),
            nodes: 1,
            hosts: vec![],
            network: "loopback".into(),
            server: "s".into(),
            client: "c".into(),
            commit: "x".into(),
            machine: "m".into(),
            cpus: "shared".into(),
        };
        let knobs = Knobs {
            self_overhead: true,
            ..Knobs::of_workload(Workload::default())
        };
        let outcome = Outcome::of_figures(Figures::of(&Default::default(), Duration::from_secs(1)));
        let seeding = Seeding {
            keys: 10,
            seconds: 0.5,
            tps: 20.0,
            errors: 0,
            timeouts: 0,
            latency_ns: Percentiles::default(),
        };
        let doc = Document {
            fingerprint: &fp,
            knobs: &knobs,
            seed: Some(&seeding),
            verify: None,
            outcome: &outcome,
            seconds: &[],
        };
        write(&path, &doc).unwrap();
        let back: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back["knobs"]["mode"], "async");
        assert_eq!(back["knobs"]["tasks"], 4);
        assert_eq!(back["knobs"]["workload"], "RU,50");
        assert_eq!(back["knobs"]["object"], "I8");
        assert_eq!(back["knobs"]["keys_dist"], "uniform");
        assert_eq!(
            (&back["knobs"]["namespace"], &back["knobs"]["set"]),
            (&"test".into(), &"test".into())
        );
        assert_eq!(
            (&back["seed"]["keys"], &back["seed"]["tps"]),
            (&10.into(), &20.0.into())
        );
        assert_eq!(back["knobs"]["max_conns_per_node"], 256);
        assert_eq!(back["outcome"]["mismatches"], 0);
        assert!(back.get("verify").is_none() && back["knobs"].get("verify").is_none());
        let found = Findings {
            keys_checked: 10,
            lost_writes: 1,
            ..Findings::default()
        };
        let verified = Knobs::of_workload(Workload {
            verify: true,
            ..Workload::default()
        });
        let doc = Document {
            knobs: &verified,
            verify: Some(&found),
            ..doc
        };
        write(&path, &doc).unwrap();
        let back: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back["knobs"]["verify"], true);
        let block = &back["verify"];
        for (field, n) in [
            ("keys_checked", 10),
            ("lost_writes", 1),
            ("stale_reads", 0),
            ("unexpected", 0),
            ("unverified", 0),
        ] {
            assert_eq!(block[field], n, "{field} in {block}");
        }
        assert!(!dir.join("nested/r.json.partial").exists());
        std::fs::remove_dir_all(dir).unwrap();
        assert!(
            default_path(&knobs, UNIX_EPOCH).ends_with("19700101T000000Z-async-self-overhead.json")
        );
    }
}
