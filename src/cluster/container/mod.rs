//! The container target: a 1..8-node Aerospike cluster in Docker, one container per node,
//! started with testcontainers.
//!
//! - [`spec`]: which image (the official `aerospike/aerospike-server` at [`DEFAULT_TAG`]
//!   unless `AEROBENCH_IMAGE` / `AEROBENCH_IMAGE_TAG` say otherwise), how the nodes are
//!   networked, and each node's configuration for both kinds of image.
//! - [`ready`]: when the client can use the cluster.
//! - [`engine`]: the Docker API through bollard: checks, listing, clean-up.
//! - `leftovers`: what to remove at process exit.
//!
//! **Network.** On Linux engines every node runs on the host network with its own loopback
//! ports (service, fabric, heartbeat) and announces `127.0.0.1:<service port>`: the client
//! reaches asd as it would a server on this machine. Where host networking does not exist
//! (Docker Desktop), or with `AEROBENCH_CONTAINER_NETWORK=published`, the nodes share a
//! private network and their service ports are published on 127.0.0.1 through Docker's
//! port proxy, which adds its own cost to every message. The fingerprint says which.
//!
//! **Clean-up.** The containers (and a private network) go when the [`ContainerCluster`]
//! is dropped (normal end, panic), at process exit if it never is (an `atexit` hook), and
//! on Ctrl-C / SIGTERM / SIGQUIT (`leftovers`, paused ones too). Everything carries the labels
//! [`LABEL_OWNER`], [`LABEL_PID`], [`LABEL_HOST`] and [`LABEL_RUN`], so what a killed
//! (`SIGKILL`) process left behind is removed by the next start ([`clean_stale`]).

pub mod engine;
pub mod faults;
mod leftovers;
pub mod ready;
pub mod spec;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use testcontainers::core::ContainerPort;
use testcontainers::core::logs::LogFrame;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ImageExt};

pub use engine::{
    DockerObject, Objects, check_docker, check_image, clean_stale, host_network_available, labelled,
};
pub use spec::{
    AerospikeImage, ContainerSpec, DEFAULT_CLUSTER_NAME, DEFAULT_IMAGE, DEFAULT_TAG, LOCAL_IMAGE,
    NetworkMode, Plan, SOURCE_BUILD_TAG,
};

use crate::cluster::{Error, NodeContext, SettingError};
use crate::server::fault::Fault;
use leftovers::{Resource, register, unregister};

/// Label on everything this module creates (value `aerobench`).
pub const LABEL_OWNER: &str = "aerobench.owner";
/// Label: pid of the process that created it.
pub const LABEL_PID: &str = "aerobench.pid";
/// Label: host name of the machine that process ran on.
pub const LABEL_HOST: &str = "aerobench.host";
/// Label: the run (one cluster): the containers' name prefix (and a private network's name).
pub const LABEL_RUN: &str = "aerobench.run";

/// How long one container may take to log its ready line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);

impl Plan {
    /// The labels of everything this plan creates.
    pub fn labels(&self) -> Vec<(String, String)> {
        vec![
            (LABEL_OWNER.into(), "aerobench".into()),
            (LABEL_PID.into(), std::process::id().to_string()),
            (LABEL_HOST.into(), crate::meta::host_name()),
            (LABEL_RUN.into(), self.run.clone()),
        ]
    }
}

/// A running cluster of containers; dropping it removes the containers (and network).
pub struct ContainerCluster {
    /// `127.0.0.1:<port>` per node, in node order: where the client reaches each node.
    pub hosts: Vec<String>,
    /// `name:tag` of the image.
    pub image: String,
    pub cluster_name: String,
    pub network: NetworkMode,
    /// The run id: container name prefix, [`LABEL_RUN`] value.
    pub run: String,
    /// Container names, in node order.
    pub containers: Vec<String>,
    /// Node names (info `node`), in node order.
    pub node_names: Vec<String>,
    stop: Option<mpsc::Sender<()>>,
    keeper: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ContainerCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerCluster")
            .field("hosts", &self.hosts)
            .field("image", &self.image)
            .field("network", &self.network)
            .field("run", &self.run)
            .finish()
    }
}

impl ContainerCluster {
    /// Starts `nodes` containers of `spec`'s image as one cluster and waits until the client
    /// can use it. Fails with a one-line message when Docker or the image is missing, a port
    /// is taken, or a node does not become ready in time.
    pub fn start(spec: &ContainerSpec, nodes: usize) -> Result<ContainerCluster, Error> {
        if !(1..=crate::server::MAX_NODES).contains(&nodes) {
            return Err(SettingError::ContainerNodes(nodes).into());
        }
        check_docker()?;
        check_image(&spec.reference())?;
        match clean_stale() {
            Ok(0) => {}
            Ok(n) => eprintln!("aerobench: removed {n} container(s)/network(s) left by ended runs"),
            Err(e) => eprintln!("aerobench: could not look for containers of ended runs: {e}"),
        }
        let mode = spec.network_mode()?;
        let plan = Plan::new(nodes, mode)?;
        let network = match mode {
            NetworkMode::Host => None,
            NetworkMode::Published => {
                let id = engine::create_network(&plan)?;
                register(Resource::Network(id.clone()));
                Some(id)
            }
        };
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel();
        let keeper = {
            let (spec, plan, network) = (spec.clone(), plan.clone(), network.clone());
            std::thread::Builder::new()
                .name("aerobench-containers".into())
                .spawn(move || keep(spec, plan, network, ready_tx, stop_rx))
                .map_err(Error::Thread)?
        };
        match ready_rx.recv() {
            Ok(Ok(node_names)) => Ok(ContainerCluster {
                hosts: (0..nodes).map(|i| plan.address(i)).collect(),
                image: spec.reference(),
                cluster_name: spec.cluster_name.clone(),
                network: mode,
                run: plan.run.clone(),
                containers: (0..nodes).map(|i| plan.container(i)).collect(),
                node_names,
                stop: Some(stop_tx),
                keeper: Some(keeper),
            }),
            Ok(Err(e)) => {
                let _ = keeper.join();
                Err(e)
            }
            Err(_) => {
                let _ = keeper.join();
                Err(Error::KeeperGone)
            }
        }
    }
}

impl ContainerCluster {
    /// Gives node `node` (in `hosts` order) `fault` from outside (see [`faults`]).
    pub fn fault(&self, node: usize, fault: Fault) -> Result<(), Error> {
        let (Some(container), Some(host)) = (self.containers.get(node), self.hosts.get(node))
        else {
            return Err(Error::NoSuchNode(node, self.containers.len()));
        };
        let node = faults::NodeRef {
            container,
            host,
            network: (self.network == NetworkMode::Published).then_some(self.run.as_str()),
        };
        faults::give(&node, fault)
    }
}

impl Drop for ContainerCluster {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
    }
}

/// A started node and the last lines of its log.
struct Node {
    container: ContainerAsync<AerospikeImage>,
    log: Log,
}

/// The last lines a container logged, for error messages.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<VecDeque<String>>>);

impl Log {
    const KEEP: usize = 20;

    fn push(&self, frame: &LogFrame) {
        let bytes = match frame {
            LogFrame::StdOut(b) | LogFrame::StdErr(b) => b,
        };
        let mut lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for line in String::from_utf8_lossy(bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            if lines.len() == Self::KEEP {
                lines.pop_front();
            }
            lines.push_back(line.trim().to_string());
        }
    }

    fn last(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        lines.back().cloned().unwrap_or_else(|| "(none)".into())
    }
}

/// The keeper thread: owns the containers (and a runtime for them) from start to removal;
/// reports the node names once the cluster is ready, or why it is not.
fn keep(
    spec: ContainerSpec,
    plan: Plan,
    network: Option<String>,
    ready: mpsc::Sender<Result<Vec<String>, Error>>,
    stop: mpsc::Receiver<()>,
) {
    let finish = |runtime: Option<&tokio::runtime::Runtime>, nodes: Vec<Node>| {
        if let Some(runtime) = runtime {
            runtime.block_on(remove_nodes(nodes));
        }
        if let Some(id) = &network {
            engine::remove_network(id);
            unregister(&Resource::Network(id.clone()));
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            finish(None, Vec::new());
            let _ = ready.send(Err(Error::Runtime(e)));
            return;
        }
    };
    let nodes = match runtime.block_on(start_nodes(&spec, &plan)) {
        Ok(nodes) => nodes,
        Err(e) => {
            finish(Some(&runtime), Vec::new());
            let _ = ready.send(Err(e));
            return;
        }
    };
    let addresses: Vec<String> = (0..plan.nodes()).map(|i| plan.address(i)).collect();
    match ready::wait_ready(&addresses, ready::CLUSTER_TIMEOUT) {
        Ok(names) => {
            let _ = ready.send(Ok(names));
        }
        Err((index, why)) => {
            let error = Error::NotUsable {
                node: Box::new(context(&spec, &plan, index, &nodes[index].log)),
                timeout: ready::CLUSTER_TIMEOUT,
                why,
            };
            finish(Some(&runtime), nodes);
            let _ = ready.send(Err(error));
            return;
        }
    }
    // Until the cluster is dropped (the sender goes) or a stop arrives.
    let _ = stop.recv();
    finish(Some(&runtime), nodes);
}

/// Starts the nodes in order (node 0 first: the others seed through it); on a failure the
/// nodes already started are removed.
async fn start_nodes(spec: &ContainerSpec, plan: &Plan) -> Result<Vec<Node>, Error> {
    let mut nodes = Vec::new();
    for index in 0..plan.nodes() {
        match start_node(spec, plan, index).await {
            Ok(node) => {
                register(Resource::Container(node.container.id().to_string()));
                nodes.push(node);
            }
            Err(e) => {
                remove_nodes(nodes).await;
                return Err(e);
            }
        }
    }
    Ok(nodes)
}

async fn start_node(spec: &ContainerSpec, plan: &Plan, index: usize) -> Result<Node, Error> {
    spec::check_ports_free(plan, index)?;
    let name = plan.container(index);
    let log = Log::default();
    let consumer = {
        let log = log.clone();
        move |frame: &LogFrame| log.push(frame)
    };
    let request = AerospikeImage::node(spec, plan, index)
        .with_container_name(&name)
        .with_labels(plan.labels())
        .with_startup_timeout(STARTUP_TIMEOUT)
        .with_log_consumer(consumer);
    let started = match plan.mode {
        NetworkMode::Host => request.with_network("host").start().await,
        NetworkMode::Published => {
            request
                .with_network(&plan.run)
                .with_mapped_port(
                    plan.ports[index].service,
                    ContainerPort::Tcp(spec::SERVICE_PORT),
                )
                // Publish on loopback only: the cluster is for this machine.
                .with_host_config_modifier(|host_config| {
                    for binding in host_config
                        .port_bindings
                        .iter_mut()
                        .flat_map(|m| m.values_mut())
                        .flatten()
                        .flatten()
                    {
                        binding.host_ip = Some("127.0.0.1".into());
                    }
                })
                .start()
                .await
        }
    };
    let container = started.map_err(|e| Error::NotStarted {
        node: Box::new(context(spec, plan, index, &log)),
        timeout: STARTUP_TIMEOUT,
        why: e.to_string(),
    })?;
    Ok(Node { container, log })
}

/// Node `index`'s container as a message names it.
fn context(spec: &ContainerSpec, plan: &Plan, index: usize, log: &Log) -> NodeContext {
    NodeContext {
        container: plan.container(index),
        image: spec.reference(),
        ports: plan.describe_ports(index),
        last_log: log.last(),
    }
}

async fn remove_nodes(nodes: Vec<Node>) {
    for node in nodes {
        let id = node.container.id().to_string();
        if node.container.rm().await.is_err() {
            // Left to a direct API call (and to the atexit hook).
            engine::remove_container(&id);
        }
        unregister(&Resource::Container(id));
    }
}
