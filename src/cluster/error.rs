//! Why a target could not be chosen, started or reached: one line each, naming the
//! variable, the host or the container, and the fix.

use std::path::PathBuf;
use std::time::Duration;

use testcontainers::bollard::errors::Error as DockerError;

use super::container::spec::{DEFAULT_TAG, LOCAL_IMAGE, SOURCE_BUILD_TAG};
use super::settings::Kind;
use crate::server::{MAX_NODES, SERVICE_READY};

/// A value in the environment no target can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("unknown AEROBENCH_TARGET={0:?}: use embedded, container or remote")]
    UnknownTarget(String),
    #[error("AEROBENCH_TARGET=remote needs AEROSPIKE_HOSTS=host:port[,host:port...]")]
    RemoteWithoutHosts,
    #[error(
        "malformed AEROSPIKE_HOSTS entry {0:?}: expected host:port, e.g. AEROSPIKE_HOSTS=10.0.0.1:3000,10.0.0.2:3000"
    )]
    MalformedHost(String),
    #[error("invalid AEROBENCH_NODES={0:?}: use a node count from 1 to {MAX_NODES}")]
    Nodes(String),
    #[error("{given} is set without {missing}: set both or neither")]
    HalfCredentials {
        given: &'static str,
        missing: &'static str,
    },
    #[error("invalid {name}={value:?}: use 1 or 0")]
    Flag { name: &'static str, value: String },
    #[error("invalid AEROBENCH_IMAGE={0:?}: use name or name:tag, e.g. {LOCAL_IMAGE}")]
    Image(String),
    #[error("invalid AEROBENCH_IMAGE_TAG={0:?}: use a tag such as {DEFAULT_TAG}")]
    ImageTag(String),
    #[error("invalid AEROBENCH_CONTAINER_NETWORK={0:?}: use host or published")]
    ContainerNetwork(String),
    #[error("AEROBENCH_NODES={0}: the container target runs 1 to {MAX_NODES} nodes")]
    ContainerNodes(usize),
    #[error("AEROBENCH_SERVER_BIN={} is not a file", .0.display())]
    ServerBin(PathBuf),
    #[error("invalid {name}={value:?}: use a CPU list such as 0 or 0-3,6")]
    Cpus { name: &'static str, value: String },
    #[error("{name}={cpus} names CPUs this process may not use: pick from {allowed}")]
    CpusNotAllowed {
        name: &'static str,
        cpus: String,
        allowed: String,
    },
    #[error("AEROBENCH_SERVER_CPUS places the embedded server only: unset it for the {0} target")]
    ServerCpusNotOurs(super::Kind),
}

/// Why the target did not start, or the client could not reach it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error(
        "server binary missing: run `cargo build --release -p aerobench-server --features bin` or set AEROBENCH_SERVER_BIN"
    )]
    ServerMissing,
    #[error("cannot locate this executable: {0}")]
    OwnExecutable(std::io::Error),
    #[error("cannot start {}: {source}", binary.display())]
    Spawn {
        binary: PathBuf,
        source: std::io::Error,
    },
    #[error("embedded server printed no ready line within {0:?}")]
    NoReadyLine(Duration),
    #[error("embedded server exited before it was ready (see its message above)")]
    ServerExited,
    #[error("server ready line has no nodes: {0}")]
    ReadyLine(String),
    #[error("server already stopped")]
    ServerStopped,
    #[error(
        "--fault and --scenario need a cluster aerobench runs (this is a {0} target): unset AEROSPIKE_HOSTS for the embedded server, or AEROBENCH_TARGET=container"
    )]
    FaultsUnsupported(Kind),
    #[error("container target: {0}")]
    ContainerFault(&'static str),
    #[error(
        "container target: cannot reset the node's connections ({0}): drop needs ss (iproute2) and, on a private network, nsenter, run as root"
    )]
    CutConnections(String),
    #[error("node {0} is not in this {1}-node cluster")]
    NoSuchNode(usize, usize),
    #[error("server control pipe: {0}")]
    ControlPipe(std::io::Error),
    #[error("cannot place the client on CPUs {cpus}: {source}")]
    Pin {
        cpus: String,
        source: std::io::Error,
    },
    #[error(
        "container target: Docker is not available at {engine} ({}): start Docker (or set DOCKER_HOST), or use the embedded target (unset AEROBENCH_TARGET)",
        one_line(detail)
    )]
    NoEngine { engine: String, detail: String },
    #[error(
        "container target: image {0} is not in the local Docker image store: `docker pull {0}` where a registry is reachable, or `docker load -i ../shared/images/aerospike-server-8.1.2.0-src.tar.gz` and AEROBENCH_IMAGE_TAG={SOURCE_BUILD_TAG} (scripts/test does it), or scripts/build-server-image and AEROBENCH_IMAGE={LOCAL_IMAGE}, or the embedded target (unset AEROBENCH_TARGET)"
    )]
    ImageMissing(String),
    #[error("{action}: {}", one_line(&source.to_string()))]
    Docker { action: String, source: DockerError },
    #[error("a Docker API call panicked")]
    DockerPanicked,
    #[error("cannot start a Tokio runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot find a free loopback port: {0}")]
    FreePort(std::io::Error),
    #[error(
        "container target: port 127.0.0.1:{port} for {container} is taken ({source}): stop what holds it, or run again (ports are chosen afresh each run)"
    )]
    PortTaken {
        port: u16,
        container: String,
        source: std::io::Error,
    },
    #[error("cannot start the container thread: {0}")]
    Thread(std::io::Error),
    #[error("the container thread ended before the cluster was ready")]
    KeeperGone,
    #[error(
        "container {} did not log {SERVICE_READY:?} within {timeout:?}: {}; its last log line: {}",
        node.describe(), one_line(why), node.last_log
    )]
    NotStarted {
        node: Box<NodeContext>,
        timeout: Duration,
        why: String,
    },
    #[error(
        "container {} logged {SERVICE_READY:?} but the cluster was not usable within {timeout:?}: {}; its last log line: {}",
        node.describe(), one_line(why), node.last_log
    )]
    NotUsable {
        node: Box<NodeContext>,
        timeout: Duration,
        why: String,
    },
    #[error("cannot connect to Aerospike at {seeds}: {}; {fix}", one_line(why))]
    Unreachable {
        seeds: String,
        why: String,
        fix: &'static str,
    },
}

/// The container a message is about: its name, image, ports and last log line.
#[derive(Debug, Clone)]
pub struct NodeContext {
    pub container: String,
    pub image: String,
    pub ports: String,
    pub last_log: String,
}

impl NodeContext {
    fn describe(&self) -> String {
        format!("{} ({}, {})", self.container, self.image, self.ports)
    }
}

/// Collapses whitespace (and newlines) so a message stays one line: the client's and the
/// engine's errors can span lines.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
