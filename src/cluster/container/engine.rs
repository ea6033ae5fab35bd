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
use testcontainers::bollard::models::NetworkCreateRequest;
use testcontainers::bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, RemoveContainerOptions,
};

use super::spec::{LOCAL_IMAGE, SOURCE_BUILD_TAG};
use super::{LABEL_HOST, LABEL_OWNER, LABEL_PID, Plan};
use crate::meta::host_name;

/// Timeout of one Docker API call.
const DOCKER_TIMEOUT: Duration = Duration::from_secs(30);

/// What to fix when no engine answers.
const NO_ENGINE_FIX: &str =
    "start Docker (or set DOCKER_HOST), or use the embedded target (unset AEROBENCH_TARGET)";

/// Runs `call` against the engine named by `DOCKER_HOST` (default: the local socket).
fn with_engine<T, F>(call: impl FnOnce(Docker) -> F + Send) -> Result<T, String>
where
    T: Send,
    F: Future<Output = Result<T, String>>,
{
    let engine = Docker::connect_with_defaults()
        .map_err(|e| {
            format!(
                "container target: Docker is not available at {} ({e}): {NO_ENGINE_FIX}",
                engine_name()
            )
        })?
        .with_timeout(DOCKER_TIMEOUT);
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start a Tokio runtime: {e}"))?
                    .block_on(call(engine))
            })
            .join()
            .unwrap_or_else(|_| Err("a Docker API call panicked".into()))
    })
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
pub fn check_docker() -> Result<(), String> {
    with_engine(|docker| async move {
        docker.ping().await.map(drop).map_err(|e| {
            let e = super::one_line(&e.to_string());
            format!(
                "container target: Docker is not available at {} ({e}): {NO_ENGINE_FIX}",
                engine_name()
            )
        })
    })
}

/// Fails with a one-line message saying how to fix it when `image` (`name:tag`) is not in
/// the local image store. Nothing is pulled here.
pub fn check_image(image: &str) -> Result<(), String> {
    with_engine(|docker| async move {
        match docker.inspect_image(image).await {
            Ok(_) => Ok(()),
            Err(e) if status(&e) == Some(404) => Err(format!(
                "container target: image {image} is not in the local Docker image store: \
                 `docker pull {image}` where a registry is reachable, or `docker load -i \
                 ../shared/images/aerospike-server-8.1.2.0-src.tar.gz` and \
                 AEROBENCH_IMAGE_TAG={SOURCE_BUILD_TAG} (scripts/test does it), or \
                 scripts/build-server-image and AEROBENCH_IMAGE={LOCAL_IMAGE}, or the \
                 embedded target (unset AEROBENCH_TARGET)"
            )),
            Err(e) => Err(format!(
                "container target: cannot inspect image {image}: {}",
                super::one_line(&e.to_string())
            )),
        }
    })
}

/// Whether containers can share the host's network namespace: Linux engines can; Docker
/// Desktop runs them in a VM where "host" is the VM's.
pub fn host_network_available() -> Result<bool, String> {
    with_engine(|docker| async move {
        let info = docker
            .info()
            .await
            .map_err(|e| format!("container target: Docker info failed: {e}"))?;
        let linux = info.os_type.as_deref().unwrap_or("linux") == "linux";
        let desktop = info
            .operating_system
            .as_deref()
            .is_some_and(|os| os.contains("Docker Desktop"));
        Ok(linux && !desktop)
    })
}

/// Creates the labelled private network of a published-ports cluster; returns its id.
pub fn create_network(plan: &Plan) -> Result<String, String> {
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
            .map_err(|e| format!("cannot create Docker network {}: {e}", plan.run))
    })
}

pub fn remove_network(id: &str) {
    let _ =
        with_engine(
            |docker| async move { docker.remove_network(id).await.map_err(|e| e.to_string()) },
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
            .map_err(|e| e.to_string())
    });
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
pub fn labelled(kind: Objects, label: &str) -> Result<Vec<DockerObject>, String> {
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
        listed.map_err(|e| format!("cannot list {kind:?}: {e}"))
    })
}

/// Removes the containers and networks left by runs whose process has ended on this host
/// (killed, or exited without clean-up); returns how many it removed.
pub fn clean_stale() -> Result<usize, String> {
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
