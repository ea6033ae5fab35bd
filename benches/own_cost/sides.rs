//! The two servers measured: each started, connected to by an async and a blocking
//! client, seeded, and told where its CPU time is read.

use std::sync::Arc;
use std::time::Duration;

use aerobench::cluster::container::{SOURCE_BUILD_TAG, check_docker, check_image};
use aerobench::cluster::{Backing, ContainerSpec, Kind, Settings, Target};
use aerobench::driver::Mode;
use aerobench::driver::seed::seed_client;
use aerobench::meta::Fingerprint;
use aerospike_core::Client;
use tokio::runtime::Runtime;

use crate::Server;
use crate::cpu::{CpuSource, container_cpu};
use crate::measure::config;

pub(crate) struct Side {
    pub(crate) server: Server,
    /// Keeps the server alive.
    pub(crate) _target: Target,
    pub(crate) client: Arc<Client>,
    /// The sync cases' client, with the same policy.
    pub(crate) blocking: Arc<aerospike_sync::Client>,
    pub(crate) fingerprint: Fingerprint,
    /// The container's `name:tag`.
    pub(crate) image: Option<String>,
    pub(crate) cpu: CpuSource,
}

/// Starts a server of `settings` (and `spec` for a container). Starting the embedded one
/// puts this thread on `AEROBENCH_CLIENT_CPUS`, so the runtime is built after it.
pub(crate) fn start(settings: Settings, spec: Option<ContainerSpec>) -> Result<Target, String> {
    match spec {
        Some(spec) => Target::start_container(settings, spec),
        None => Target::start(settings),
    }
    .map_err(|e| e.to_string())
}

/// Connects a default async and blocking client to `target` and seeds the workload's keys.
pub(crate) fn connect(runtime: &Runtime, server: Server, target: Target) -> Result<Side, String> {
    let cpu = match &target.backing {
        Backing::Embedded(embedded) => CpuSource::Process(embedded.pid()),
        Backing::Container(cluster) => container_cpu(runtime, &cluster.containers[0])?,
        Backing::Remote => return Err("no server process to measure".into()),
    };
    let policy = target.client_policy();
    let client = runtime
        .block_on(target.connect(&policy))
        .map_err(|e| e.to_string())?;
    let client = Arc::new(client);
    let blocking = target
        .connect_blocking(&policy)
        .map_err(|e| e.to_string())?;
    let fingerprint = runtime.block_on(target.fingerprint(&client));
    eprintln!("own_cost: {} measured against {fingerprint}", server.name());
    // Seeding reads only the workload of a config.
    let workload = config(Mode::Async { tasks: 1 }, Duration::ZERO);
    runtime
        .block_on(seed_client(&client, &workload, &mut |_| {}))
        .map_err(|e| format!("seeding {}: {e}", server.name()))?;
    Ok(Side {
        server,
        image: target.container().map(|c| c.image.clone()),
        _target: target,
        client,
        blocking: Arc::new(blocking),
        fingerprint,
        cpu,
    })
}

/// The real server, or why it is skipped: Docker or the image missing (a failure under
/// `CI=true`). A server that fails to start ends the run.
pub(crate) fn real_target() -> Result<Target, String> {
    let spec = real_spec();
    let missing = check_docker().and_then(|_| check_image(&spec.reference()));
    if let Err(why) = missing {
        if aerobench::under_ci() {
            groups::exit_with(format!(
                "own_cost: CI=true and the real server is missing: {why}"
            ));
        }
        return Err(why.to_string());
    }
    start(one_node(Kind::Container), Some(spec))
        .map_err(|e| groups::exit_with(format!("own_cost: real server: {e}")))
}

/// The real server's image: `AEROBENCH_IMAGE` / `AEROBENCH_IMAGE_TAG` when set, else the
/// official release when it is loaded, else its source build (which `scripts/test` loads).
pub(crate) fn real_spec() -> ContainerSpec {
    let mut spec = ContainerSpec::from_env().unwrap_or_else(|e| groups::exit_with(e));
    let chosen = ["AEROBENCH_IMAGE", "AEROBENCH_IMAGE_TAG"]
        .iter()
        .any(|k| std::env::var_os(k).is_some());
    if !chosen && check_image(&spec.reference()).is_err() {
        spec.tag = SOURCE_BUILD_TAG.into();
    }
    spec
}

/// One node of `kind` with the default settings, whatever the environment names as the
/// target; only CPU placement is read (the split run): `AEROBENCH_CLIENT_CPUS` for both
/// servers, since the client is the same process, `AEROBENCH_SERVER_CPUS` for the embedded
/// one only, since a container's CPUs are not ours to place.
pub(crate) fn one_node(kind: Kind) -> Settings {
    let var = |name: &str| {
        let ours = match name {
            "AEROBENCH_CLIENT_CPUS" => true,
            "AEROBENCH_SERVER_CPUS" => kind == Kind::Embedded,
            _ => false,
        };
        ours.then(|| std::env::var(name).ok()).flatten()
    };
    Settings {
        kind,
        ..Settings::parse(var).unwrap_or_else(|e| groups::exit_with(e))
    }
}
