//! Faults for a cluster of real servers, carried out from outside: asd cannot be told to
//! misbehave, so each fault is something done to a node's container or its sockets.
//!
//! | fault | done by |
//! |---|---|
//! | `kill` | `docker kill` (SIGKILL, as on a power loss); the survivors see the heartbeats stop |
//! | `restart` | `docker start`: asd comes back empty (the namespace is in memory) and the replicas migrate back to it |
//! | `hang` | `docker pause` (the cgroup freezer): connections stay open, nothing answers, heartbeats stop |
//! | `partition` | private network only: `docker network disconnect`: no client or peer reaches the node, the cluster splits |
//! | `heal` | `docker unpause` when paused, `docker network connect` when cut off |
//! | `drop` | `ss -K` in the node's network namespace: every connection to its service port is reset once |
//!
//! `slow` and `errors` have no outside equivalent, a real node's port is in its
//! configuration (`move`), and on the host network there is no network to cut
//! (`partition`): they are refused before the run starts.

use std::process::Command;

use super::engine::{self, Action};
use super::spec::{NetworkMode, SERVICE_PORT};
use crate::cluster::Error;
use crate::server::fault::Fault;

const REFUSED: &str = "a real server cannot be made slow or made to fail requests from \
                       outside: use the embedded target for slow and errors (unset \
                       AEROBENCH_TARGET)";
const UNMOVABLE: &str = "a real node's service port is in its configuration: use the \
                         embedded target for move (unset AEROBENCH_TARGET)";
const NO_NETWORK: &str = "on the host network there is no network to cut a node off: set \
                          AEROBENCH_CONTAINER_NETWORK=published for partition";

/// Why `fault` cannot be carried out on containers networked by `mode`, if it cannot.
pub fn refusal(fault: Fault, mode: NetworkMode) -> Option<&'static str> {
    match (fault, mode) {
        (Fault::Slow(_) | Fault::Errors { .. }, _) => Some(REFUSED),
        (Fault::Move, _) => Some(UNMOVABLE),
        (Fault::Partition, NetworkMode::Host) => Some(NO_NETWORK),
        _ => None,
    }
}

/// A node as a fault reaches it.
pub struct NodeRef<'a> {
    pub container: &'a str,
    /// `127.0.0.1:<port>`, where the client reaches it.
    pub host: &'a str,
    /// The private network's name, when the cluster has one.
    pub network: Option<&'a str>,
}

/// Gives `node` `fault`.
pub fn give(node: &NodeRef, fault: Fault) -> Result<(), Error> {
    let act = |action| engine::act(node.container, &action);
    match (fault, node.network) {
        (Fault::Kill, _) => act(Action::Kill),
        (Fault::Restart, _) => act(Action::Start),
        (Fault::Hang, _) => act(Action::Pause),
        (Fault::Partition, Some(network)) => act(Action::Disconnect(network.into())),
        (Fault::Heal, network) => heal(node.container, network),
        (Fault::Drop, _) => cut_connections(node),
        (Fault::Slow(_) | Fault::Errors { .. } | Fault::Move | Fault::Partition, _) => {
            let mode = match node.network {
                Some(_) => NetworkMode::Published,
                None => NetworkMode::Host,
            };
            Err(Error::ContainerFault(
                refusal(fault, mode).unwrap_or(REFUSED),
            ))
        }
    }
}

/// Undoes a hang (unpause) and a partition (connect) if the node has either.
fn heal(container: &str, network: Option<&str>) -> Result<(), Error> {
    let state = engine::state(container)?;
    if state.paused {
        engine::act(container, &Action::Unpause)?;
    }
    match network {
        Some(network) if !state.networks.iter().any(|n| n == network) => {
            engine::act(container, &Action::Connect(network.into()))
        }
        _ => Ok(()),
    }
}

/// Resets every established connection to the node's service port from inside its network
/// namespace (`ss -K`, the kernel's SOCK_DESTROY): asd's side of each closes and the
/// client gets a reset, as when a server drops its clients. On the host network that
/// namespace is this process's own; on a private network it is entered through the
/// container's pid.
fn cut_connections(node: &NodeRef) -> Result<(), Error> {
    let (mut command, port) = match node.network {
        None => {
            let port = node.host.rsplit(':').next().unwrap_or_default();
            (Command::new("ss"), port.to_string())
        }
        Some(_) => {
            let pid = engine::state(node.container)?.pid.ok_or_else(|| {
                Error::CutConnections(format!("{} is not running", node.container))
            })?;
            let mut command = Command::new("nsenter");
            command.args(["-t", &pid.to_string(), "-n", "ss"]);
            (command, SERVICE_PORT.to_string())
        }
    };
    let sport = format!("sport = :{port}");
    let out = command
        .args(["-K", "-t", "state", "established", &sport])
        .output()
        .map_err(|e| Error::CutConnections(e.to_string()))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(Error::CutConnections(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn what_cannot_be_done_from_outside_is_refused_before_the_run() {
        for mode in [NetworkMode::Host, NetworkMode::Published] {
            for fault in [
                Fault::Kill,
                Fault::Restart,
                Fault::Hang,
                Fault::Heal,
                Fault::Drop,
            ] {
                assert_eq!(refusal(fault, mode), None, "{fault:?}");
            }
            let slow = Fault::Slow(Duration::from_millis(5));
            let errors = Fault::Errors {
                code: 18,
                percent: 50,
            };
            for fault in [slow, errors, Fault::Move] {
                assert!(refusal(fault, mode).unwrap().contains("embedded target"));
            }
        }
        assert_eq!(refusal(Fault::Partition, NetworkMode::Published), None);
        assert!(
            refusal(Fault::Partition, NetworkMode::Host)
                .unwrap()
                .contains("AEROBENCH_CONTAINER_NETWORK=published")
        );
    }
}
