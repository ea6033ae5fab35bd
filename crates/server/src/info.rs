//! The text info protocol: one `name\tvalue\n` line per requested name, echoed in request
//! order (the C client reads values by position), `ERROR:4:unrecognized command` for names
//! the server does not know.

use super::cluster::Cluster;
use super::service_time;
use super::stats::Stats;

/// Features announced by `features`: only what this server implements (no queries, scans,
/// UDFs, secondary indexes or truncate); the batch and peers protocols are the ones clients
/// test.
const FEATURES: &str = "batch-any;batch-index;blob-bits;float;peers;pipelining;replicas";

/// Answers an info request body addressed to `node`.
pub fn answer(request: &[u8], node: usize, cluster: &Cluster, stats: &Stats) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    let mut out = String::new();
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        let value = value_of(line, node, cluster, stats)
            .unwrap_or_else(|| "ERROR:4:unrecognized command".to_string());
        out.push_str(line);
        out.push('\t');
        out.push_str(&value);
        out.push('\n');
    }
    out.into_bytes()
}

fn value_of(line: &str, node: usize, cluster: &Cluster, stats: &Stats) -> Option<String> {
    let name = line.split(':').next().unwrap_or(line);
    let me = &cluster.nodes[node];
    Some(match name {
        "node" => me.name.clone(),
        "cluster-name" => cluster.cluster_name.clone(),
        "build" => cluster.build.clone(),
        "edition" => "aerobench-server".to_string(),
        "version" => format!("aerobench-server {}", env!("CARGO_PKG_VERSION")),
        "partition-generation" | "peers-generation" | "rebalance-generation" => {
            cluster.generation().to_string()
        }
        "peers-clear-std" => cluster.peers(node, false),
        "peers-clear-alt" => cluster.peers(node, true),
        "service-clear-std" => cluster.address(node, false),
        "service-clear-alt" => cluster.address(node, true),
        "replicas" => cluster.replicas(node),
        "namespaces" => cluster.namespaces.join(";"),
        "features" => FEATURES.to_string(),
        "user-agent-set" => "ok".to_string(),
        "statistics" => stats.info_value(node),
        service_time::INFO_NAME => stats.service_time.info_value(node),
        "cluster-stable" => cluster_stable(line, cluster),
        _ => return None,
    })
}

/// `cluster-stable[:size=N;namespace=NS]`: the cluster key when the membership has `N`
/// nodes and serves `NS`, else the real server's error (8.1.2.0's wording). Readiness
/// checks wait on it before measuring.
fn cluster_stable(line: &str, cluster: &Cluster) -> String {
    let params = line.split_once(':').map_or("", |(_, p)| p);
    for (key, value) in params.split(';').filter_map(|kv| kv.split_once('=')) {
        match key {
            "size" if value.parse() != Ok(cluster.live_count()) => {
                return "ERROR:7:cluster not specified size".into();
            }
            "namespace" if !cluster.namespaces.iter().any(|ns| ns == value) => {
                return "ERROR:20:namespace not found on node".into();
            }
            _ => {}
        }
    }
    cluster.key()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::NodeIdentity;

    fn one_node() -> Cluster {
        let node = NodeIdentity {
            name: "A1".into(),
            address: "127.0.0.1:3000".into(),
            alternate: "10.0.0.1:3000".into(),
        };
        Cluster::new(
            vec![node],
            vec!["test".into()],
            "bench".into(),
            "7.2.0.0".into(),
            1,
        )
    }

    #[test]
    fn echoes_names_in_request_order() {
        let reply = answer(
            b"node\ncluster-name\nbuild\npartition-generation\n",
            0,
            &one_node(),
            &Stats::default(),
        );
        assert_eq!(
            String::from_utf8(reply).unwrap(),
            "node\tA1\ncluster-name\tbench\nbuild\t7.2.0.0\npartition-generation\t1\n"
        );
    }

    #[test]
    fn unknown_names_and_parameters() {
        let reply = answer(
            b"foo\nuser-agent-set:value=MSx\npeers-clear-alt\n",
            0,
            &one_node(),
            &Stats::default(),
        );
        assert_eq!(
            String::from_utf8(reply).unwrap(),
            "foo\tERROR:4:unrecognized command\nuser-agent-set:value=MSx\tok\npeers-clear-alt\t1,3000,[]\n"
        );
    }

    #[test]
    fn cluster_stable_checks_size_and_namespace() {
        let ask = |line: &str| {
            let reply = answer(line.as_bytes(), 0, &one_node(), &Stats::default());
            let reply = String::from_utf8(reply).unwrap();
            reply.trim_end().split_once('\t').unwrap().1.to_string()
        };
        let key = ask("cluster-stable:size=1;namespace=test");
        assert_eq!(key.len(), 12);
        assert!(key.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
        assert_eq!(ask("cluster-stable"), key);
        assert_eq!(
            ask("cluster-stable:size=2;namespace=test"),
            "ERROR:7:cluster not specified size"
        );
        assert_eq!(
            ask("cluster-stable:size=1;namespace=nope"),
            "ERROR:20:namespace not found on node"
        );
    }
}
