//! When a cluster is ready: when the client can use every node. A real node logs its ready
//! line about two seconds before it holds its partitions, and a client that connects in
//! that gap is refused ("node is not yet fully initialized"), so the log line only says the
//! process is up. Ready means, on every node: info answers, `partition-generation` is not
//! -1 (the client's own admission check), and `cluster-stable:size=N;namespace=test`
//! answers the same cluster key as on every other node.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::server::DEFAULT_NAMESPACE;
use crate::server::codec::{PROTO_VERSION, ProtoHeader, TYPE_INFO};

/// How long the nodes may take, after their ready lines, to form a stable cluster that
/// holds its partitions.
pub const CLUSTER_TIMEOUT: Duration = Duration::from_secs(60);

/// One node's answer to the readiness questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeState {
    /// The node is usable; its name and the cluster key it reports.
    Ready { name: String, key: String },
    /// Not yet, and why (the last answer, or the connection error).
    Waiting(String),
}

/// Asks node `address` whether it is usable in a cluster of `size` nodes.
pub fn node_state(address: &str, size: usize) -> NodeState {
    let stable = format!("cluster-stable:size={size};namespace={DEFAULT_NAMESPACE}");
    let answers = match info(address, &["node", "partition-generation", &stable]) {
        Ok(answers) => answers,
        Err(e) => return NodeState::Waiting(e.to_string()),
    };
    let get = |name: &str| answers.get(name).map(String::as_str).unwrap_or("");
    let (name, generation, key) = (get("node"), get("partition-generation"), get(&stable));
    if name.is_empty() {
        NodeState::Waiting("no node name yet".into())
    } else if generation.is_empty() || generation == "-1" {
        NodeState::Waiting(format!("partition-generation {generation:?}"))
    } else if key.is_empty() || key.starts_with("ERROR") {
        NodeState::Waiting(format!("{stable}: {key:?}"))
    } else {
        NodeState::Ready {
            name: name.into(),
            key: key.into(),
        }
    }
}

/// Waits until every node in `addresses` is ready with one cluster key, or `timeout` runs
/// out; then returns the node names, or the index of the first node not ready and why.
pub fn wait_ready(addresses: &[String], timeout: Duration) -> Result<Vec<String>, (usize, String)> {
    let deadline = Instant::now() + timeout;
    loop {
        let states: Vec<NodeState> = addresses
            .iter()
            .map(|a| node_state(a, addresses.len()))
            .collect();
        let verdict = verdict(&states);
        match verdict {
            Ok(names) => return Ok(names),
            Err(failure) if Instant::now() >= deadline => return Err(failure),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// All nodes ready with the same key: their names; else the first node that is not.
fn verdict(states: &[NodeState]) -> Result<Vec<String>, (usize, String)> {
    let mut names = Vec::new();
    let mut first_key: Option<&str> = None;
    for (index, state) in states.iter().enumerate() {
        match state {
            NodeState::Waiting(why) => return Err((index, why.clone())),
            NodeState::Ready { name, key } => {
                if first_key.is_some_and(|k| k != key) {
                    return Err((index, format!("cluster key {key} differs from node 0's")));
                }
                first_key = Some(key);
                names.push(name.clone());
            }
        }
    }
    Ok(names)
}

/// A node that did not answer an info request: its address and why.
#[derive(Debug, thiserror::Error)]
#[error("{address}: {source}")]
pub struct ProbeError {
    address: String,
    source: io::Error,
}

/// One info request over a fresh connection: `name\tvalue` per requested name.
pub fn info(address: &str, names: &[&str]) -> Result<HashMap<String, String>, ProbeError> {
    let timeout = Duration::from_secs(2);
    let fail = |source: io::Error| ProbeError {
        address: address.into(),
        source,
    };
    let addr: SocketAddr = address.parse().map_err(|e| {
        fail(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not an ip:port ({e})"),
        ))
    })?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(fail)?;
    stream.set_read_timeout(Some(timeout)).map_err(fail)?;
    stream.set_write_timeout(Some(timeout)).map_err(fail)?;
    let body: String = names.iter().map(|n| format!("{n}\n")).collect();
    let header = ProtoHeader {
        version: PROTO_VERSION,
        msg_type: TYPE_INFO,
        size: body.len() as u64,
    };
    let mut request = header.to_bytes().to_vec();
    request.extend_from_slice(body.as_bytes());
    stream.write_all(&request).map_err(fail)?;
    let mut header = [0u8; 8];
    stream.read_exact(&mut header).map_err(fail)?;
    let header = ProtoHeader::parse(header);
    header
        .validate(16 << 20)
        .map_err(|e| fail(io::Error::new(io::ErrorKind::InvalidData, e)))?;
    let mut reply = vec![0u8; header.size as usize];
    stream.read_exact(&mut reply).map_err(fail)?;
    Ok(String::from_utf8_lossy(&reply)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(name: &str, key: &str) -> NodeState {
        NodeState::Ready {
            name: name.into(),
            key: key.into(),
        }
    }

    #[test]
    fn ready_when_every_node_is_with_one_key() {
        assert_eq!(
            verdict(&[ready("A", "K"), ready("B", "K")]),
            Ok(vec!["A".to_string(), "B".to_string()])
        );
        assert_eq!(
            verdict(&[ready("A", "K"), NodeState::Waiting("x".into())]),
            Err((1, "x".to_string()))
        );
        assert!(verdict(&[ready("A", "K"), ready("B", "L")]).is_err());
    }

    #[test]
    fn an_embedded_node_is_ready_and_a_closed_port_is_not() {
        use crate::server::{Config, Server};
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let _in_runtime = runtime.enter();
        let server = Server::start(&Config {
            nodes: 2,
            port: 0,
            ..Config::default()
        })
        .unwrap();
        let hosts = server.hosts();
        let names = wait_ready(&hosts, Duration::from_secs(5)).unwrap();
        assert_eq!(names.len(), 2);
        assert!(matches!(node_state(&hosts[0], 3), NodeState::Waiting(w) if w.contains("size")));
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap().to_string();
        drop(closed);
        assert!(wait_ready(&[addr], Duration::ZERO).is_err());
    }
}
