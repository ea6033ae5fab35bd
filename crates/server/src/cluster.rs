//! The cluster as clients see it: node names and addresses, which node owns which of the
//! 4096 partitions, and the generations that tell clients when to re-read either.
//!
//! Ownership follows the client's own digest → partition mapping: replica `r` of partition
//! `p` is live node `(p + r) % live_count`. Every node announces the same function through
//! `replicas`, so the masters cover each partition exactly once. Stopping a node bumps the
//! generations and hands its partitions to the survivors, as a real cluster rebalances;
//! restarting it hands them back.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;

/// Partitions per namespace; fixed by the protocol.
pub const PARTITIONS: usize = 4096;

/// One node's identity.
#[derive(Debug, Clone)]
pub struct NodeIdentity {
    /// The name clients use as the node's identity (`node` info).
    pub name: String,
    /// `host:port` clients reach it at (`service-clear-std`, peers lists).
    pub address: String,
    /// `host:port` announced through the `-alt` names (services-alternate).
    pub alternate: String,
}

/// Shared, mostly immutable cluster description plus the live set.
pub struct Cluster {
    pub nodes: Vec<NodeIdentity>,
    pub namespaces: Vec<String>,
    pub cluster_name: String,
    pub build: String,
    replication: usize,
    /// Indices of the running nodes, ascending: the order ownership is computed over.
    live: RwLock<Vec<usize>>,
    /// Where each node is reached now, `(address, alternate)`: its identity's, until it
    /// moves to another port ([`Self::relocate`]).
    reached: RwLock<Vec<(String, String)>>,
    generation: AtomicU64,
}

impl Cluster {
    pub fn new(
        nodes: Vec<NodeIdentity>,
        namespaces: Vec<String>,
        cluster_name: String,
        build: String,
        replication: usize,
    ) -> Self {
        let count = nodes.len();
        let reached = nodes
            .iter()
            .map(|n| (n.address.clone(), n.alternate.clone()))
            .collect();
        Cluster {
            reached: RwLock::new(reached),
            nodes,
            namespaces,
            cluster_name,
            build,
            replication: replication.clamp(1, count.max(1)),
            live: RwLock::new((0..count).collect()),
            generation: AtomicU64::new(1),
        }
    }

    /// The peers and partition generation; one counter, bumped on every topology change.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn live_nodes(&self) -> std::sync::RwLockReadGuard<'_, Vec<usize>> {
        self.live.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks `node` dead; its partitions move to the survivors. Returns false if it was
    /// already stopped or is the last live node.
    pub fn stop(&self, node: usize) -> bool {
        let mut live = self.live.write().unwrap_or_else(|p| p.into_inner());
        if live.len() == 1 || !live.contains(&node) {
            return false;
        }
        live.retain(|&i| i != node);
        self.generation.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Marks a stopped `node` live again; partitions are dealt over the live nodes anew.
    /// Returns false if it was running.
    pub fn start(&self, node: usize) -> bool {
        let mut live = self.live.write().unwrap_or_else(|p| p.into_inner());
        let Err(at) = live.binary_search(&node) else {
            return false;
        };
        live.insert(at, node);
        self.generation.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Where clients reach `node` now (`service-clear-std`, or `-alt`).
    pub fn address(&self, node: usize, alternate: bool) -> String {
        let reached = self.reached.read().unwrap_or_else(|p| p.into_inner());
        let (address, alt) = &reached[node];
        match alternate {
            true => alt.clone(),
            false => address.clone(),
        }
    }

    /// `node` is reached on `port` of its hosts from now on: the peers announce the new
    /// address under the same name, as a real node keeps its id when its service port
    /// changes.
    pub fn relocate(&self, node: usize, port: u16) {
        let with_port = |address: &str| match address.rsplit_once(':') {
            Some((host, _)) => format!("{host}:{port}"),
            None => address.to_string(),
        };
        let mut reached = self.reached.write().unwrap_or_else(|p| p.into_inner());
        let (address, alt) = &mut reached[node];
        if alt == address {
            *alt = with_port(alt);
        }
        *address = with_port(address);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn is_live(&self, node: usize) -> bool {
        self.live_nodes().contains(&node)
    }

    /// Nodes running now.
    pub fn live_count(&self) -> usize {
        self.live_nodes().len()
    }

    /// A key naming the current membership (48-bit FNV-1a of the live node names, as 12 hex
    /// digits like the real server's): equal on every node that sees the same members, so
    /// `cluster-stable` answers agree across the processes of a multi-process cluster.
    pub fn key(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &i in self.live_nodes().iter() {
            for byte in self.nodes[i].name.bytes().chain([0]) {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{:012X}", hash & 0xFFFF_FFFF_FFFF)
    }

    /// The node that is master of `partition` now. Called per command, so it only reads.
    pub fn master_of(&self, partition: usize) -> usize {
        let live = self.live_nodes();
        live[partition % live.len()]
    }

    /// `peers-clear-std` / `-alt`: every other live node.
    pub fn peers(&self, node: usize, alternate: bool) -> String {
        let peers: Vec<String> = self
            .live_nodes()
            .iter()
            .filter(|&&i| i != node)
            .map(|&i| {
                let addr = self.address(i, alternate);
                format!("[{},,[{addr}]]", self.nodes[i].name)
            })
            .collect();
        format!("{},3000,[{}]", self.generation(), peers.join(","))
    }

    /// `replicas`: per namespace, regime 0 (AP), the replica count and one base64 bitmap
    /// per replica column, joined by `;` with no trailing separator.
    pub fn replicas(&self, node: usize) -> String {
        let live = self.live_nodes();
        let replication = self.replication.min(live.len());
        let Some(position) = live.iter().position(|&i| i == node) else {
            return String::new();
        };
        let bitmaps: Vec<String> = (0..replication)
            .map(|r| ownership_bitmap(position, r, live.len()))
            .collect();
        self.namespaces
            .iter()
            .map(|ns| format!("{ns}:0,{replication},{}", bitmaps.join(",")))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// The base64 bitmap of partitions whose replica `column` is the live node at `position`,
/// MSB-first within each byte.
fn ownership_bitmap(position: usize, column: usize, live_count: usize) -> String {
    let mut bits = [0u8; PARTITIONS / 8];
    for p in (0..PARTITIONS).filter(|p| (p + column) % live_count == position) {
        bits[p >> 3] |= 0x80 >> (p & 7);
    }
    base64::engine::general_purpose::STANDARD.encode(bits)
}

/// The partition of a digest, as the client computes it.
pub fn partition_of(digest: &[u8; 20]) -> usize {
    usize::from(u16::from_le_bytes([digest[0], digest[1]])) & (PARTITIONS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(n: usize) -> Cluster {
        let nodes = (0..n)
            .map(|i| NodeIdentity {
                name: format!("N{i}"),
                address: format!("127.0.0.1:{}", 3000 + i),
                alternate: format!("127.0.0.1:{}", 4000 + i),
            })
            .collect();
        Cluster::new(
            nodes,
            vec!["test".into()],
            "bench".into(),
            "7.2.0.0".into(),
            2,
        )
    }

    fn decode(b64: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    }

    fn masters(c: &Cluster, node: usize) -> Vec<u8> {
        let value = c.replicas(node);
        let bitmap = value.split(',').nth(2).unwrap();
        assert_eq!(bitmap.len(), 684);
        decode(bitmap)
    }

    #[test]
    fn single_node_owns_everything() {
        let c = cluster(1);
        assert!(c.replicas(0).starts_with("test:0,1,"));
        assert!(c.replicas(0).ends_with("//8="));
        assert_eq!(c.peers(0, false), "1,3000,[]");
    }

    #[test]
    fn masters_cover_every_partition_once() {
        let c = cluster(3);
        let maps: Vec<_> = (0..3).map(|i| masters(&c, i)).collect();
        for ((a, b), c) in maps[0].iter().zip(&maps[1]).zip(&maps[2]) {
            assert_eq!(a ^ b ^ c, 0xFF);
            assert_eq!(a & b, 0);
        }
        assert_eq!(
            c.peers(0, false),
            "1,3000,[[N1,,[127.0.0.1:3001]],[N2,,[127.0.0.1:3002]]]"
        );
        assert!(c.peers(0, true).contains("127.0.0.1:4001"));
    }

    #[test]
    fn stopping_a_node_moves_its_partitions() {
        let c = cluster(3);
        assert!(c.stop(1));
        assert!(!c.stop(1));
        assert_eq!(c.generation(), 2);
        assert_eq!(c.replicas(1), "");
        let maps: Vec<_> = [0, 2].iter().map(|&i| masters(&c, i)).collect();
        assert!(maps[0].iter().zip(&maps[1]).all(|(a, b)| a ^ b == 0xFF));
        assert!(!c.peers(0, false).contains("N1"));
        assert!(c.start(1) && !c.start(1) && c.is_live(1));
        assert_eq!(c.generation(), 3);
        assert_eq!(
            masters(&c, 1),
            masters(&cluster(3), 1),
            "its partitions come back"
        );
    }

    #[test]
    fn partition_matches_client_vectors() {
        let digest: [u8; 20] = [
            0x82, 0xd7, 0x21, 0x3b, 0x46, 0x98, 0x12, 0x94, 0x7c, 0x10, 0x9a, 0x6d, 0x34, 0x1e,
            0x3b, 0x5b, 0x1d, 0xed, 0xec, 0x1f,
        ];
        assert_eq!(partition_of(&digest), 1922);
        let c = cluster(3);
        assert_eq!(c.master_of(1922), 1922 % 3);
        assert_eq!(
            masters(&c, 2)[1922 >> 3] & (0x80 >> (1922 & 7)),
            0x80 >> (1922 & 7)
        );
    }
}
