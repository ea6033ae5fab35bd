//! The embedded server's service-time extension through the real client: every get it
//! serves is counted and timed, and the suite reads it back as the benchmarks do.

mod common;

use std::time::Duration;

use aerobench::server::service_time::Total;
use aerobench::server_share::get_totals;
use aerospike_core::policy::{ReadPolicy, WritePolicy};
use aerospike_core::{Bins, Client, as_bin};
use common::{cluster, key};

const GETS: u64 = 25;

/// The totals once at least `count` gets are in: the server records a get just after its
/// reply is written, so the client may ask a moment before the last one lands.
async fn totals_reaching(client: &Client, count: u64) -> Total {
    for _ in 0..100 {
        let totals = get_totals(client)
            .await
            .expect("the embedded server reports");
        if totals.count >= count {
            return totals;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    get_totals(client).await.unwrap()
}

#[tokio::test]
async fn every_get_is_counted_and_timed_on_one_and_three_nodes() {
    for nodes in [1, 3] {
        let (_target, client) = cluster(nodes).await;
        let k = key(7);
        client
            .put(&WritePolicy::default(), &k, &[as_bin!("a", 1)])
            .await
            .unwrap();
        let before = get_totals(&client)
            .await
            .expect("the embedded server reports");
        for _ in 0..GETS {
            client
                .get(&ReadPolicy::default(), &k, Bins::All)
                .await
                .unwrap();
        }
        let after = totals_reaching(&client, before.count + GETS).await;
        assert_eq!(after.count - before.count, GETS, "{nodes} node(s)");
        assert!(
            after.sum_ns > before.sum_ns,
            "{nodes} node(s): gets take time"
        );
    }
}
