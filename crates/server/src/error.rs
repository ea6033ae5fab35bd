//! Why the server would not start or dropped a connection, each message naming the flag to
//! change or what the peer did.

use std::net::SocketAddr;
use std::time::Duration;

use crate::MAX_NODES;
use crate::codec::DecodeError;

/// A configuration the server cannot serve, or a listener it cannot open.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("--nodes {0} is out of range: use 1 to {MAX_NODES}")]
    Nodes(usize),
    #[error("--port {port} leaves no room for {nodes} nodes: use a lower port or 0")]
    PortRange { port: u16, nodes: usize },
    #[error("--namespace names must be 1 to 31 characters")]
    NamespaceName,
    #[error("--alternate lists {given} addresses for {nodes} nodes: give one host:port per node")]
    Alternates { given: usize, nodes: usize },
    #[error("--nodes {0} with --peer: a process in a multi-process cluster serves one node")]
    NodesWithPeers(usize),
    #[error(transparent)]
    Membership(#[from] MembershipError),
    #[error("cannot bind {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A multi-process cluster described inconsistently (`--peer`, `--node-index`, …).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    #[error(
        "bad --peer {spec:?}: {why}; expected [NAME@]HOST:PORT[/ALT_HOST:ALT_PORT], e.g. BB9A@node1:3000/127.0.0.1:32001"
    )]
    Peer { spec: String, why: String },
    #[error("node name {0:?} must be 1 to 32 letters, digits, '_' or '-'")]
    NodeName(String),
    #[error(
        "a node of a multi-process cluster needs --node-id NAME or --node-index I --cluster-size N"
    )]
    NoPosition,
    #[error("--node-index {index} is not below --cluster-size {size} (at most {MAX_NODES})")]
    Index { index: usize, size: usize },
    #[error(
        "--cluster-size {size} needs {} --peer entries (the other nodes, in index order); got {given}",
        size - 1
    )]
    PeerCount { size: usize, given: usize },
    #[error("--node-index needs --cluster-size")]
    IndexWithoutSize,
    #[error("--cluster-size needs --node-index")]
    SizeWithoutIndex,
    #[error("--peer {0} has no NAME@: name every peer, or give --node-index and --cluster-size")]
    UnnamedPeer(String),
    #[error("{0} --peer entries: a cluster has at most {MAX_NODES} nodes")]
    TooManyPeers(usize),
    #[error("node name {0} is used twice in the cluster")]
    DuplicateName(String),
}

/// Why the server closed a client connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("{0}")]
    Frame(#[from] DecodeError),
    #[error("connection cut mid-frame ({0:?})")]
    CutMidFrame(Option<SocketAddr>),
    #[error("frame body not received within {0:?}")]
    SlowBody(Duration),
}

/// A fault a control line asked for that the server cannot apply.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    #[error("node {0} is not served by this process")]
    NotServed(usize),
    #[error("cannot kill node {0}: it is stopped already, or the last one running")]
    CannotKill(usize),
    #[error("cannot restart node {0}: it is running (kill it first)")]
    Running(usize),
    #[error("cannot restart the node: {0}")]
    Restart(StartError),
    #[error(
        "node {0} cannot move: its peers in other processes would not learn its new port (move a node of a single-process cluster)"
    )]
    MoveShared(usize),
    #[error(
        "a partition needs a network between the nodes, which one process does not have: use the container target"
    )]
    Partition,
}
