//! One process as one node of a multi-process cluster (other processes or containers):
//! its name, its position, and the peers it announces.

use super::MAX_NODES;
use crate::address::check_host_port;
use crate::error::MembershipError;

/// This process as one node of a cluster whose other nodes run elsewhere (other processes
/// or containers). Every node must be given the same cluster: the same node names (or the
/// same size and cluster name, from which index-derived names follow) and addresses.
/// Partition ownership is computed over all nodes ordered by name, so every process agrees
/// on it without talking to the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// This node's name; default: derived from `index` and the cluster name.
    pub node_id: Option<String>,
    /// This node's position among `size` nodes; unnamed peers are the other positions in order.
    pub index: Option<usize>,
    pub size: Option<usize>,
    /// The other nodes.
    pub peers: Vec<Peer>,
}

/// Another node of a multi-process cluster: `[NAME@]HOST:PORT[/ALT_HOST:ALT_PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub name: Option<String>,
    pub address: String,
    pub alternate: Option<String>,
}

impl std::str::FromStr for Peer {
    type Err = MembershipError;

    fn from_str(spec: &str) -> Result<Peer, MembershipError> {
        let bad = |why: String| MembershipError::Peer {
            spec: spec.to_string(),
            why,
        };
        let (name, rest) = match spec.split_once('@') {
            Some((name, rest)) => (Some(name.to_string()), rest),
            None => (None, spec),
        };
        if let Some(name) = &name {
            check_node_name(name).map_err(|e| bad(e.to_string()))?;
        }
        let (address, alternate) = match rest.split_once('/') {
            Some((a, alt)) => (a, Some(alt)),
            None => (rest, None),
        };
        check_host_port(address).map_err(|e| bad(e.to_string()))?;
        if let Some(alt) = alternate {
            check_host_port(alt).map_err(|e| bad(e.to_string()))?;
        }
        Ok(Peer {
            name,
            address: address.to_string(),
            alternate: alternate.map(str::to_string),
        })
    }
}

fn check_node_name(name: &str) -> Result<(), MembershipError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match ok {
        true => Ok(()),
        false => Err(MembershipError::NodeName(name.to_string())),
    }
}

/// The name of node `index` of a multi-process cluster when no name is given: the same in
/// every process of the cluster, and in node-id style (hex after `BB9`).
pub fn indexed_node_name(cluster_name: &str, index: usize) -> String {
    let hash = cluster_name.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("BB9{hash:08X}{index:02X}")
}

impl Membership {
    /// Checks the membership against the node count and returns every node's name in
    /// cluster order (sorted) together with this node's position in it.
    pub(super) fn names(
        &self,
        cluster_name: &str,
    ) -> Result<(Vec<Option<String>>, String), MembershipError> {
        let own = match (&self.node_id, self.index) {
            (Some(id), _) => id.clone(),
            (None, Some(i)) => indexed_node_name(cluster_name, i),
            (None, None) => {
                return Err(MembershipError::NoPosition);
            }
        };
        check_node_name(&own)?;
        let peer_names: Vec<Option<String>> = match (self.index, self.size) {
            (Some(index), Some(size)) => {
                if index >= size || size > MAX_NODES {
                    return Err(MembershipError::Index { index, size });
                }
                if self.peers.len() + 1 != size {
                    return Err(MembershipError::PeerCount {
                        size,
                        given: self.peers.len(),
                    });
                }
                (0..size)
                    .filter(|&i| i != index)
                    .zip(&self.peers)
                    .map(|(i, p)| {
                        Some(
                            p.name
                                .clone()
                                .unwrap_or_else(|| indexed_node_name(cluster_name, i)),
                        )
                    })
                    .collect()
            }
            (Some(_), None) => return Err(MembershipError::IndexWithoutSize),
            (None, Some(_)) => return Err(MembershipError::SizeWithoutIndex),
            (None, None) => {
                if let Some(p) = self.peers.iter().find(|p| p.name.is_none()) {
                    return Err(MembershipError::UnnamedPeer(p.address.clone()));
                }
                self.peers.iter().map(|p| p.name.clone()).collect()
            }
        };
        if self.peers.len() >= MAX_NODES {
            return Err(MembershipError::TooManyPeers(self.peers.len()));
        }
        let mut all: Vec<&str> = peer_names.iter().flatten().map(String::as_str).collect();
        all.push(&own);
        all.sort_unstable();
        if let Some(w) = all.windows(2).find(|w| w[0] == w[1]) {
            return Err(MembershipError::DuplicateName(w[0].to_string()));
        }
        Ok((peer_names, own))
    }
}
