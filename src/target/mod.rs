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

pub mod embedded;
mod settings;

use std::time::Duration;

use aerospike_core::{AuthMode, Client, ClientPolicy, policy::AdminPolicy};

pub use embedded::EmbeddedServer;
pub use settings::{Kind, Settings};

use crate::meta::{self, Fingerprint};

/// A cluster to benchmark, with whatever keeps it alive (an embedded server child).
pub struct Target {
    pub settings: Settings,
    pub hosts: Vec<String>,
    pub embedded: Option<EmbeddedServer>,
}

impl Target {
    /// Reads the environment and starts or locates the cluster.
    pub fn from_env() -> Result<Target, String> {
        Self::start(Settings::from_env()?)
    }

    pub fn start(settings: Settings) -> Result<Target, String> {
        match settings.kind {
            Kind::Embedded => {
                let binary = embedded::locate_binary()?;
                let server = EmbeddedServer::start(&binary, settings.nodes, &settings.server_args)?;
                Ok(Target {
                    hosts: server.hosts.clone(),
                    embedded: Some(server),
                    settings,
                })
            }
            Kind::Remote => Ok(Target {
                hosts: settings.hosts.clone(),
                embedded: None,
                settings,
            }),
            Kind::Container => Err(
                "AEROBENCH_TARGET=container: the container target is not built yet; \
                 use the embedded default or AEROSPIKE_HOSTS"
                    .into(),
            ),
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
    /// error naming the hosts.
    pub async fn connect(&self, policy: &ClientPolicy) -> Result<Client, String> {
        let seeds = self.seeds();
        let bound = Self::connect_bound(policy);
        match tokio::time::timeout(bound, Client::new(policy, &seeds)).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(self.unreachable(&e.to_string())),
            Err(_) => Err(self.unreachable(&format!("no cluster formed within {bound:?}"))),
        }
    }

    /// Connects the blocking client with the same bound.
    pub fn connect_blocking(
        &self,
        policy: &ClientPolicy,
    ) -> Result<aerospike_sync::Client, String> {
        let (seeds, policy_copy) = (self.seeds(), policy.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(aerospike_sync::Client::new(&policy_copy, &seeds));
        });
        let bound = Self::connect_bound(policy);
        match rx.recv_timeout(bound) {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(self.unreachable(&e.to_string())),
            Err(_) => Err(self.unreachable(&format!("no cluster formed within {bound:?}"))),
        }
    }

    fn unreachable(&self, why: &str) -> String {
        let fix = match self.settings.kind {
            Kind::Remote => {
                "check AEROSPIKE_HOSTS (and credentials), or unset it to use the embedded server"
            }
            _ => "the embedded server did not answer; see its messages above",
        };
        format!(
            "cannot connect to Aerospike at {}: {why}; {fix}",
            self.seeds()
        )
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
            target: self.settings.kind.to_string(),
            nodes: client.nodes().len(),
            hosts: self.hosts.clone(),
            server: format!("{}/{build}", edition.replace(' ', "_")),
            client: meta::CLIENT_VERSION.into(),
            commit: meta::COMMIT.into(),
            machine: meta::machine(),
        }
    }
}
