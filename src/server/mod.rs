//! An in-memory server that speaks the Aerospike wire protocol, serving 1 to 8 nodes from
//! one process.
//!
//! It exists so the suite has a target on any machine, and as a measuring instrument: it
//! answers at near-zero cost, so a benchmark against it shows the client's own ceiling.
//! It implements the subset described in `docs`' wire-protocol notes (info, single-record
//! commands, batch index) with the real server's result codes, generations and TTLs.
//!
//! This module depends on nothing else in the crate, so it can become its own crate.

pub mod batch;
pub mod cluster;
pub mod codec;
pub mod command;
mod delay;
pub mod info;
mod net;
pub mod stats;
pub mod store;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use cluster::{Cluster, NodeIdentity};
use delay::Delayer;
use stats::Stats;
use store::Store;

/// The largest node count one process serves.
pub const MAX_NODES: usize = 8;
/// The `build` announced: ≥ 6.0 so the C client uses batch-any, < 8.1 so no
/// `user-agent-set` round trip is added to connection set-up.
pub const BUILD: &str = "7.2.0.0";
/// First word of the machine-readable ready line.
pub const READY_PREFIX: &str = "aerobench-server ready";

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    pub nodes: usize,
    /// First node's port; the others follow. 0 picks free ports.
    pub port: u16,
    pub bind: IpAddr,
    /// Host announced to clients instead of the bind address (e.g. for `0.0.0.0`).
    pub advertise: Option<String>,
    /// `host:port` per node announced through the `-alt` info names (services-alternate).
    pub alternate: Vec<String>,
    pub namespaces: Vec<String>,
    pub cluster_name: String,
    /// Replicas announced per partition (1 = master only).
    pub replication: usize,
    /// Added before every reply, to model server and network cost.
    pub service_delay: Duration,
    /// Connections per node; more are closed at accept. 0 = unlimited.
    pub max_conns: usize,
    /// Largest frame body accepted; a larger one closes the connection.
    pub max_frame: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            nodes: 1,
            port: 3000,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            advertise: None,
            alternate: Vec::new(),
            namespaces: vec!["test".into()],
            cluster_name: "aerobench".into(),
            replication: 2,
            service_delay: Duration::ZERO,
            max_conns: 0,
            max_frame: 16 * 1024 * 1024,
        }
    }
}

impl Config {
    /// Checks the values a user can get wrong, with a message naming the fix.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_NODES).contains(&self.nodes) {
            return Err(format!(
                "--nodes {} is out of range: use 1 to {MAX_NODES}",
                self.nodes
            ));
        }
        if self.port != 0 && usize::from(self.port) + self.nodes - 1 > usize::from(u16::MAX) {
            return Err(format!(
                "--port {} leaves no room for {} nodes: use a lower port or 0",
                self.port, self.nodes
            ));
        }
        if self.namespaces.is_empty()
            || self.namespaces.iter().any(|n| n.is_empty() || n.len() > 31)
        {
            return Err("--namespace names must be 1 to 31 characters".into());
        }
        if !self.alternate.is_empty() && self.alternate.len() != self.nodes {
            return Err(format!(
                "--alternate lists {} addresses for {} nodes: give one host:port per node",
                self.alternate.len(),
                self.nodes
            ));
        }
        Ok(())
    }
}

/// State every connection reads.
pub struct Shared {
    pub cluster: Cluster,
    pub store: Store,
    pub stats: Stats,
    delayer: Option<Delayer>,
    service_delay: Duration,
    max_conns: usize,
    max_frame: u64,
}

impl Shared {
    /// The state for nodes listening at `addresses`, before any connection is served.
    pub fn new(config: &Config, addresses: &[SocketAddr]) -> Result<Shared, String> {
        Ok(Shared {
            cluster: Cluster::new(
                identities(config, addresses),
                config.namespaces.clone(),
                config.cluster_name.clone(),
                BUILD.into(),
                config.replication,
            ),
            store: Store::new(&config.namespaces),
            stats: Stats::default(),
            delayer: match config.service_delay.is_zero() {
                true => None,
                false => Some(Delayer::start().map_err(|e| e.to_string())?),
            },
            service_delay: config.service_delay,
            max_conns: config.max_conns,
            max_frame: config.max_frame,
        })
    }

    /// Answers one request frame body of proto type `msg_type` addressed to `node`,
    /// appending complete reply frames to `out`. Never panics, whatever the bytes.
    pub fn answer(&self, node: usize, msg_type: u8, body: &[u8], out: &mut Vec<u8>) {
        net::dispatch(node, msg_type, body, self, out);
    }
}

/// A running server: its nodes' addresses and the handles to stop them.
pub struct Server {
    shared: Arc<Shared>,
    stops: Vec<watch::Sender<bool>>,
    addresses: Vec<SocketAddr>,
}

impl Server {
    /// Binds every node's listener and starts serving on the current Tokio runtime.
    pub fn start(config: &Config) -> Result<Server, String> {
        config.validate()?;
        let listeners = net::bind_listeners(config.bind, config.port, config.nodes)
            .map_err(|e| e.to_string())?;
        let addresses: Vec<SocketAddr> = listeners
            .iter()
            .map(|l| l.local_addr())
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared::new(config, &addresses)?);
        let mut stops = Vec::new();
        for (node, listener) in listeners.into_iter().enumerate() {
            let listener =
                tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
            let (stop, stopped) = watch::channel(false);
            tokio::spawn(net::serve_node(node, listener, shared.clone(), stopped));
            stops.push(stop);
        }
        Ok(Server {
            shared,
            stops,
            addresses,
        })
    }

    /// Addresses clients use, one per node, in node order.
    pub fn hosts(&self) -> Vec<String> {
        self.shared
            .cluster
            .nodes
            .iter()
            .map(|n| n.address.clone())
            .collect()
    }

    pub fn local_addresses(&self) -> &[SocketAddr] {
        &self.addresses
    }

    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// The one line a parent process waits for:
    /// `aerobench-server ready nodes=h:p,h:p names=A,B build=7.2.0.0 cluster-name=x namespaces=test`.
    pub fn ready_line(&self) -> String {
        let c = &self.shared.cluster;
        let names: Vec<&str> = c.nodes.iter().map(|n| n.name.as_str()).collect();
        format!(
            "{READY_PREFIX} nodes={} names={} build={} cluster-name={} namespaces={}",
            self.hosts().join(","),
            names.join(","),
            c.build,
            c.cluster_name,
            c.namespaces.join(",")
        )
    }

    /// Stops node `node` as if its process died: its listener and connections close, and
    /// the survivors take over its partitions. False if it is not running or is the last.
    pub fn stop_node(&self, node: usize) -> bool {
        if !self.shared.cluster.stop(node) {
            return false;
        }
        let _ = self.stops[node].send(true);
        true
    }
}

/// Node names are stable for the process: the pid and the node index, in hex like a real
/// node id, so two servers on one machine never share a name.
fn identities(config: &Config, addresses: &[SocketAddr]) -> Vec<NodeIdentity> {
    addresses
        .iter()
        .enumerate()
        .map(|(i, addr)| {
            let host = config
                .advertise
                .clone()
                .unwrap_or_else(|| addr.ip().to_string());
            let address = format!("{host}:{}", addr.port());
            NodeIdentity {
                name: format!("BB9{:08X}{i:02X}", std::process::id()),
                alternate: config
                    .alternate
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| address.clone()),
                address,
            }
        })
        .collect()
}
