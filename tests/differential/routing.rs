//! What each node of a cluster announces for routing, reduced to what must hold.

use aerospike_core::Client;
use aerospike_core::policy::AdminPolicy;

use crate::observe::{Probe, Seen};

/// What each node of a cluster announces for routing: its peers, and replica bitmaps
/// that together give every partition exactly one master and one prole on distinct nodes.
pub(crate) async fn observe_cluster(client: Client) -> Vec<(String, Seen)> {
    let mut p = Probe {
        client,
        seen: Vec::new(),
    };
    let nodes = p.client.nodes();
    p.note("nodes", nodes.len());
    p.note("partition_map_complete", p.client.partition_map_complete());
    let mut holders = vec![[0usize; 2]; PARTITIONS];
    let mut master_is_prole = false;
    for (i, node) in nodes.iter().enumerate() {
        let names = ["replicas", "peers-clear-std", "peers-generation"];
        let info = node.info(&AdminPolicy::default(), &names).await.unwrap();
        let peers = info["peers-clear-std"].as_str();
        let peer_fields: Vec<&str> = peers.splitn(3, ',').collect();
        p.note(
            &format!("node[{i}].peers.generation_matches"),
            peer_fields[0] == info["peers-generation"],
        );
        p.note(&format!("node[{i}].peers.entries"), peer_entries(peers));
        let (ns, rest) = info["replicas"].split_once(':').unwrap_or_default();
        let parts: Vec<&str> = rest.split(',').collect();
        p.note(&format!("node[{i}].replicas.head"), (ns, &parts[..2]));
        let owned: Vec<Vec<bool>> = parts[2..].iter().map(|b| bitmap(b)).collect();
        for (partition, count) in holders.iter_mut().enumerate() {
            for (replica, bits) in owned.iter().enumerate().take(2) {
                count[replica] += usize::from(bits[partition]);
            }
            master_is_prole |= owned.len() > 1 && owned[0][partition] && owned[1][partition];
        }
    }
    p.note(
        "every partition has one master and one prole",
        holders.iter().all(|c| *c == [1, 1]),
    );
    p.note("a master is never its own prole", !master_is_prole);
    p.seen
}

pub(crate) const PARTITIONS: usize = 4096;

/// The peers a `peers-clear-std` value lists: `[…]` entries inside its outer list.
pub(crate) fn peer_entries(peers: &str) -> usize {
    let mut depth = 0;
    let mut entries = 0;
    for c in peers.chars() {
        match c {
            '[' => {
                depth += 1;
                entries += usize::from(depth == 2);
            }
            ']' => depth -= 1,
            _ => {}
        }
    }
    entries
}

/// A replica bitmap: partition `p` is bit `7 - p % 8` of byte `p / 8`.
pub(crate) fn bitmap(encoded: &str) -> Vec<bool> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap_or_default();
    (0..PARTITIONS)
        .map(|p| bytes.get(p / 8).is_some_and(|b| b & (0x80 >> (p % 8)) != 0))
        .collect()
}
