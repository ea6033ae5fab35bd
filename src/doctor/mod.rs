//! `aerobench doctor`: which resource sets this configuration's ceiling on this machine.
//!
//! A sequence of short measured probes on one target ([`probes`]: the configuration as
//! given, the pool sized to the tasks, the timeouts off, four times the tasks), the
//! cluster's announced addresses ([`routing`]), each node's network path against the
//! loopback floor ([`network`]), and the CPU of the client, its busiest thread, the server
//! and the machine at every probe's edges ([`readings`]); then one verdict per suspect
//! ([`verdict`]) and the ceiling, printed as a table and kept as JSON ([`output`]).

pub mod network;
pub mod output;
pub mod probes;
pub mod readings;
pub mod routing;
pub mod verdict;

use std::time::Instant;

use serde::Serialize;

use crate::cluster::placement::CpuSet;
use crate::cluster::{Kind, Target, container};
use crate::driver::{Config, Pool};
use crate::meta::Fingerprint;
use network::Network;
use probes::{Lab, Sample};
use readings::{ServerCpu, affinity};
use routing::Routing;
use verdict::{Evidence, Finding, Suspect};

/// The JSON document's version; bumped when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// The doctor's answer, as printed and as saved.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub schema_version: u32,
    pub fingerprint: Fingerprint,
    /// The first suspect ruled in, in [`Suspect`] order; `None` when none was.
    pub ceiling: Option<Suspect>,
    pub findings: Vec<Finding>,
    /// The figures the findings were decided on.
    #[serde(flatten)]
    pub evidence: Evidence,
    /// How long the doctor took, probes and all.
    pub seconds: f64,
}

impl Diagnosis {
    /// The finding for `suspect`.
    pub fn finding(&self, suspect: Suspect) -> Option<&Finding> {
        self.findings.iter().find(|f| f.suspect == suspect)
    }
}

/// Where the server's CPU is read on `target`: the embedded server's process, a
/// container's cgroup (its first node's; nodes on one machine share the cores), or
/// nowhere for remote nodes.
pub fn server_cpu(target: &Target) -> Option<ServerCpu> {
    match target.kind() {
        Kind::Embedded => Some(ServerCpu::Process(target.embedded()?.pid())),
        Kind::Container => {
            let name = target.container()?.containers.first()?;
            ServerCpu::cgroup_of(container::engine::state(name).ok()?.pid?)
        }
        Kind::Remote => None,
    }
}

/// The cores the client and server share, where known.
fn shared_cores(server: Option<&ServerCpu>, client: &CpuSet) -> Option<usize> {
    match server? {
        ServerCpu::Process(pid) => Some(affinity(*pid)?.intersection(client).len()),
        ServerCpu::Cgroup(_) => Some(client.len()),
    }
}

/// The machine's online cores, whatever this process may use.
fn machine_cores() -> usize {
    // SAFETY: `sysconf` only reads a system constant.
    match unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } {
        n if n > 0 => n as usize,
        _ => 1,
    }
}

/// Runs every probe against `lab`'s target with `config`'s workload and `pool`, telling
/// `on_probe` each sample as it is measured, and diagnoses.
pub fn examine(
    lab: &Lab<'_>,
    config: &Config,
    pool: Pool,
    fingerprint: Fingerprint,
    on_probe: &mut dyn FnMut(&Sample),
) -> anyhow::Result<Diagnosis> {
    let start = Instant::now();
    let services_alternate = lab.policy.use_services_alternate;
    let routing = lab
        .runtime
        .block_on(Routing::probe(lab.client, services_alternate));
    let addresses: Vec<String> = lab
        .client
        .nodes()
        .iter()
        .map(|n| n.address().to_string())
        .collect();
    let network = Network::measure(&addresses);
    let nodes = lab.client.nodes().len();
    let plan = probes::plan(config.mode.concurrency(), pool, config.timeout_ms, nodes);
    let mut samples = Vec::with_capacity(plan.len());
    for probe in plan {
        let sample = lab.run(probe, config)?;
        on_probe(&sample);
        samples.push(sample);
    }
    let client = &lab.gauges.client_cpus;
    let evidence = Evidence {
        probes: samples,
        routing,
        network,
        client_cores: client.len(),
        machine_cores: machine_cores(),
        server_cores: lab.gauges.server.as_ref().and_then(ServerCpu::cores),
        shared_cores: shared_cores(lab.gauges.server.as_ref(), client),
    };
    let (ceiling, findings) = verdict::diagnose(&evidence);
    Ok(Diagnosis {
        schema_version: SCHEMA_VERSION,
        fingerprint,
        ceiling,
        findings,
        evidence,
        seconds: start.elapsed().as_secs_f64(),
    })
}
