//! Where the cluster comes from: the embedded server (default), containers, or remote nodes
//! named by the user. Every benchmark and the CLI get their cluster here, so the same
//! environment variables mean the same thing everywhere:
//!
//! | variable | meaning |
//! |---|---|
//! | `AEROBENCH_TARGET` | `embedded` (default), `container` or `remote` (default when `AEROSPIKE_HOSTS` is set) |
//! | `AEROBENCH_NODES` | node count for embedded and container targets (default 1) |
//! | `AEROBENCH_SERVER_ARGS` | extra `aerobench-server` flags, e.g. `--delay-us 50` |
//! | `AEROSPIKE_HOSTS` | `host:port[,host:port…]` of remote nodes |
//! | `AEROSPIKE_USER` / `AEROSPIKE_PASSWORD` | internal authentication |
//! | `AEROSPIKE_SERVICES_ALTERNATE` | `1` to use the nodes' alternate addresses |
//! | `AEROSPIKE_CLUSTER_NAME` | cluster name the client validates |
//! | `AEROBENCH_IMAGE` / `AEROBENCH_IMAGE_TAG` | container target image (`name[:tag]`), default [`container::DEFAULT_IMAGE`]:[`container::DEFAULT_TAG`] |
//! | `AEROBENCH_CONTAINER_NETWORK` | `host` (default where the engine has it) or `published` |
//! | `AEROBENCH_SERVER_CPUS` / `AEROBENCH_CLIENT_CPUS` | CPU lists (`0`, `0-3,6`) for the embedded server and the client; unset, both share every core |
//!
//! Remote and container targets print what the client found once connected (nodes,
//! builds, namespaces): see [`Found`].

pub mod container;
pub mod embedded;
mod error;
pub mod placement;
mod settings;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aerospike_core::{AuthMode, Client, ClientPolicy, policy::AdminPolicy};

pub use container::{ContainerCluster, ContainerSpec};
pub use embedded::EmbeddedServer;
pub use error::{Error, NodeContext, SettingError, one_line};
pub use settings::{Kind, Settings};

use crate::meta::{self, Fingerprint};
use crate::server::fault::Fault;

/// What keeps a target's cluster alive, one variant per kind of target.
pub enum Backing {
    /// The embedded server, a child process.
    Embedded(EmbeddedServer),
    /// Containers, removed when this is dropped.
    Container(ContainerCluster),
    /// Nodes someone else runs.
    Remote,
}

/// What decides, before anything starts, whether the target `settings` describe can be given
/// a fault: `Err` for remote nodes, which are not ours to fault; else each fault's refusal,
/// if the target cannot carry it out.
pub fn fault_refusal(settings: &Settings) -> Result<impl Fn(Fault) -> Option<&'static str>, Error> {
    let mode = match settings.kind {
        Kind::Remote => return Err(Error::FaultsUnsupported(Kind::Remote)),
        Kind::Container => Some(ContainerSpec::from_env()?.network_mode()?),
        Kind::Embedded => None,
    };
    Ok(move |fault| match mode {
        Some(mode) => container::faults::refusal(fault, mode),
        None => embedded::refusal(fault),
    })
}

/// A cluster to benchmark, with whatever keeps it alive.
pub struct Target {
    pub settings: Settings,
    pub hosts: Vec<String>,
    pub backing: Backing,
    /// Whether what the client found was printed already (once per target).
    announced: AtomicBool,
}

impl Target {
    /// Reads the environment and starts or locates the cluster.
    pub fn from_env() -> Result<Target, Error> {
        Self::start(Settings::from_env()?)
    }

    /// Starts or locates the cluster, then puts this process on the client's CPUs.
    pub fn start(settings: Settings) -> Result<Target, Error> {
        settings.placement.check(settings.kind)?;
        let target = Self::start_backing(settings)?;
        target.settings.placement.pin_client()?;
        Ok(target)
    }

    fn start_backing(settings: Settings) -> Result<Target, Error> {
        match settings.kind {
            Kind::Embedded => {
                let binary = embedded::locate_binary()?;
                let server = EmbeddedServer::start(
                    &binary,
                    settings.nodes,
                    &settings.server_args,
                    settings.placement.server.as_ref(),
                )?;
                Ok(Self::new(
                    settings,
                    server.hosts.clone(),
                    Backing::Embedded(server),
                ))
            }
            Kind::Remote => Ok(Self::new(settings.clone(), settings.hosts, Backing::Remote)),
            Kind::Container => Self::start_container(settings, ContainerSpec::from_env()?),
        }
    }

    /// Starts `settings.nodes` containers of `spec`'s image as one cluster (the container
    /// target with an explicit image; `start` reads it from the environment).
    pub fn start_container(settings: Settings, mut spec: ContainerSpec) -> Result<Target, Error> {
        if let Some(name) = &settings.cluster_name {
            spec.cluster_name = name.clone();
        }
        let cluster = ContainerCluster::start(&spec, settings.nodes)?;
        Ok(Self::new(
            settings,
            cluster.hosts.clone(),
            Backing::Container(cluster),
        ))
    }

    fn new(settings: Settings, hosts: Vec<String>, backing: Backing) -> Target {
        Target {
            settings,
            hosts,
            backing,
            announced: AtomicBool::new(false),
        }
    }

    /// What kind of target this is.
    pub fn kind(&self) -> Kind {
        match self.backing {
            Backing::Embedded(_) => Kind::Embedded,
            Backing::Container(_) => Kind::Container,
            Backing::Remote => Kind::Remote,
        }
    }

    /// The embedded server, when this target is one.
    pub fn embedded(&self) -> Option<&EmbeddedServer> {
        match &self.backing {
            Backing::Embedded(server) => Some(server),
            _ => None,
        }
    }

    /// Gives node `node` (in `hosts` order) a fault from now on.
    pub fn fault(&self, node: usize, fault: Fault) -> Result<(), Error> {
        match &self.backing {
            Backing::Embedded(server) => server.fault(node, fault),
            Backing::Container(cluster) => cluster.fault(node, fault),
            Backing::Remote => Err(Error::FaultsUnsupported(Kind::Remote)),
        }
    }

    /// The containers, when this target is a container cluster.
    pub fn container(&self) -> Option<&ContainerCluster> {
        match &self.backing {
            Backing::Container(cluster) => Some(cluster),
            _ => None,
        }
    }

    /// The seed list as the client parses it.
    pub fn seeds(&self) -> String {
        self.hosts.join(",")
    }

    /// A client policy with this target's authentication, services-alternate and cluster
    /// name; callers change pool and timeout knobs on top.
    pub fn client_policy(&self) -> ClientPolicy {
        let mut policy = ClientPolicy::default();
        if let Some((user, password)) = &self.settings.credentials {
            policy.auth_mode = AuthMode::Internal(user.clone(), password.clone());
        }
        policy.use_services_alternate = self.settings.services_alternate;
        policy.cluster_name = self.settings.cluster_name.clone();
        if let Some(cluster) = self.container() {
            // Containers are reached through the ports Docker maps on 127.0.0.1, which the
            // nodes announce as their alternate addresses; there is no security in them.
            policy.use_services_alternate = true;
            policy.cluster_name = Some(cluster.cluster_name.clone());
            policy.auth_mode = AuthMode::None;
        }
        policy
    }

    /// The longest a connect may take: the client's connect timeout plus one second.
    pub fn connect_bound(policy: &ClientPolicy) -> Duration {
        let connect_ms = if policy.connect_timeout > 0 {
            policy.connect_timeout
        } else {
            policy.timeout
        };
        Duration::from_millis(u64::from(connect_ms) + 1000)
    }

    /// Connects the async client, failing within [`Self::connect_bound`] with a one-line
    /// error naming the hosts. The first connect to a remote or container target prints
    /// what the client found (see [`Found`]).
    pub async fn connect(&self, policy: &ClientPolicy) -> Result<Client, Error> {
        let seeds = self.seeds();
        let bound = Self::connect_bound(policy);
        match tokio::time::timeout(bound, Client::new(policy, &seeds)).await {
            Ok(Ok(client)) => {
                if self.kind() != Kind::Embedded && !self.announced.swap(true, Ordering::Relaxed) {
                    self.announce(policy, &seeds).await;
                }
                Ok(client)
            }
            Ok(Err(e)) => Err(self.unreachable(e.to_string())),
            Err(_) => Err(self.unreachable(format!("no cluster formed within {bound:?}"))),
        }
    }

    /// Prints what a client finds, asked through a client of its own: info requests take
    /// pooled connections, and the caller's client must start with an empty pool (the
    /// pool group measures the first connection).
    async fn announce(&self, policy: &ClientPolicy, seeds: &str) {
        let bound = Self::connect_bound(policy);
        if let Ok(Ok(probe)) = tokio::time::timeout(bound, Client::new(policy, &seeds)).await {
            eprintln!("aerobench: {}", self.describe(&probe).await);
            let _ = probe.close().await;
        }
    }

    /// Connects the blocking client with the same bound.
    pub fn connect_blocking(&self, policy: &ClientPolicy) -> Result<aerospike_sync::Client, Error> {
        let (seeds, policy_copy) = (self.seeds(), policy.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(aerospike_sync::Client::new(&policy_copy, &seeds));
        });
        let bound = Self::connect_bound(policy);
        match rx.recv_timeout(bound) {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(self.unreachable(e.to_string())),
            Err(_) => Err(self.unreachable(format!("no cluster formed within {bound:?}"))),
        }
    }

    fn unreachable(&self, why: String) -> Error {
        let fix = match self.kind() {
            Kind::Remote => {
                "check AEROSPIKE_HOSTS (and credentials), or unset it to use the embedded server"
            }
            Kind::Container => {
                "the containers did not answer; see `docker logs` of the containers named above"
            }
            Kind::Embedded => "the embedded server did not answer; see its messages above",
        };
        Error::Unreachable {
            seeds: self.seeds(),
            why,
            fix,
        }
    }

    /// What the client found: every node (name, address), the builds and editions, the
    /// namespaces and cluster name, asked of each node.
    pub async fn describe(&self, client: &Client) -> Found {
        let policy = AdminPolicy::default();
        let mut found = Found {
            target: self.kind(),
            seeds: self.seeds(),
            ..Found::default()
        };
        for node in client.nodes() {
            found
                .nodes
                .push(format!("{}@{}", node.name(), node.address()));
            let info = node
                .info(&policy, &["build", "edition", "namespaces", "cluster-name"])
                .await
                .unwrap_or_default();
            let note = |list: &mut Vec<String>, value: Option<&String>| {
                for v in value.into_iter().flat_map(|v| v.split(';')) {
                    if !v.is_empty() && !list.iter().any(|x| x == v) {
                        list.push(v.to_string());
                    }
                }
            };
            note(&mut found.builds, info.get("build"));
            note(&mut found.editions, info.get("edition"));
            note(&mut found.namespaces, info.get("namespaces"));
            note(&mut found.cluster_names, info.get("cluster-name"));
        }
        found
    }

    /// How the client reaches the nodes (see [`Fingerprint::network`]).
    pub fn network(&self) -> String {
        match &self.backing {
            Backing::Container(cluster) => cluster.network.to_string(),
            Backing::Embedded(_) => "loopback".into(),
            Backing::Remote => "direct".into(),
        }
    }

    /// What this target is, as the client sees it: node count, server build.
    pub async fn fingerprint(&self, client: &Client) -> Fingerprint {
        let info = client
            .info(&AdminPolicy::default(), &["edition", "build"])
            .await
            .unwrap_or_default();
        let edition = info.get("edition").cloned().unwrap_or_default();
        let build = info
            .get("build")
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        Fingerprint {
            target: self.kind().to_string(),
            nodes: client.nodes().len(),
            hosts: self.hosts.clone(),
            network: self.network(),
            server: format!("{}/{build}", edition.replace(' ', "_")),
            client: meta::CLIENT_VERSION.into(),
            commit: meta::commit().into(),
            machine: meta::machine(),
            cpus: self.settings.placement.to_string(),
        }
    }
}

/// What a connected client found, printed by [`Target::connect`] for remote and container
/// targets: `remote target at h:p: 3 node(s) A@h:p, ...; build 7.2.0.6 (Aerospike Community
/// Edition); namespaces test; cluster-name x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub target: Kind,
    pub seeds: String,
    /// `name@address` per node.
    pub nodes: Vec<String>,
    /// Distinct values over the nodes.
    pub builds: Vec<String>,
    pub editions: Vec<String>,
    pub namespaces: Vec<String>,
    pub cluster_names: Vec<String>,
}

impl Default for Found {
    fn default() -> Self {
        Found {
            target: Kind::Remote,
            seeds: String::new(),
            nodes: Vec::new(),
            builds: Vec::new(),
            editions: Vec::new(),
            namespaces: Vec::new(),
            cluster_names: Vec::new(),
        }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[String]| match v.is_empty() {
            true => "unknown".to_string(),
            false => v.join(","),
        };
        write!(
            f,
            "{} target at {}: {} node(s) {}; build {} ({}); namespaces {}",
            self.target,
            self.seeds,
            self.nodes.len(),
            self.nodes.join(", "),
            list(&self.builds),
            list(&self.editions),
            list(&self.namespaces),
        )?;
        if !self.cluster_names.is_empty() {
            write!(f, "; cluster-name {}", self.cluster_names.join(","))?;
        }
        Ok(())
    }
}
