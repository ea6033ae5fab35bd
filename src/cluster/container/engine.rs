//! The Docker engine, through bollard (the client testcontainers itself uses): checks with
//! one-line fixes, labelled listing, the private network, removal of what ended runs left.
//!
//! Callers are synchronous (settings checks, `atexit`, tests) and may sit inside a Tokio
//! runtime, so every call runs on a short-lived thread with its own runtime, bounded by
//! [`DOCKER_TIMEOUT`].

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use testcontainers::bollard::Docker;
use testcontainers::bollard::errors::Error as DockerError;
use testcontainers::bollard::models::{
    NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest,
};
use testcontainers::bollard::query_parameters::{
    KillContainerOptions, ListContainersOptions, ListNetworksOptions, RemoveContainerOptions,
};

use super::{LABEL_HOST, LABEL_OWNER, LABEL_PID, Plan};
use crate::cluster::Error;
use crate::meta::host_name;

/// Timeout of one Docker API call.
const DOCKER_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `call` against the engine named by `DOCKER_HOST` (default: the local socket).
fn with_engine<T, F>(call: impl FnOnce(Docker) -> F + Send) -> Result<T, Error>
where
    T: Send,
    F: Future<Output = Result<T, Error>>,
{
    let engine = Docker::connect_with_defaults()
        .map_err(|e| no_engine(&e))?
        .with_timeout(DOCKER_TIMEOUT);
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(Error::Runtime)?
                    .block_on(call(engine))
            })
            .join()
            .unwrap_or(Err(Error::DockerPanicked))
    })
}

/// No engine answers at the address `DOCKER_HOST` names (or the local socket).
fn no_engine(error: &DockerError) -> Error {
    Error::NoEngine {
        engine: engine_name(),
        detail: error.to_string(),
    }
}

/// An engine call that failed, with what was being done.
fn failed(action: impl Into<String>) -> impl FnOnce(DockerError) -> Error {
    let action = action.into();
    move |source| Error::Docker { action, source }
}

/// The engine's address, for messages.
fn engine_name() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// The status code of an error the engine answered with, if it answered.
fn status(error: &DockerError) -> Option<u16> {
    match error {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// Fails with a one-line message saying how to fix it when no Docker engine answers.
pub fn check_docker() -> Result<(), Error> {
    with_engine(|docker| async move { docker.ping().await.map(drop).map_err(|e| no_engine(&e)) })
}

/// Fails with a one-line message saying how to fix it when `image` (`name:tag`) is not in
/// the local image store. Nothing is pulled here.
pub fn check_image(image: &str) -> Result<(), Error> {
    with_engine(|docker| async move {
        match docker.inspect_image(image).await {
            Ok(_) => Ok(()),
            Err(e) if status(&e) == Some(404) => Err(Error::ImageMissing(image.into())),
            Err(e) => Err(failed(format!(
                "container target: cannot inspect image {image}"
            ))(e)),
        }
    })
}

/// Whether containers can share the host's network namespace: Linux engines can; Docker
/// Desktop runs them in a VM where "host" is the VM's.
pub fn host_network_available() -> Result<bool, Error> {
    with_engine(|docker| async move {
        let info = docker
            .info()
            .await
            .map_err(failed("container target: Docker info failed"))?;
        let linux = info.os_type.as_deref().unwrap_or("linux") == "linux";
        let desktop = info
            .operating_system
            .as_deref()
            .is_some_and(|os| os.contains("Docker Desktop"));
        Ok(linux && !desktop)
    })
}

/// Creates the labelled private network of a published-ports cluster; returns its id.
pub fn create_network(plan: &Plan) -> Result<String, Error> {
    let request = NetworkCreateRequest {
        name: plan.run.clone(),
        labels: Some(plan.labels().into_iter().collect()),
        ..Default::default()
    };
    with_engine(|docker| async move {
        docker
            .create_network(request)
            .await
            .map(|created| created.id)
            .map_err(failed(format!("cannot create Docker network {}", plan.run)))
    })
}

pub fn remove_network(id: &str) {
    let _ =
        with_engine(
            |docker| async move { docker.remove_network(id).await.map_err(failed("remove")) },
        );
}

pub fn remove_container(id: &str) {
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    let _ = with_engine(|docker| async move {
        docker
            .remove_container(id, Some(options))
            .await
            .map_err(failed("remove"))
    });
}

/// Something done to a running node's container: what a fault is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// SIGKILL: asd dies at once, as on a power loss.
    Kill,
    /// Start a killed container again (its entrypoint renders the same configuration).
    Start,
    /// Freeze every process (the cgroup freezer): sockets stay open, nothing answers.
    Pause,
    Unpause,
    /// Take it off this network: its address there goes, and every packet to it with it.
    Disconnect(String),
    /// Put it back on this network.
    Connect(String),
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Kill => f.write_str("kill"),
            Action::Start => f.write_str("start"),
            Action::Pause => f.write_str("pause"),
            Action::Unpause => f.write_str("unpause"),
            Action::Disconnect(network) => write!(f, "network disconnect {network}"),
            Action::Connect(network) => write!(f, "network connect {network}"),
        }
    }
}

/// Does `action` to `container` (a name or id).
pub fn act(container: &str, action: &Action) -> Result<(), Error> {
    let what = format!("docker {action} {container}");
    with_engine(|docker| async move {
        let done = match action {
            Action::Kill => {
                let options = KillContainerOptions {
                    signal: "KILL".into(),
                };
                docker.kill_container(container, Some(options)).await
            }
            Action::Start => docker.start_container(container, None).await,
            Action::Pause => docker.pause_container(container).await,
            Action::Unpause => docker.unpause_container(container).await,
            Action::Disconnect(network) => {
                let request = NetworkDisconnectRequest {
                    container: container.into(),
                    force: Some(true),
                };
                docker.disconnect_network(network, request).await
            }
            Action::Connect(network) => {
                let request = NetworkConnectRequest {
                    container: container.into(),
                    ..Default::default()
                };
                docker.connect_network(network, request).await
            }
        };
        done.map_err(failed(what))
    })
}

/// What the engine says of a container's process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub paused: bool,
    /// Its main process's pid on this host, while it runs.
    pub pid: Option<u32>,
    /// The networks it is on, by name.
    pub networks: Vec<String>,
}

pub fn state(container: &str) -> Result<State, Error> {
    with_engine(|docker| async move {
        let inspected = docker
            .inspect_container(container, None)
            .await
            .map_err(failed(format!("cannot inspect container {container}")))?;
        let networks = inspected
            .network_settings
            .and_then(|n| n.networks)
            .map(|n| n.into_keys().collect())
            .unwrap_or_default();
        let state = inspected.state.unwrap_or_default();
        Ok(State {
            networks,
            paused: state.paused.unwrap_or(false),
            pid: state
                .pid
                .filter(|_| state.running == Some(true))
                .and_then(|pid| u32::try_from(pid).ok())
                .filter(|&pid| pid > 0),
        })
    })
}

/// Which kind of Docker object to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objects {
    Containers,
    Networks,
}

/// A container or network as the Docker API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerObject {
    pub id: String,
    pub name: String,
    pub labels: HashMap<String, String>,
}

/// Containers or networks with label `label` (`key` or `key=value`), stopped ones too.
pub fn labelled(kind: Objects, label: &str) -> Result<Vec<DockerObject>, Error> {
    let filters = Some(HashMap::from([(
        "label".to_string(),
        vec![label.to_string()],
    )]));
    with_engine(|docker| async move {
        let listed = match kind {
            Objects::Containers => docker
                .list_containers(Some(ListContainersOptions {
                    all: true,
                    filters,
                    ..Default::default()
                }))
                .await
                .map(|list| {
                    list.into_iter()
                        .map(|c| DockerObject {
                            id: c.id.unwrap_or_default(),
                            name: c
                                .names
                                .and_then(|n| n.into_iter().next())
                                .unwrap_or_default()
                                .trim_start_matches('/')
                                .to_string(),
                            labels: c.labels.unwrap_or_default(),
                        })
                        .collect()
                }),
            Objects::Networks => docker
                .list_networks(Some(ListNetworksOptions { filters }))
                .await
                .map(|list| {
                    list.into_iter()
                        .map(|n| DockerObject {
                            id: n.id.unwrap_or_default(),
                            name: n.name.unwrap_or_default(),
                            labels: n.labels.unwrap_or_default(),
                        })
                        .collect()
                }),
        };
        listed.map_err(failed(format!("cannot list {kind:?}")))
    })
}

/// Removes the containers and networks left by runs whose process has ended on this host
/// (killed, or exited without clean-up); returns how many it removed.
pub fn clean_stale() -> Result<usize, Error> {
    let host = host_name();
    let stale = |labels: &HashMap<String, String>| {
        labels.get(LABEL_HOST) == Some(&host)
            && labels
                .get(LABEL_PID)
                .and_then(|p| p.parse::<i32>().ok())
                .is_some_and(|pid| pid != std::process::id() as i32 && !process_alive(pid))
    };
    let mut removed = 0;
    // Containers first: a network with containers attached cannot be removed.
    for (kind, remove) in [
        (Objects::Containers, remove_container as fn(&str)),
        (Objects::Networks, remove_network),
    ] {
        for object in labelled(kind, LABEL_OWNER)? {
            if stale(&object.labels) {
                remove(&object.id);
                removed += 1;
            }
        }
    }
    Ok(removed)
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
