//! What to run: the image, how its nodes are networked, and each node's configuration
//! (the official image's `aerospike.conf`, or `aerobench-server`'s environment).

use std::borrow::Cow;
use std::fmt;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};

use testcontainers::Image;
use testcontainers::core::{ContainerPort, CopyToContainer, WaitFor};

use crate::cluster::{Error, SettingError};
use crate::server::SERVICE_READY;

/// The official image, used unless `AEROBENCH_IMAGE` names another.
pub const DEFAULT_IMAGE: &str = "aerospike/aerospike-server";
/// The one place the official image's tag is pinned (`AEROBENCH_IMAGE_TAG` overrides it):
/// the release whose source build `scripts/test` loads as `8.1.2.0-src`.
pub const DEFAULT_TAG: &str = "8.1.2.0";
/// The source build of [`DEFAULT_TAG`] kept in `../shared/images/` (see `scripts/test`).
pub const SOURCE_BUILD_TAG: &str = "8.1.2.0-src";
/// The image `scripts/build-server-image` builds from the embedded server.
pub const LOCAL_IMAGE: &str = "aerobench/server:local";
/// The service port inside every container on a private network.
pub const SERVICE_PORT: u16 = crate::server::DEFAULT_PORT;
/// Cluster name when `AEROSPIKE_CLUSTER_NAME` does not give one.
pub use crate::server::DEFAULT_CLUSTER_NAME;

/// The configuration template (see its header).
const CONF_TEMPLATE: &str = include_str!("../../../fixtures/aerospike.conf");
/// Where the official image's entrypoint looks for a template to render.
const CONF_PATH: &str = "/etc/aerospike/aerospike.template.conf";

/// How the benchmark process reaches the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    /// `--network host`: every node listens on its own loopback ports and the client talks
    /// to it directly, as to a server on this machine.
    Host,
    /// A private Docker network, each node's service port published on 127.0.0.1 through
    /// Docker's port proxy (engines without host networking, such as Docker Desktop). The
    /// proxy costs a copy per message in each direction: its numbers are not a server's.
    Published,
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetworkMode::Host => "host",
            NetworkMode::Published => "published",
        })
    }
}

/// Which image to run, the cluster name to give it and how to network it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// Repository, e.g. `aerospike/aerospike-server`.
    pub image: String,
    pub tag: String,
    pub cluster_name: String,
    /// `None`: host networking where the engine has it (`AEROBENCH_CONTAINER_NETWORK`).
    pub network: Option<NetworkMode>,
}

impl Default for ContainerSpec {
    fn default() -> Self {
        ContainerSpec {
            image: DEFAULT_IMAGE.into(),
            tag: DEFAULT_TAG.into(),
            cluster_name: DEFAULT_CLUSTER_NAME.into(),
            network: None,
        }
    }
}

impl ContainerSpec {
    /// `AEROBENCH_IMAGE`, `AEROBENCH_IMAGE_TAG`, `AEROBENCH_CONTAINER_NETWORK` and
    /// `AEROSPIKE_CLUSTER_NAME`.
    pub fn from_env() -> Result<ContainerSpec, SettingError> {
        Self::parse(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Parses the spec from a variable lookup (the environment, or a map in tests).
    pub fn parse(var: impl Fn(&str) -> Option<String>) -> Result<ContainerSpec, SettingError> {
        let mut spec = ContainerSpec::default();
        if let Some(image) = var("AEROBENCH_IMAGE") {
            let image = image.trim();
            let (name, tag) = split_reference(image);
            if name.is_empty() || name.contains(char::is_whitespace) || tag == Some("") {
                return Err(SettingError::Image(image.into()));
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
                return Err(SettingError::ImageTag(tag.into()));
            }
            spec.tag = tag.to_string();
        }
        if let Some(mode) = var("AEROBENCH_CONTAINER_NETWORK") {
            spec.network = Some(match mode.trim() {
                "host" => NetworkMode::Host,
                "published" => NetworkMode::Published,
                other => return Err(SettingError::ContainerNetwork(other.into())),
            });
        }
        if let Some(name) = var("AEROSPIKE_CLUSTER_NAME") {
            spec.cluster_name = name;
        }
        Ok(spec)
    }

    /// How the nodes will be networked: as asked, else host networking where the engine
    /// has it.
    pub fn network_mode(&self) -> Result<NetworkMode, Error> {
        Ok(match self.network {
            Some(mode) => mode,
            None if super::host_network_available()? => NetworkMode::Host,
            None => NetworkMode::Published,
        })
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

/// The loopback ports of one node on the host network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostPorts {
    pub service: u16,
    pub fabric: u16,
    pub heartbeat: u16,
}

/// Names and ports of one cluster, fixed before anything starts so every node can announce
/// every address from the beginning.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The containers' name prefix, the [`super::LABEL_RUN`] value, and on a private
    /// network the network's name.
    pub run: String,
    pub mode: NetworkMode,
    /// Per node: its loopback ports. With [`NetworkMode::Published`] only `service` is
    /// used, as the host port mapped to the container's [`SERVICE_PORT`].
    pub ports: Vec<HostPorts>,
}

impl Plan {
    pub fn new(nodes: usize, mode: NetworkMode) -> Result<Plan, Error> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let free = free_ports(3 * nodes)?;
        Ok(Plan {
            run: format!("aerobench-{}-{seq}", std::process::id()),
            mode,
            ports: free
                .chunks(3)
                .map(|p| HostPorts {
                    service: p[0],
                    fabric: p[1],
                    heartbeat: p[2],
                })
                .collect(),
        })
    }

    pub fn nodes(&self) -> usize {
        self.ports.len()
    }

    pub fn container(&self, index: usize) -> String {
        format!("{}-n{index}", self.run)
    }

    /// The address the benchmark process reaches node `index` at.
    pub fn address(&self, index: usize) -> String {
        format!("127.0.0.1:{}", self.ports[index].service)
    }

    /// What a node's service port is inside its container.
    fn inner_service_port(&self, index: usize) -> u16 {
        match self.mode {
            NetworkMode::Host => self.ports[index].service,
            NetworkMode::Published => SERVICE_PORT,
        }
    }

    /// Where node `index` is reached from the other nodes.
    fn peer_address(&self, index: usize) -> String {
        match self.mode {
            NetworkMode::Host => self.address(index),
            NetworkMode::Published => format!("{}:{SERVICE_PORT}", self.container(index)),
        }
    }

    /// The node's ports for error messages.
    pub fn describe_ports(&self, index: usize) -> String {
        let p = self.ports[index];
        match self.mode {
            NetworkMode::Host => format!(
                "loopback ports service {} fabric {} heartbeat {}",
                p.service, p.fabric, p.heartbeat
            ),
            NetworkMode::Published => format!("service published on 127.0.0.1:{}", p.service),
        }
    }
}

/// `count` distinct free loopback ports (bound together, then released for the nodes).
fn free_ports(count: usize) -> Result<Vec<u16>, Error> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(Error::FreePort)?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()
        .map_err(Error::FreePort)
}

/// Fails with a one-line message naming the port when one of node `index`'s ports is
/// taken (on the host network a server that cannot bind would only say so in its log).
pub fn check_ports_free(plan: &Plan, index: usize) -> Result<(), Error> {
    let p = plan.ports[index];
    let ports = match plan.mode {
        NetworkMode::Host => vec![p.service, p.fabric, p.heartbeat],
        NetworkMode::Published => vec![p.service],
    };
    for port in ports {
        if let Err(source) = TcpListener::bind(("127.0.0.1", port)) {
            return Err(Error::PortTaken {
                port,
                container: plan.container(index),
                source,
            });
        }
    }
    Ok(())
}

/// The image definition: an Aerospike server node (the official image or one that behaves
/// like it), with this node's configuration for both kinds.
#[derive(Debug, Clone)]
pub struct AerospikeImage {
    name: String,
    tag: String,
    env: Vec<(String, String)>,
    copies: Vec<CopyToContainer>,
    exposed: Vec<ContainerPort>,
}

impl AerospikeImage {
    /// The image of `spec` configured as node `index` of `plan`.
    pub fn node(spec: &ContainerSpec, plan: &Plan, index: usize) -> AerospikeImage {
        let conf = render_conf(&spec.cluster_name, plan, index);
        AerospikeImage {
            name: spec.image.clone(),
            tag: spec.tag.clone(),
            env: server_env(spec, plan, index),
            copies: vec![CopyToContainer::new(conf.into_bytes(), CONF_PATH)],
            exposed: match plan.mode {
                NetworkMode::Host => Vec::new(),
                NetworkMode::Published => vec![ContainerPort::Tcp(SERVICE_PORT)],
            },
        }
    }
}

/// `aerobench-server`'s configuration (the official image ignores it), equivalent to what
/// [`render_conf`] gives asd.
fn server_env(spec: &ContainerSpec, plan: &Plan, index: usize) -> Vec<(String, String)> {
    let bind = match plan.mode {
        NetworkMode::Host => "127.0.0.1",
        NetworkMode::Published => "0.0.0.0",
    };
    let advertise = match plan.mode {
        NetworkMode::Host => "127.0.0.1".to_string(),
        NetworkMode::Published => plan.container(index),
    };
    let mut env = vec![
        // The official entrypoint would otherwise report the start to Aerospike.
        ("AEROSPIKE_TELEMETRY".to_string(), "FALSE".to_string()),
        ("AEROBENCH_BIND".into(), bind.into()),
        (
            "AEROBENCH_PORT".into(),
            plan.inner_service_port(index).to_string(),
        ),
        ("AEROBENCH_NODE_INDEX".into(), index.to_string()),
        ("AEROBENCH_CLUSTER_SIZE".into(), plan.nodes().to_string()),
        ("AEROBENCH_ALTERNATE".into(), plan.address(index)),
        ("AEROBENCH_ADVERTISE".into(), advertise),
        ("AEROBENCH_CLUSTER_NAME".into(), spec.cluster_name.clone()),
    ];
    let peers: Vec<String> = (0..plan.nodes())
        .filter(|&i| i != index)
        .map(|i| format!("{}/{}", plan.peer_address(i), plan.address(i)))
        .collect();
    if !peers.is_empty() {
        env.push(("AEROBENCH_PEERS".into(), peers.join(",")));
    }
    env
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
        &self.exposed
    }
}

/// `fixtures/aerospike.conf` for node `index`: every node seeds the mesh through node 0,
/// which is started first. On the host network every socket is on 127.0.0.1 and the node
/// announces its own loopback service port; on a private network the node listens on its
/// container's ports and announces the published one as its alternate address.
pub fn render_conf(cluster_name: &str, plan: &Plan, index: usize) -> String {
    let (address, ports, seed) = match plan.mode {
        NetworkMode::Host => {
            let seed = format!("127.0.0.1 {}", plan.ports[0].heartbeat);
            ("127.0.0.1", plan.ports[index], seed)
        }
        NetworkMode::Published => {
            let inner = HostPorts {
                service: SERVICE_PORT,
                fabric: SERVICE_PORT + 1,
                heartbeat: SERVICE_PORT + 2,
            };
            (
                "any",
                inner,
                format!("{} {}", plan.container(0), inner.heartbeat),
            )
        }
    };
    let access = match plan.mode {
        NetworkMode::Host => "        access-address 127.0.0.1",
        NetworkMode::Published => "",
    };
    CONF_TEMPLATE
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(|line| {
            line.replace("@ACCESS@", access)
                .replace("@CLUSTER_NAME@", cluster_name)
                .replace("@ADDRESS@", address)
                .replace("@PORT@", &ports.service.to_string())
                .replace("@FABRIC_PORT@", &ports.fabric.to_string())
                .replace("@HEARTBEAT_PORT@", &ports.heartbeat.to_string())
                .replace("@ALTERNATE_PORT@", &plan.ports[index].service.to_string())
                .replace("@MESH_SEED@", &seed)
        })
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn spec(vars: &[(&str, &str)]) -> Result<ContainerSpec, String> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        ContainerSpec::parse(|k| map.get(k).map(|v| v.to_string())).map_err(|e| e.to_string())
    }

    #[test]
    fn image_defaults_to_the_pinned_official_tag() {
        let s = spec(&[]).unwrap();
        assert_eq!(s.reference(), format!("{DEFAULT_IMAGE}:{DEFAULT_TAG}"));
        assert_eq!(s.network, None);
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
        let s = spec(&[("AEROBENCH_CONTAINER_NETWORK", "published")]).unwrap();
        assert_eq!(s.network, Some(NetworkMode::Published));
        for bad in [
            ("AEROBENCH_IMAGE", "x:"),
            ("AEROBENCH_IMAGE_TAG", "a:b"),
            ("AEROBENCH_CONTAINER_NETWORK", "bridge"),
        ] {
            let e = spec(&[bad]).unwrap_err();
            assert!(e.contains(bad.0) && !e.contains('\n'), "{e}");
        }
    }

    fn plan(mode: NetworkMode) -> Plan {
        let ports = |base| HostPorts {
            service: base,
            fabric: base + 1,
            heartbeat: base + 2,
        };
        Plan {
            run: "run".into(),
            mode,
            ports: vec![ports(32000), ports(32010)],
        }
    }

    #[test]
    fn host_network_conf_uses_the_nodes_own_loopback_ports() {
        let conf = render_conf("bench", &plan(NetworkMode::Host), 1);
        for line in [
            "cluster-name bench",
            "address 127.0.0.1",
            "port 32010",
            "access-address 127.0.0.1",
            "alternate-access-address 127.0.0.1",
            "alternate-access-port 32010",
            "port 32011",
            "port 32012",
            "mesh-seed-address-port 127.0.0.1 32002",
        ] {
            assert!(conf.lines().any(|l| l.trim() == line), "{line}: {conf}");
        }
        assert!(!conf.contains("address any"));
        assert!(!conf.contains('@') && !conf.contains('#') && !conf.contains('$'));
    }

    #[test]
    fn published_conf_listens_in_the_container_and_announces_the_host_port() {
        let conf = render_conf("bench", &plan(NetworkMode::Published), 1);
        for line in [
            "address any",
            "port 3000",
            "alternate-access-port 32010",
            "mesh-seed-address-port run-n0 3002",
        ] {
            assert!(conf.lines().any(|l| l.trim() == line), "{line}: {conf}");
        }
        assert!(!conf.lines().any(|l| l.trim() == "access-address 127.0.0.1"));
        assert!(!conf.contains('@'));
    }

    #[test]
    fn embedded_server_env_matches_the_plan() {
        let s = ContainerSpec::default();
        let env: HashMap<String, String> = server_env(&s, &plan(NetworkMode::Host), 0)
            .into_iter()
            .collect();
        assert_eq!(env["AEROBENCH_BIND"], "127.0.0.1");
        assert_eq!(env["AEROBENCH_PORT"], "32000");
        assert_eq!(env["AEROBENCH_PEERS"], "127.0.0.1:32010/127.0.0.1:32010");
        let env: HashMap<String, String> = server_env(&s, &plan(NetworkMode::Published), 0)
            .into_iter()
            .collect();
        assert_eq!(env["AEROBENCH_PORT"], "3000");
        assert_eq!(env["AEROBENCH_PEERS"], "run-n1:3000/127.0.0.1:32010");
    }
}
