//! The container target: a 1..8-node Aerospike cluster in Docker, one container per node on
//! a private Docker network, started with testcontainers and reachable from this process
//! through ports Docker maps to 127.0.0.1.
//!
//! **Image.** The official `aerospike/aerospike-server` image at [`DEFAULT_TAG`] unless
//! `AEROBENCH_IMAGE` (`name` or `name:tag`) / `AEROBENCH_IMAGE_TAG` say otherwise. Where no
//! registry can be reached, `scripts/build-server-image` builds the embedded server into
//! `aerobench/server:local`, which behaves the same as far as this module cares. Every
//! container is given both configurations, and each image uses its own:
//! - the official image reads `fixtures/aerospike.conf`, rendered per node (cluster name,
//!   mesh seeds, the node's alternate-access address and port), copied over
//!   `/etc/aerospike/aerospike.template.conf`;
//! - `aerobench-server` reads `AEROBENCH_NODE_INDEX`, `AEROBENCH_CLUSTER_SIZE`,
//!   `AEROBENCH_PEERS`, `AEROBENCH_ALTERNATE`, `AEROBENCH_ADVERTISE` and
//!   `AEROBENCH_CLUSTER_NAME`.
//!
//! **Reachability.** Host ports are chosen before the containers start, so every node can
//! announce all alternate addresses (`127.0.0.1:<host port>`) from the beginning; the
//! client must set `use_services_alternate` ([`crate::target::Target::client_policy`] does).
//!
//! **Readiness.** A node is ready when its log shows the server's own ready line
//! ([`SERVICE_READY`]) and an info `node` request on its mapped port answers; the cluster is
//! ready when every node lists all the others in `peers-clear-alt`. Every wait is bounded
//! and fails with a one-line error naming the container and its last log line.
//!
//! **Clean-up.** The containers and the network go when the [`ContainerCluster`] is
//! dropped (normal end, panic), at process exit if it never is (an `atexit` hook: the
//! benchmark harness keeps its target in a static), and on Ctrl-C / SIGTERM through
//! testcontainers' watchdog. Everything carries the labels [`LABEL_OWNER`],
//! [`LABEL_PID`], [`LABEL_HOST`] and [`LABEL_RUN`], so what a killed (`SIGKILL`) process
//! left behind is removed by the next start ([`clean_stale`]).
//!
//! Docker is reached through `DOCKER_HOST` (`unix://` or plain `tcp://`) or
//! `/var/run/docker.sock`, by testcontainers and by the few direct API calls here (checks,
//! labelled network, clean-up), which need no async runtime.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use testcontainers::core::logs::LogFrame;
use testcontainers::core::{ContainerPort, CopyToContainer, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, Image, ImageExt};

use crate::server::SERVICE_READY;

/// The official image, used unless `AEROBENCH_IMAGE` names another.
pub const DEFAULT_IMAGE: &str = "aerospike/aerospike-server";
/// The one place the official image's tag is pinned (`AEROBENCH_IMAGE_TAG` overrides it).
pub const DEFAULT_TAG: &str = "8.0.0.8";
/// The image `scripts/build-server-image` builds from the embedded server.
pub const LOCAL_IMAGE: &str = "aerobench/server:local";
/// The service port inside every container.
pub const SERVICE_PORT: u16 = 3000;
/// Cluster name when `AEROSPIKE_CLUSTER_NAME` does not give one.
pub const DEFAULT_CLUSTER_NAME: &str = "aerobench";

/// Label on everything this module creates (value `aerobench`).
pub const LABEL_OWNER: &str = "aerobench.owner";
/// Label: pid of the process that created it.
pub const LABEL_PID: &str = "aerobench.pid";
/// Label: host name of the machine that process ran on.
pub const LABEL_HOST: &str = "aerobench.host";
/// Label: the run (one cluster): also the network's name and the containers' name prefix.
pub const LABEL_RUN: &str = "aerobench.run";

/// The configuration template (see its header).
const CONF_TEMPLATE: &str = include_str!("../../fixtures/aerospike.conf");
/// Where the official image's entrypoint looks for a template to render.
const CONF_PATH: &str = "/etc/aerospike/aerospike.template.conf";

/// How long one container may take to log its ready line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a node may take to answer info once it logged its ready line.
const INFO_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the nodes may take to see each other.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(60);
/// Timeout of one Docker API call.
const DOCKER_TIMEOUT: Duration = Duration::from_secs(30);

/// Which image to run and the cluster name to give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// Repository, e.g. `aerospike/aerospike-server`.
    pub image: String,
    pub tag: String,
    pub cluster_name: String,
}

impl Default for ContainerSpec {
    fn default() -> Self {
        ContainerSpec {
            image: DEFAULT_IMAGE.into(),
            tag: DEFAULT_TAG.into(),
            cluster_name: DEFAULT_CLUSTER_NAME.into(),
        }
    }
}

impl ContainerSpec {
    /// `AEROBENCH_IMAGE`, `AEROBENCH_IMAGE_TAG` and `AEROSPIKE_CLUSTER_NAME`.
    pub fn from_env() -> Result<ContainerSpec, String> {
        Self::parse(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Parses the spec from a variable lookup (the environment, or a map in tests).
    pub fn parse(var: impl Fn(&str) -> Option<String>) -> Result<ContainerSpec, String> {
        let mut spec = ContainerSpec::default();
        if let Some(image) = var("AEROBENCH_IMAGE") {
            let image = image.trim();
            let (name, tag) = split_reference(image);
            if name.is_empty() || name.contains(char::is_whitespace) || tag == Some("") {
                return Err(format!(
                    "invalid AEROBENCH_IMAGE={image:?}: use name or name:tag, e.g. {LOCAL_IMAGE}"
                ));
            }
            spec.image = name.to_string();
            if let Some(tag) = tag {
                spec.tag = tag.to_string();
            } else if name != DEFAULT_IMAGE {
                spec.tag = "latest".into();
            }
        }
        if let Some(tag) = var("AEROBENCH_IMAGE_TAG") {
            let tag = tag.trim();
            if tag.contains([':', '/']) || tag.contains(char::is_whitespace) {
                return Err(format!(
                    "invalid AEROBENCH_IMAGE_TAG={tag:?}: use a tag such as {DEFAULT_TAG}"
                ));
            }
            spec.tag = tag.to_string();
        }
        if let Some(name) = var("AEROSPIKE_CLUSTER_NAME") {
            spec.cluster_name = name;
        }
        Ok(spec)
    }

    /// `name:tag`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.image, self.tag)
    }
}

/// `name[:tag]`, where a `:` before the last `/` belongs to a registry host.
fn split_reference(image: &str) -> (&str, Option<&str>) {
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (image, None),
    }
}

/// The image definition: an Aerospike server node (the official image or one that behaves
/// like it), with this node's configuration for both kinds.
#[derive(Debug, Clone)]
pub struct AerospikeImage {
    name: String,
    tag: String,
    env: Vec<(String, String)>,
    copies: Vec<CopyToContainer>,
}

impl AerospikeImage {
    /// The image of `spec` configured as node `index` of `plan`.
    fn node(spec: &ContainerSpec, plan: &Plan, index: usize) -> AerospikeImage {
        let mut env = vec![
            // The official entrypoint would otherwise report the start to Aerospike.
            ("AEROSPIKE_TELEMETRY".to_string(), "FALSE".to_string()),
            ("AEROBENCH_NODE_INDEX".into(), index.to_string()),
            ("AEROBENCH_CLUSTER_SIZE".into(), plan.nodes().to_string()),
            ("AEROBENCH_ALTERNATE".into(), plan.alternate(index)),
            ("AEROBENCH_ADVERTISE".into(), plan.container(index)),
            ("AEROBENCH_CLUSTER_NAME".into(), spec.cluster_name.clone()),
        ];
        let peers: Vec<String> = (0..plan.nodes())
            .filter(|&i| i != index)
            .map(|i| {
                let address = format!("{}:{SERVICE_PORT}", plan.container(i));
                format!("{address}/{}", plan.alternate(i))
            })
            .collect();
        if !peers.is_empty() {
            env.push(("AEROBENCH_PEERS".into(), peers.join(",")));
        }
        let conf = render_conf(&spec.cluster_name, &plan.container(0), plan.ports[index]);
        AerospikeImage {
            name: spec.image.clone(),
            tag: spec.tag.clone(),
            env,
            copies: vec![CopyToContainer::new(conf.into_bytes(), CONF_PATH)],
        }
    }
}

impl Image for AerospikeImage {
    fn name(&self) -> &str {
        &self.name
    }

    fn tag(&self) -> &str {
        &self.tag
    }

    fn ready_conditions(&self) -> Vec<WaitFor> {
        vec![WaitFor::message_on_either_std(SERVICE_READY)]
    }

    fn env_vars(
        &self,
    ) -> impl IntoIterator<Item = (impl Into<Cow<'_, str>>, impl Into<Cow<'_, str>>)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn copy_to_sources(&self) -> impl IntoIterator<Item = &CopyToContainer> {
        &self.copies
    }

    fn expose_ports(&self) -> &[ContainerPort] {
        &[ContainerPort::Tcp(SERVICE_PORT)]
    }
}

/// `fixtures/aerospike.conf` for one node: every node seeds the mesh through node 0, which
/// is started first, so every seed name resolves when its node starts.
pub fn render_conf(cluster_name: &str, seed: &str, host_port: u16) -> String {
    let seeds = format!("        mesh-seed-address-port {seed} 3002");
    CONF_TEMPLATE
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(|line| {
            line.replace("@CLUSTER_NAME@", cluster_name)
                .replace("@ALTERNATE_ADDRESS@", "127.0.0.1")
                .replace("@ALTERNATE_PORT@", &host_port.to_string())
                .replace("@MESH_SEEDS@", &seeds)
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Names and ports of one cluster, fixed before anything starts.
#[derive(Debug, Clone)]
struct Plan {
    /// The network's name, the containers' name prefix and the [`LABEL_RUN`] value.
    run: String,
    /// Host port per node, mapped on 127.0.0.1 to the node's service port.
    ports: Vec<u16>,
}

impl Plan {
    fn new(nodes: usize) -> Result<Plan, String> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        Ok(Plan {
            run: format!("aerobench-{}-{seq}", std::process::id()),
            ports: free_ports(nodes)?,
        })
    }

    fn nodes(&self) -> usize {
        self.ports.len()
    }

    fn container(&self, index: usize) -> String {
        format!("{}-n{index}", self.run)
    }

    fn alternate(&self, index: usize) -> String {
        format!("127.0.0.1:{}", self.ports[index])
    }

    fn labels(&self) -> Vec<(String, String)> {
        vec![
            (LABEL_OWNER.into(), "aerobench".into()),
            (LABEL_PID.into(), std::process::id().to_string()),
            (LABEL_HOST.into(), hostname()),
            (LABEL_RUN.into(), self.run.clone()),
        ]
    }
}

/// `count` distinct free loopback ports (bound together, then released for Docker).
fn free_ports(count: usize) -> Result<Vec<u16>, String> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot find a free loopback port: {e}"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

/// A running cluster of containers; dropping it removes the containers and the network.
pub struct ContainerCluster {
    /// `127.0.0.1:<host port>` per node, in node order.
    pub hosts: Vec<String>,
    /// `name:tag` of the image.
    pub image: String,
    pub cluster_name: String,
    /// The run id: network name, container name prefix, [`LABEL_RUN`] value.
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
            .field("run", &self.run)
            .finish()
    }
}

/// What the keeper thread reports once the cluster is ready.
struct Started {
    node_names: Vec<String>,
}

impl ContainerCluster {
    /// Starts `nodes` containers of `spec`'s image as one cluster and waits until it is
    /// ready. Fails with a one-line message when Docker or the image is missing, or when a
    /// node does not become ready in time.
    pub fn start(spec: &ContainerSpec, nodes: usize) -> Result<ContainerCluster, String> {
        if !(1..=crate::server::MAX_NODES).contains(&nodes) {
            return Err(format!(
                "AEROBENCH_NODES={nodes}: the container target runs 1 to {} nodes",
                crate::server::MAX_NODES
            ));
        }
        check_docker()?;
        check_image(&spec.reference())?;
        match clean_stale() {
            Ok(0) => {}
            Ok(n) => eprintln!("aerobench: removed {n} container(s)/network(s) left by ended runs"),
            Err(e) => eprintln!("aerobench: could not look for containers of ended runs: {e}"),
        }
        // A chosen host port can be taken before Docker binds it; then try other ports.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(spec, Plan::new(nodes)?) {
                Err(e)
                    if attempt < 3
                        && (e.contains("already allocated")
                            || e.contains("address already in use")) =>
                {
                    continue;
                }
                result => return result,
            }
        }
    }

    fn start_once(spec: &ContainerSpec, plan: Plan) -> Result<ContainerCluster, String> {
        let network = create_network(&plan)?;
        register(Resource::Network(network.clone()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel();
        let keeper = {
            let (spec, plan, network) = (spec.clone(), plan.clone(), network.clone());
            std::thread::Builder::new()
                .name("aerobench-containers".into())
                .spawn(move || keep(spec, plan, network, ready_tx, stop_rx))
                .map_err(|e| format!("cannot start the container thread: {e}"))?
        };
        match ready_rx.recv() {
            Ok(Ok(started)) => Ok(ContainerCluster {
                hosts: (0..plan.nodes()).map(|i| plan.alternate(i)).collect(),
                image: spec.reference(),
                cluster_name: spec.cluster_name.clone(),
                run: plan.run.clone(),
                containers: (0..plan.nodes()).map(|i| plan.container(i)).collect(),
                node_names: started.node_names,
                stop: Some(stop_tx),
                keeper: Some(keeper),
            }),
            Ok(Err(e)) => {
                let _ = keeper.join();
                Err(e)
            }
            Err(_) => {
                let _ = keeper.join();
                remove_network(&network);
                unregister(&Resource::Network(network));
                Err("the container thread ended before the cluster was ready".into())
            }
        }
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

type Node = ContainerAsync<AerospikeImage>;

/// The keeper thread: owns the containers (and a runtime for them) from start to removal.
fn keep(
    spec: ContainerSpec,
    plan: Plan,
    network: String,
    ready: mpsc::Sender<Result<Started, String>>,
    stop: mpsc::Receiver<()>,
) {
    let finish = |runtime: Option<&tokio::runtime::Runtime>, nodes: Vec<Node>| {
        if let Some(runtime) = runtime {
            runtime.block_on(remove_nodes(nodes));
        }
        remove_network(&network);
        unregister(&Resource::Network(network.clone()));
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            finish(None, Vec::new());
            let _ = ready.send(Err(format!("cannot start a Tokio runtime: {e}")));
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
    match wait_cluster(&plan) {
        Ok(node_names) => {
            let _ = ready.send(Ok(Started { node_names }));
        }
        Err(e) => {
            finish(Some(&runtime), nodes);
            let _ = ready.send(Err(e));
            return;
        }
    }
    // Until the cluster is dropped (the sender goes) or a stop arrives.
    let _ = stop.recv();
    finish(Some(&runtime), nodes);
}

/// Starts the nodes in order (node 0 first: the others seed through it); on a failure the
/// nodes already started are removed.
async fn start_nodes(spec: &ContainerSpec, plan: &Plan) -> Result<Vec<Node>, String> {
    let mut nodes = Vec::new();
    for index in 0..plan.nodes() {
        match start_node(spec, plan, index).await {
            Ok(node) => {
                register(Resource::Container(node.id().to_string()));
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

async fn start_node(spec: &ContainerSpec, plan: &Plan, index: usize) -> Result<Node, String> {
    let name = plan.container(index);
    let log: Arc<Mutex<VecDeque<String>>> = Arc::default();
    let consumer = {
        let log = log.clone();
        move |frame: &LogFrame| {
            let bytes = match frame {
                LogFrame::StdOut(b) | LogFrame::StdErr(b) => b,
            };
            let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
            for line in String::from_utf8_lossy(bytes)
                .lines()
                .filter(|l| !l.trim().is_empty())
            {
                if log.len() == 20 {
                    log.pop_front();
                }
                log.push_back(line.trim().to_string());
            }
        }
    };
    let request = AerospikeImage::node(spec, plan, index)
        .with_container_name(&name)
        .with_network(&plan.run)
        .with_labels(plan.labels())
        .with_mapped_port(plan.ports[index], ContainerPort::Tcp(SERVICE_PORT))
        // Publish on loopback only: the cluster is for this machine.
        .with_host_config_modifier(|host_config| {
            for bindings in host_config
                .port_bindings
                .iter_mut()
                .flat_map(|m| m.values_mut())
                .flatten()
            {
                for binding in bindings {
                    binding.host_ip = Some("127.0.0.1".into());
                }
            }
        })
        .with_startup_timeout(STARTUP_TIMEOUT)
        .with_log_consumer(consumer);
    request.start().await.map_err(|e| {
        let last = log
            .lock()
            .map(|l| l.back().cloned().unwrap_or_default())
            .unwrap_or_default();
        let last = match last.is_empty() {
            true => "(none)".to_string(),
            false => last,
        };
        one_line(&format!(
            "container {name} ({}) did not become ready within {STARTUP_TIMEOUT:?} \
             (waiting for {SERVICE_READY:?}): {e}; its last log line: {last}",
            spec.reference()
        ))
    })
}

async fn remove_nodes(nodes: Vec<Node>) {
    for node in nodes {
        let id = node.id().to_string();
        if node.rm().await.is_err() {
            // Left to the direct API call below (and to the atexit hook).
            remove_container(&id);
        }
        unregister(&Resource::Container(id));
    }
}

/// Every node answers info `node`, then lists all the others in `peers-clear-alt`.
/// Returns the node names.
fn wait_cluster(plan: &Plan) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for index in 0..plan.nodes() {
        let address = plan.alternate(index);
        let deadline = Instant::now() + INFO_TIMEOUT;
        let name = loop {
            match info(&address, &["node"]) {
                Ok(values) if values.get("node").is_some_and(|n| !n.is_empty()) => {
                    break values["node"].clone();
                }
                result if Instant::now() >= deadline => {
                    let why = result.err().unwrap_or_else(|| "empty answer".into());
                    return Err(one_line(&format!(
                        "container {} logged {SERVICE_READY:?} but info `node` at {address} \
                         failed for {INFO_TIMEOUT:?}: {why}",
                        plan.container(index)
                    )));
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        names.push(name);
    }
    let deadline = Instant::now() + CLUSTER_TIMEOUT;
    for index in 0..plan.nodes() {
        let address = plan.alternate(index);
        loop {
            let peers = info(&address, &["peers-clear-alt"])
                .map(|v| v.get("peers-clear-alt").map_or(0, |p| peer_count(p)))
                .unwrap_or(0);
            if peers + 1 >= plan.nodes() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "container {} sees {peers} of {} other nodes after {CLUSTER_TIMEOUT:?}: \
                     the cluster did not form (see `docker logs {}`)",
                    plan.container(index),
                    plan.nodes() - 1,
                    plan.container(index)
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    Ok(names)
}

/// Nodes in a `peers-clear-*` value: `gen,port,[[name,tls,[addr,..]],..]`.
fn peer_count(value: &str) -> usize {
    let Some(start) = value.find('[') else {
        return 0;
    };
    let mut depth = 0usize;
    let mut count = 0;
    for c in value[start..].chars() {
        match c {
            '[' => {
                depth += 1;
                if depth == 2 {
                    count += 1;
                }
            }
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    count
}

/// One info request over a fresh connection: `name\tvalue` per requested name.
pub fn info(address: &str, names: &[&str]) -> Result<HashMap<String, String>, String> {
    let timeout = Duration::from_secs(2);
    let addr = address
        .to_socket_addrs()
        .map_err(|e| format!("{address}: {e}"))?
        .next()
        .ok_or_else(|| format!("{address}: no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{address}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let body: String = names.iter().map(|n| format!("{n}\n")).collect();
    let header = (2u64 << 56) | (1u64 << 48) | body.len() as u64;
    let mut request = header.to_be_bytes().to_vec();
    request.extend_from_slice(body.as_bytes());
    stream
        .write_all(&request)
        .map_err(|e| format!("{address}: {e}"))?;
    let mut header = [0u8; 8];
    stream
        .read_exact(&mut header)
        .map_err(|e| format!("{address}: {e}"))?;
    let size = u64::from_be_bytes(header) & ((1 << 48) - 1);
    if size > 16 << 20 {
        return Err(format!("{address}: info reply of {size} bytes"));
    }
    let mut reply = vec![0u8; size as usize];
    stream
        .read_exact(&mut reply)
        .map_err(|e| format!("{address}: {e}"))?;
    Ok(String::from_utf8_lossy(&reply)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------
// Docker API calls that need no runtime: checks, the labelled network, clean-up.

enum Endpoint {
    Unix(String),
    Tcp(String),
}

fn endpoint() -> Result<Endpoint, String> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    if host.is_empty() {
        return Ok(Endpoint::Unix("/var/run/docker.sock".into()));
    }
    if let Some(path) = host.strip_prefix("unix://") {
        return Ok(Endpoint::Unix(path.into()));
    }
    if let Some(addr) = host
        .strip_prefix("tcp://")
        .or_else(|| host.strip_prefix("http://"))
    {
        return Ok(Endpoint::Tcp(addr.trim_end_matches('/').into()));
    }
    Err(format!(
        "DOCKER_HOST={host} is not supported by the container target (use unix:// or tcp:// without TLS)"
    ))
}

fn endpoint_name() -> String {
    match endpoint() {
        Ok(Endpoint::Unix(p)) => format!("unix://{p}"),
        Ok(Endpoint::Tcp(a)) => format!("tcp://{a}"),
        Err(_) => std::env::var("DOCKER_HOST").unwrap_or_default(),
    }
}

/// A socket whose reads and writes wait at most [`DOCKER_TIMEOUT`].
trait Bounded: Sized {
    fn set_timeouts(&self, limit: Option<Duration>) -> std::io::Result<()>;
}

impl Bounded for std::os::unix::net::UnixStream {
    fn set_timeouts(&self, limit: Option<Duration>) -> std::io::Result<()> {
        self.set_read_timeout(limit)?;
        self.set_write_timeout(limit)
    }
}

impl Bounded for TcpStream {
    fn set_timeouts(&self, limit: Option<Duration>) -> std::io::Result<()> {
        self.set_read_timeout(limit)?;
        self.set_write_timeout(limit)
    }
}

fn bounded<S: Bounded>(stream: S) -> Result<S, String> {
    stream
        .set_timeouts(Some(DOCKER_TIMEOUT))
        .map_err(|e| e.to_string())?;
    Ok(stream)
}

/// One Docker API call: status and body.
fn docker(method: &str, path: &str, body: Option<&str>) -> Result<(u16, String), String> {
    fn exchange<S: Read + Write>(mut stream: S, request: &[u8]) -> std::io::Result<Vec<u8>> {
        stream.write_all(request)?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply)?;
        Ok(reply)
    }
    let body = body.unwrap_or("");
    // HTTP/1.0: the engine closes the connection after the reply and sends no chunks.
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: aerobench\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = match endpoint()? {
        Endpoint::Unix(socket) => std::os::unix::net::UnixStream::connect(&socket)
            .map_err(|e| format!("cannot reach the Docker engine at unix://{socket}: {e}"))
            .and_then(|stream| {
                exchange(bounded(stream)?, request.as_bytes()).map_err(|e| e.to_string())
            }),
        Endpoint::Tcp(addr) => TcpStream::connect(&addr)
            .map_err(|e| format!("cannot reach the Docker engine at tcp://{addr}: {e}"))
            .and_then(|stream| {
                exchange(bounded(stream)?, request.as_bytes()).map_err(|e| e.to_string())
            }),
    }
    .map_err(|e| format!("Docker API {method} {path}: {e}"))?;
    let text = String::from_utf8_lossy(&reply);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("Docker API {method} {path}: no HTTP status in the reply"))?;
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

fn docker_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| one_line(body))
}

/// Fails with a one-line message saying how to fix it when no Docker engine answers.
pub fn check_docker() -> Result<(), String> {
    let fix =
        "start Docker (or set DOCKER_HOST), or use the embedded target (unset AEROBENCH_TARGET)";
    match docker("GET", "/_ping", None) {
        Ok((200, _)) => Ok(()),
        Ok((status, body)) => Err(format!(
            "container target: the Docker engine at {} answered {status} ({}): {fix}",
            endpoint_name(),
            docker_message(&body)
        )),
        Err(e) => Err(format!(
            "container target: Docker is not available ({e}): {fix}"
        )),
    }
}

/// Fails with a one-line message saying how to fix it when `image` (`name:tag`) is not in
/// the local image store. Nothing is pulled here.
pub fn check_image(image: &str) -> Result<(), String> {
    match docker("GET", &format!("/images/{image}/json"), None)? {
        (200, _) => Ok(()),
        (404, _) => Err(format!(
            "container target: image {image} is not in the local Docker image store: \
             `docker pull {image}` where a registry is reachable, or build the local server \
             image with scripts/build-server-image and set AEROBENCH_IMAGE={LOCAL_IMAGE}, \
             or use the embedded target (unset AEROBENCH_TARGET)"
        )),
        (status, body) => Err(format!(
            "container target: cannot inspect image {image}: {status} {}",
            docker_message(&body)
        )),
    }
}

fn create_network(plan: &Plan) -> Result<String, String> {
    let labels: serde_json::Map<String, serde_json::Value> = plan
        .labels()
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let body = serde_json::json!({ "Name": plan.run, "CheckDuplicate": true, "Labels": labels });
    match docker("POST", "/networks/create", Some(&body.to_string()))? {
        (201 | 200, reply) => serde_json::from_str::<serde_json::Value>(&reply)
            .ok()
            .and_then(|v| v.get("Id").and_then(|id| id.as_str()).map(str::to_string))
            .ok_or_else(|| format!("network {} created without an id: {reply}", plan.run)),
        (status, reply) => Err(format!(
            "cannot create Docker network {}: {status} {}",
            plan.run,
            docker_message(&reply)
        )),
    }
}

fn remove_network(id: &str) {
    let _ = docker("DELETE", &format!("/networks/{id}"), None);
}

fn remove_container(id: &str) {
    let _ = docker(
        "DELETE",
        &format!("/containers/{id}?force=true&v=true"),
        None,
    );
}

/// A container or network as the Docker API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerObject {
    pub id: String,
    pub name: String,
    pub labels: HashMap<String, String>,
}

/// Containers (`kind` `containers`) or networks (`networks`) with label `label` (`key` or
/// `key=value`).
pub fn labelled(kind: &str, label: &str) -> Result<Vec<DockerObject>, String> {
    let filters = serde_json::json!({ "label": [label] }).to_string();
    let path = match kind {
        "containers" => format!("/containers/json?all=true&filters={}", url_encode(&filters)),
        _ => format!("/networks?filters={}", url_encode(&filters)),
    };
    let (status, body) = docker("GET", &path, None)?;
    if status != 200 {
        return Err(format!(
            "cannot list {kind}: {status} {}",
            docker_message(&body)
        ));
    }
    let list: Vec<serde_json::Value> =
        serde_json::from_str(&body).map_err(|e| format!("cannot list {kind}: {e}"))?;
    Ok(list
        .iter()
        .map(|item| {
            let id = item["Id"].as_str().unwrap_or_default().to_string();
            let name = match &item["Names"] {
                serde_json::Value::Array(names) => names
                    .first()
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string(),
                _ => item["Name"].as_str().unwrap_or_default().to_string(),
            };
            let labels = item["Labels"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            DockerObject { id, name, labels }
        })
        .collect())
}

/// Removes the containers and networks left by runs whose process has ended on this host
/// (killed, or exited without clean-up); returns how many it removed.
pub fn clean_stale() -> Result<usize, String> {
    let host = hostname();
    let stale = |labels: &HashMap<String, String>| {
        labels.get(LABEL_HOST) == Some(&host)
            && labels
                .get(LABEL_PID)
                .and_then(|p| p.parse::<i32>().ok())
                .is_some_and(|pid| pid != std::process::id() as i32 && !process_alive(pid))
    };
    let mut removed = 0;
    for DockerObject { id, labels, .. } in labelled("containers", LABEL_OWNER)? {
        if stale(&labels) {
            remove_container(&id);
            removed += 1;
        }
    }
    for DockerObject { id, labels, .. } in labelled("networks", LABEL_OWNER)? {
        if stale(&labels) {
            remove_network(&id);
            removed += 1;
        }
    }
    Ok(removed)
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or
    // truncates, and we stop at the first NUL.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// What is still running, removed at process exit if nobody dropped it.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Resource {
    Container(String),
    Network(String),
}

static LIVE: Mutex<Vec<Resource>> = Mutex::new(Vec::new());

fn register(resource: Resource) {
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: registers a plain extern "C" function with no arguments.
        unsafe {
            libc::atexit(remove_live_at_exit);
        }
    });
    LIVE.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(resource);
}

fn unregister(resource: &Resource) {
    LIVE.lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|r| r != resource);
}

extern "C" fn remove_live_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let live = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|p| p.into_inner()));
        // Containers first: a network with containers attached cannot be removed.
        for resource in &live {
            if let Resource::Container(id) = resource {
                remove_container(id);
            }
        }
        for resource in &live {
            if let Resource::Network(id) = resource {
                remove_network(id);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(vars: &[(&str, &str)]) -> Result<ContainerSpec, String> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        ContainerSpec::parse(|k| map.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn image_defaults_to_the_pinned_official_tag() {
        let s = spec(&[]).unwrap();
        assert_eq!(s.reference(), format!("{DEFAULT_IMAGE}:{DEFAULT_TAG}"));
        assert_eq!(
            spec(&[("AEROBENCH_IMAGE_TAG", "7.2.0.6")]).unwrap().tag,
            "7.2.0.6"
        );
        let s = spec(&[("AEROBENCH_IMAGE", "aerobench/server:local")]).unwrap();
        assert_eq!(
            (s.image.as_str(), s.tag.as_str()),
            ("aerobench/server", "local")
        );
        let s = spec(&[("AEROBENCH_IMAGE", "localhost:5000/as")]).unwrap();
        assert_eq!(
            (s.image.as_str(), s.tag.as_str()),
            ("localhost:5000/as", "latest")
        );
        let s = spec(&[("AEROSPIKE_CLUSTER_NAME", "c1")]).unwrap();
        assert_eq!(s.cluster_name, "c1");
        for bad in [("AEROBENCH_IMAGE", "x:"), ("AEROBENCH_IMAGE_TAG", "a:b")] {
            let e = spec(&[bad]).unwrap_err();
            assert!(e.contains(bad.0) && !e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn conf_is_rendered_per_node() {
        let conf = render_conf("bench", "run-n0", 32001);
        assert!(conf.contains("cluster-name bench\n"));
        assert!(conf.contains("alternate-access-address 127.0.0.1\n"));
        assert!(conf.contains("alternate-access-port 32001\n"));
        assert!(conf.contains("mesh-seed-address-port run-n0 3002\n"));
        assert!(conf.contains("namespace test {"));
        assert!(!conf.contains('@') && !conf.contains('#') && !conf.contains('$'));
    }

    #[test]
    fn peers_are_counted() {
        assert_eq!(peer_count("1,3000,[]"), 0);
        assert_eq!(
            peer_count("3,3000,[[A,,[127.0.0.1:1]],[B,tls,[h:2,h2:3]]]"),
            2
        );
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), "abcde");
    }
}
