//! Routing: whether the client reaches every node of the cluster at an address it can
//! use. Each node announces its peers (`peers-clear-std`, or `peers-clear-alt` when the
//! client uses services-alternate); the cluster's size is what they announce, and every
//! announced address is tried with a bounded TCP connect. A client seeded with fewer
//! hosts, or one that loses a node and must find it again, can only use those addresses.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use aerospike_core::Client;
use aerospike_core::policy::AdminPolicy;
use serde::Serialize;

/// The longest one announced address may take to accept a connection.
const CONNECT_BOUND: Duration = Duration::from_secs(1);

/// What the routing probe found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Routing {
    /// Nodes the run's client found.
    pub nodes_found: usize,
    /// Nodes the cluster says it has (1 + the most peers a node announces); `None` when
    /// no node answered.
    pub cluster_size: Option<usize>,
    /// Which announced addresses the client uses: services-alternate or the standard ones.
    pub services_alternate: bool,
    /// Announced `name@address` that refused or did not answer a connection.
    pub unusable: Vec<String>,
}

impl Routing {
    /// Asks every node the client found for its peers and tries each announced address.
    pub async fn probe(client: &Client, services_alternate: bool) -> Routing {
        let name = match services_alternate {
            true => "peers-clear-alt",
            false => "peers-clear-std",
        };
        let mut announced: Vec<(String, String)> = Vec::new();
        let mut size = None;
        for node in client.nodes() {
            let Ok(mut info) = node.info(&AdminPolicy::default(), &[name]).await else {
                continue;
            };
            let peers = info
                .swap_remove(name)
                .map(|v| parse_peers(&v))
                .unwrap_or_default();
            size = size.max(Some(1 + peers.len()));
            for peer in peers {
                if !announced.contains(&peer) {
                    announced.push(peer);
                }
            }
        }
        let probes = announced.into_iter().map(|(name, address)| {
            tokio::task::spawn_blocking(move || {
                (!reachable(&address)).then(|| format!("{name}@{address}"))
            })
        });
        let mut unusable = Vec::new();
        for probe in probes {
            if let Ok(Some(bad)) = probe.await {
                unusable.push(bad);
            }
        }
        Routing {
            nodes_found: client.nodes().len(),
            cluster_size: size,
            services_alternate,
            unusable,
        }
    }
}

/// Whether `address` accepts a TCP connection within [`CONNECT_BOUND`].
fn reachable(address: &str) -> bool {
    let Some(addr) = address.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
        return false;
    };
    TcpStream::connect_timeout(&addr, CONNECT_BOUND).is_ok()
}

/// `(name, host:port)` per peer of a `peers-clear-*` answer,
/// `<generation>,<default port>,[[name,tls-name,[addr,…]],…]`; an address without a port
/// takes the default one. A peer with no address is listed with an empty one.
pub fn parse_peers(answer: &str) -> Vec<(String, String)> {
    let mut parts = answer.splitn(3, ',');
    let (_, port, list) = match (parts.next(), parts.next(), parts.next()) {
        (Some(g), Some(p), Some(l)) => (g, p.trim(), l.trim()),
        _ => return Vec::new(),
    };
    let inner = list
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .unwrap_or("");
    inner
        .split("]],")
        .filter(|p| !p.trim().is_empty())
        .filter_map(|peer| {
            let peer = peer.trim().trim_start_matches('[').trim_end_matches(']');
            let (name, rest) = peer.split_once(',')?;
            let (_tls, addresses) = rest.split_once(',')?;
            let first = addresses.trim_start_matches('[').split(',').next()?.trim();
            let address = match first.rsplit_once(':') {
                Some((_, p)) if p.parse::<u16>().is_ok() && !first.ends_with(']') => first.into(),
                _ if first.is_empty() => String::new(),
                _ => format!("{first}:{port}"),
            };
            Some((name.to_string(), address))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_answers_name_each_peer_and_its_first_address() {
        let embedded =
            "3,3000,[[BB9000000000002,,[127.0.0.1:4001]],[BB9000000000003,,[127.0.0.1:4002]]]";
        assert_eq!(
            parse_peers(embedded),
            [
                ("BB9000000000002".to_string(), "127.0.0.1:4001".to_string()),
                ("BB9000000000003".to_string(), "127.0.0.1:4002".to_string()),
            ]
        );
        let default_port = "7,3000,[[A1,,[10.0.0.2]],[A2,tls,[10.0.0.3:3100,10.0.0.4]]]";
        assert_eq!(
            parse_peers(default_port),
            [
                ("A1".to_string(), "10.0.0.2:3000".to_string()),
                ("A2".to_string(), "10.0.0.3:3100".to_string()),
            ]
        );
        assert!(parse_peers("1,3000,[]").is_empty());
        assert!(parse_peers("").is_empty());
    }
}
