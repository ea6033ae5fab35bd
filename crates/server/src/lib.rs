//! An in-memory server that speaks the Aerospike wire protocol, serving 1 to 8 nodes from
//! one process, or one node of a cluster whose other nodes are other processes (for
//! example one container per node; see [`Membership`]).
//!
//! It exists so the suite has a target on any machine, and as a measuring instrument: it
//! answers at near-zero cost, so a benchmark against it shows the client's own ceiling.
//! It implements the subset of the protocol the client uses (info, single-record commands,
//! batch index) with the real server's result codes, generations and TTLs, and refuses the
//! rest with the code the real server gives for an unsupported request; `tests/differential.rs`
//! holds it to Aerospike 8.1.2.0.
//!
//! It depends on nothing of the benchmark suite (only tokio, base64, libc and clap).

mod address;
pub mod batch;
pub mod cluster;
pub mod codec;
pub mod command;
mod delay;
mod error;
pub mod fault;
pub mod info;
mod membership;
mod msgpack;
mod net;
pub mod service_time;
pub mod stats;
pub mod store;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::watch;

pub use address::{BadAddress, check_host_port};
use cluster::{Cluster, NodeIdentity};
use delay::Delayer;
pub use error::{ConnectionError, FaultError, MembershipError, StartError};
use fault::{Fault, NodeFaults, Order};
pub use membership::{Membership, Peer, indexed_node_name};
use service_time::Request;
use stats::Stats;
use store::Store;

/// The largest node count one process serves.
pub const MAX_NODES: usize = 8;
/// The `build` announced: ≥ 6.0 so the C client uses batch-any, < 8.1 so no
/// `user-agent-set` round trip is added to connection set-up.
pub const BUILD: &str = "7.2.0.0";
/// First word of the machine-readable ready line.
pub const READY_PREFIX: &str = "aerobench-server ready";
/// The line the real server logs once it serves clients; container tooling waits for it.
pub const SERVICE_READY: &str = "service ready: soon there will be cake!";

/// The namespace served when none is named (Aerospike's own default, and asbench's).
pub const DEFAULT_NAMESPACE: &str = "test";
/// The cluster name answered when none is given; the suite's containers get it too.
pub const DEFAULT_CLUSTER_NAME: &str = "aerobench";
/// Aerospike's service port, the first node's when none is given.
pub const DEFAULT_PORT: u16 = 3000;

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
    /// Set when this process is one node of a multi-process cluster.
    pub membership: Option<Membership>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            nodes: 1,
            port: DEFAULT_PORT,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            advertise: None,
            alternate: Vec::new(),
            namespaces: vec![DEFAULT_NAMESPACE.into()],
            cluster_name: DEFAULT_CLUSTER_NAME.into(),
            replication: 2,
            service_delay: Duration::ZERO,
            max_conns: 0,
            max_frame: 16 * 1024 * 1024,
            membership: None,
        }
    }
}

impl Config {
    /// Checks the values a user can get wrong, with a message naming the fix.
    pub fn validate(&self) -> Result<(), StartError> {
        if !(1..=MAX_NODES).contains(&self.nodes) {
            return Err(StartError::Nodes(self.nodes));
        }
        if self.port != 0 && usize::from(self.port) + self.nodes - 1 > usize::from(u16::MAX) {
            return Err(StartError::PortRange {
                port: self.port,
                nodes: self.nodes,
            });
        }
        if self.namespaces.is_empty()
            || self.namespaces.iter().any(|n| n.is_empty() || n.len() > 31)
        {
            return Err(StartError::NamespaceName);
        }
        if !self.alternate.is_empty() && self.alternate.len() != self.nodes {
            return Err(StartError::Alternates {
                given: self.alternate.len(),
                nodes: self.nodes,
            });
        }
        if let Some(membership) = &self.membership {
            if self.nodes != 1 {
                return Err(StartError::NodesWithPeers(self.nodes));
            }
            membership.names(&self.cluster_name)?;
        }
        Ok(())
    }
}

/// State every connection reads.
pub struct Shared {
    pub cluster: Cluster,
    pub store: Store,
    pub stats: Stats,
    delayer: Delayer,
    /// Per cluster node: the faults it has been given (none at start but `--delay-us`).
    faults: Vec<NodeFaults>,
    max_conns: usize,
    max_frame: u64,
}

impl Shared {
    /// The state for nodes listening at `addresses`, before any connection is served.
    pub fn new(config: &Config, addresses: &[SocketAddr]) -> Result<Shared, StartError> {
        Ok(Self::with_local(config, addresses)?.0)
    }

    /// The state, and the cluster indices of the nodes listening at `addresses`.
    fn with_local(
        config: &Config,
        addresses: &[SocketAddr],
    ) -> Result<(Shared, Vec<usize>), StartError> {
        let (identities, local) = identities(config, addresses)?;
        let nodes = identities.len();
        let shared = Shared {
            cluster: Cluster::new(
                identities,
                config.namespaces.clone(),
                config.cluster_name.clone(),
                BUILD.into(),
                config.replication,
            ),
            store: Store::new(&config.namespaces),
            stats: Stats::default(),
            delayer: Delayer::start()?,
            faults: (0..nodes)
                .map(|_| NodeFaults::new(config.service_delay))
                .collect(),
            max_conns: config.max_conns,
            max_frame: config.max_frame,
        };
        Ok((shared, local))
    }

    /// Answers one request frame body of proto type `msg_type` addressed to `node`,
    /// appending complete reply frames to `out`; returns the record request it served, if
    /// it was one. Never panics, whatever the bytes.
    pub fn answer(
        &self,
        node: usize,
        msg_type: u8,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Option<Request> {
        net::dispatch(node, msg_type, body, self, out)
    }

    /// Waits out `node`'s service delay, if it has one.
    async fn delay(&self, node: usize) {
        let delay = self
            .faults
            .get(node)
            .map_or(Duration::ZERO, NodeFaults::delay);
        if !delay.is_zero() {
            self.delayer.wait(delay).await;
        }
    }

    /// Returns once `node` is not hung: when it waited, with the instant it started to.
    async fn while_hung(&self, node: usize) -> Option<Instant> {
        self.faults.get(node)?.while_hung().await
    }

    /// The result code `node` is to fail this request with, if it was given errors.
    fn injected_error(&self, node: usize) -> Option<u8> {
        self.faults.get(node)?.error()
    }
}

/// A running server: its nodes' addresses and the handles to fault them.
pub struct Server {
    shared: Arc<Shared>,
    /// Per cluster node: a node this process serves, `None` for nodes served by other
    /// processes.
    nodes: Vec<Option<LocalNode>>,
    /// Cluster indices of the nodes this process serves, in listener order.
    local: Vec<usize>,
    addresses: Vec<SocketAddr>,
    workers: Arc<[Handle]>,
}

/// A node this process serves: where it listens and the switches that close it.
struct LocalNode {
    /// Where it listens; a node that moves gets another port.
    address: Mutex<SocketAddr>,
    /// Closes the listener when set; a restarted node gets a new one.
    stop: Mutex<watch::Sender<bool>>,
    /// Bumped to close every open connection of the node.
    cuts: watch::Sender<u64>,
}

impl Server {
    /// Binds every node's listener and starts serving on the current Tokio runtime.
    pub fn start(config: &Config) -> Result<Server, StartError> {
        Self::start_on(config, Vec::new())
    }

    /// [`Self::start`], with the listeners on the current runtime and the connections
    /// dealt out in turn to `workers` (none: the current runtime). Workers on
    /// current-thread runtimes, one per thread, keep each connection's wake-ups on the
    /// thread that serves it.
    pub fn start_on(config: &Config, workers: Vec<Handle>) -> Result<Server, StartError> {
        config.validate()?;
        let workers: Arc<[Handle]> = workers.into();
        let listeners = net::bind_listeners(config.bind, config.port, config.nodes)?;
        let addresses: Vec<SocketAddr> = listeners
            .iter()
            .map(|l| l.local_addr())
            .collect::<Result<_, _>>()?;
        let (shared, local) = Shared::with_local(config, &addresses)?;
        let mut server = Server {
            nodes: (0..shared.cluster.nodes.len()).map(|_| None).collect(),
            shared: Arc::new(shared),
            local,
            addresses,
            workers,
        };
        for (i, listener) in listeners.into_iter().enumerate() {
            let node = LocalNode {
                address: Mutex::new(server.addresses[i]),
                stop: Mutex::new(watch::Sender::new(false)),
                cuts: watch::Sender::new(0),
            };
            server.serve(server.local[i], &node, listener)?;
            server.nodes[server.local[i]] = Some(node);
        }
        Ok(server)
    }

    /// Serves `node` on `listener` until its stop switch is set.
    fn serve(
        &self,
        index: usize,
        node: &LocalNode,
        listener: std::net::TcpListener,
    ) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let stop = watch::Sender::new(false);
        tokio::spawn(net::serve_node(
            index,
            listener,
            self.shared.clone(),
            stop.subscribe(),
            node.cuts.subscribe(),
            self.workers.clone(),
        ));
        *node.stop.lock().unwrap_or_else(|p| p.into_inner()) = stop;
        Ok(())
    }

    /// Addresses clients use, one per node this process serves, in node order.
    pub fn hosts(&self) -> Vec<String> {
        let cluster = &self.shared.cluster;
        self.local
            .iter()
            .map(|&i| cluster.address(i, false))
            .collect()
    }

    /// Names of the nodes this process serves, in node order.
    pub fn names(&self) -> Vec<String> {
        let nodes = &self.shared.cluster.nodes;
        self.local.iter().map(|&i| nodes[i].name.clone()).collect()
    }

    /// Nodes in the whole cluster, including those other processes serve.
    pub fn cluster_size(&self) -> usize {
        self.shared.cluster.nodes.len()
    }

    pub fn local_addresses(&self) -> &[SocketAddr] {
        &self.addresses
    }

    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// The one line a parent process waits for:
    /// `aerobench-server ready nodes=h:p,h:p names=A,B build=7.2.0.0 cluster-name=x namespaces=test`,
    /// listing the nodes this process serves; a node of a multi-process cluster adds
    /// `cluster-size=N`.
    pub fn ready_line(&self) -> String {
        let c = &self.shared.cluster;
        let mut line = format!(
            "{READY_PREFIX} nodes={} names={} build={} cluster-name={} namespaces={}",
            self.hosts().join(","),
            self.names().join(","),
            c.build,
            c.cluster_name,
            c.namespaces.join(",")
        );
        if self.local.len() != c.nodes.len() {
            line.push_str(&format!(" cluster-size={}", c.nodes.len()));
        }
        line
    }

    /// Gives a node this process serves a fault (see [`Fault`]) from now on.
    pub fn apply(&self, order: Order) -> Result<(), FaultError> {
        let Order { node: index, fault } = order;
        let Some(Some(node)) = self.nodes.get(index) else {
            return Err(FaultError::NotServed(index));
        };
        let faults = &self.shared.faults[index];
        match fault {
            Fault::Kill => {
                if !self.shared.cluster.stop(index) {
                    return Err(FaultError::CannotKill(index));
                }
                node.stop
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .send_replace(true);
                node.cuts.send_modify(|n| *n += 1);
            }
            Fault::Restart | Fault::Move => {
                if self.shared.cluster.is_live(index) {
                    return Err(FaultError::Running(index));
                }
                let moves = fault == Fault::Move;
                if moves && self.nodes.iter().any(Option::is_none) {
                    return Err(FaultError::MoveShared(index));
                }
                let mut address = node.address.lock().unwrap_or_else(|p| p.into_inner());
                if moves {
                    address.set_port(0);
                }
                let listener = net::bind_listener(*address).map_err(FaultError::Restart)?;
                *address = listener
                    .local_addr()
                    .map_err(|e| FaultError::Restart(e.into()))?;
                if moves {
                    self.shared.cluster.relocate(index, address.port());
                }
                self.serve(index, node, listener)
                    .map_err(|e| FaultError::Restart(e.into()))?;
                self.shared.cluster.start(index);
            }
            Fault::Hang => faults.set_hang(true),
            Fault::Slow(delay) => faults.set_delay(delay),
            Fault::Errors { code, percent } => faults.set_errors(code, percent),
            Fault::Drop => node.cuts.send_modify(|n| *n += 1),
            Fault::Partition => return Err(FaultError::Partition),
            Fault::Heal => faults.heal(),
        }
        Ok(())
    }
}

/// Every node of the cluster in cluster order, and the cluster indices of the nodes this
/// process serves (one per address, in order).
///
/// Node names are stable for the process: the pid and the node index, in hex like a real
/// node id, so two servers on one machine never share a name. A node of a multi-process
/// cluster takes its name from its [`Membership`] instead, and the cluster is every peer
/// plus this node, ordered by name.
fn identities(
    config: &Config,
    addresses: &[SocketAddr],
) -> Result<(Vec<NodeIdentity>, Vec<usize>), StartError> {
    let own: Vec<NodeIdentity> = addresses
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
        .collect();
    let Some(membership) = &config.membership else {
        let local = (0..own.len()).collect();
        return Ok((own, local));
    };
    let (peer_names, own_name) = membership.names(&config.cluster_name)?;
    let mut me = own.into_iter().next().ok_or(StartError::Nodes(0))?;
    me.name = own_name.clone();
    let mut nodes: Vec<NodeIdentity> = membership
        .peers
        .iter()
        .zip(peer_names)
        .map(|(peer, name)| NodeIdentity {
            name: name.unwrap_or_default(),
            address: peer.address.clone(),
            alternate: peer
                .alternate
                .clone()
                .unwrap_or_else(|| peer.address.clone()),
        })
        .collect();
    nodes.push(me);
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    // Names are unique (checked by `names`), so this node's place is the count before it.
    let position = nodes.iter().filter(|n| n.name < own_name).count();
    Ok((nodes, vec![position]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(index: usize, peers: &[&str]) -> Config {
        Config {
            port: 0,
            alternate: vec![format!("127.0.0.1:{}", 4000 + index)],
            membership: Some(Membership {
                index: Some(index),
                size: Some(peers.len() + 1),
                peers: peers.iter().map(|p| p.parse().unwrap()).collect(),
                ..Membership::default()
            }),
            ..Config::default()
        }
    }

    fn named(id: &str, peers: &[&str]) -> Config {
        Config {
            port: 0,
            membership: Some(Membership {
                node_id: Some(id.into()),
                peers: peers.iter().map(|p| p.parse().unwrap()).collect(),
                ..Membership::default()
            }),
            ..Config::default()
        }
    }

    #[test]
    fn peer_specs_parse_and_reject_with_the_fix() {
        let p: Peer = "BB9A@node1:3000/127.0.0.1:32001".parse().unwrap();
        assert_eq!(p.name.as_deref(), Some("BB9A"));
        assert_eq!(
            (p.address.as_str(), p.alternate.as_deref()),
            ("node1:3000", Some("127.0.0.1:32001"))
        );
        let p: Peer = "node2:3000".parse().unwrap();
        assert_eq!((p.name, p.alternate), (None, None));
        for bad in ["node", "a b@n:1", "n:0", "A@n:3000/alt"] {
            let e = bad.parse::<Peer>().unwrap_err();
            assert!(e.to_string().contains("expected [NAME@]HOST:PORT"), "{e}");
        }
    }

    #[test]
    fn membership_errors_name_the_flag() {
        let mut c = member(0, &["n1:3000", "n2:3000"]);
        c.nodes = 2;
        c.alternate.clear();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("serves one node")
        );
        let c = member(3, &["n1:3000", "n2:3000"]);
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("--node-index 3")
        );
        let mut c = member(0, &["n1:3000"]);
        c.membership.as_mut().unwrap().size = Some(3);
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("needs 2 --peer")
        );
        let c = named("A", &["n1:3000"]);
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("has no NAME@")
        );
        let c = named("A", &["A@n1:3000"]);
        assert!(c.validate().unwrap_err().to_string().contains("used twice"));
        assert!(named("B", &["A@n1:3000"]).validate().is_ok());
    }

    /// Three processes given the same cluster agree on names, peers and ownership, and
    /// each answers for its own node only.
    #[tokio::test]
    async fn three_processes_form_one_cluster() {
        let specs = [
            member(0, &["n1:3000/127.0.0.1:4001", "n2:3000/127.0.0.1:4002"]),
            member(1, &["n0:3000/127.0.0.1:4000", "n2:3000/127.0.0.1:4002"]),
            member(2, &["n0:3000/127.0.0.1:4000", "n1:3000/127.0.0.1:4001"]),
        ];
        let servers: Vec<Server> = specs.iter().map(|c| Server::start(c).unwrap()).collect();
        let name = |i| indexed_node_name("aerobench", i);
        for (i, server) in servers.iter().enumerate() {
            assert_eq!(server.names(), [name(i)]);
            assert_eq!(server.hosts().len(), 1);
            assert_eq!(server.cluster_size(), 3);
            assert!(server.ready_line().ends_with("cluster-size=3"));
            let c = &server.shared.cluster;
            let names: Vec<_> = c.nodes.iter().map(|n| n.name.clone()).collect();
            assert_eq!(names, [name(0), name(1), name(2)]);
            let alt = c.peers(i, true);
            for j in (0..3).filter(|&j| j != i) {
                let entry = format!("[{},,[127.0.0.1:{}]]", name(j), 4000 + j);
                assert!(alt.contains(&entry), "{alt}");
            }
            assert_eq!(c.nodes[i].alternate, format!("127.0.0.1:{}", 4000 + i));
            assert!(
                server
                    .apply(Order {
                        node: (i + 1) % 3,
                        fault: Fault::Kill
                    })
                    .is_err(),
                "a node another process serves cannot be stopped"
            );
        }
        let first = &servers[0].shared.cluster;
        for (i, server) in servers.iter().enumerate() {
            assert_eq!(server.shared.cluster.replicas(i), first.replicas(i));
        }
    }

    /// Named nodes are ordered by name, whatever order the peers are given in.
    #[test]
    fn named_nodes_are_ordered_by_name() {
        let config = named("B", &["C@n3:3000", "A@n1:3000"]);
        let (nodes, local) = identities(&config, &["127.0.0.1:3000".parse().unwrap()]).unwrap();
        let names: Vec<_> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!((names, local), (vec!["A", "B", "C"], vec![1]));
    }
}
