//! The two servers measured: each started, connected to, seeded, and told where its CPU
//! time is read.

use std::sync::Arc;

use aerobench::cluster::container::{SOURCE_BUILD_TAG, check_docker, check_image};
use aerobench::cluster::{Backing, ContainerSpec, Kind, Settings, Target};
use aerobench::meta::Fingerprint;
use aerobench::workload::space::SERVER_COST;
use aerospike_core::Client;
use tokio::runtime::Runtime;

use crate::cpu::{CpuSource, container_cpu};
use crate::measure::run;
use crate::{Op, Server};

pub(crate) struct Side {
    pub(crate) server: Server,
    /// Keeps the server alive.
    pub(crate) _target: Target,
    pub(crate) client: Arc<Client>,
    pub(crate) fingerprint: Fingerprint,
    /// The container's `name:tag`.
    pub(crate) image: Option<String>,
    pub(crate) cpu: CpuSource,
}

/// Starts a server of `settings` (and `spec` for a container), connects a default
/// client and seeds [`SERVER_COST`]'s keys with 256 tasks, which also opens the pool.
pub(crate) fn start_side(
    runtime: &Runtime,
    server: Server,
    settings: Settings,
    spec: Option<ContainerSpec>,
) -> Result<Side, String> {
    let target = match spec {
        Some(spec) => Target::start_container(settings, spec),
        None => Target::start(settings),
    }
    .map_err(|e| e.to_string())?;
    let cpu = match &target.backing {
        Backing::Embedded(embedded) => CpuSource::Process(embedded.pid()),
        Backing::Container(cluster) => container_cpu(runtime, &cluster.containers[0])?,
        Backing::Remote => return Err("no server process to measure".into()),
    };
    let client = runtime
        .block_on(target.connect(&target.client_policy()))
        .map_err(|e| e.to_string())?;
    let client = Arc::new(client);
    let fingerprint = runtime.block_on(target.fingerprint(&client));
    eprintln!(
        "server_cost: {} measured against {fingerprint}",
        server.name()
    );
    let seeded = runtime.block_on(run(client.clone(), Op::Put, SERVER_COST.keys, 256));
    if let Some(e) = seeded.last_failure {
        return Err(format!("seeding {}: {e}", server.name()));
    }
    Ok(Side {
        server,
        image: target.container().map(|c| c.image.clone()),
        _target: target,
        client,
        fingerprint,
        cpu,
    })
}

/// The real server's side, or why it is skipped: Docker or the image missing (a failure
/// under `CI=true`). A server that starts but fails ends the run.
pub(crate) fn real_side(runtime: &Runtime) -> Result<Side, String> {
    let spec = real_spec();
    let missing = check_docker().and_then(|_| check_image(&spec.reference()));
    if let Err(why) = missing {
        if aerobench::under_ci() {
            groups::exit_with(format!(
                "server_cost: CI=true and the real server is missing: {why}"
            ));
        }
        return Err(why.to_string());
    }
    start_side(runtime, Server::Real, one_node(Kind::Container), Some(spec))
        .map_err(|e| groups::exit_with(format!("server_cost: real server: {e}")))
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

pub(crate) fn one_node(kind: Kind) -> Settings {
    Settings {
        kind,
        ..Settings::parse(|_| None).unwrap_or_else(|e| groups::exit_with(e))
    }
}
