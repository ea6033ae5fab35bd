//! Conformance of the embedded server, driven by the real `aerospike-core` client over
//! real TCP, against a 1-node and a 3-node cluster: every command the suite uses, with its
//! edge cases and result codes.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use aerospike_core::operations;
use aerospike_core::policy::{
    AdminPolicy, BatchPolicy, Expiration, GenerationPolicy, ReadPolicy, RecordExistsAction,
    WritePolicy,
};
use aerospike_core::{
    BatchDeletePolicy, BatchOperation, BatchReadPolicy, BatchWritePolicy, Bin, Bins, Client,
    ResultCode, Value, as_bin,
};
use common::{cluster, key, node_stats};

const NODE_COUNTS: [usize; 2] = [1, 3];

fn wp() -> WritePolicy {
    WritePolicy::default()
}

fn rp() -> ReadPolicy {
    ReadPolicy::default()
}

/// The server result code an error carries.
fn code(e: &aerospike_core::Error) -> i32 {
    e.result_code()
}

/// Runs `check` against a fresh 1-node and 3-node cluster.
async fn on_each_cluster<F, Fut>(check: F)
where
    F: Fn(Client) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for nodes in NODE_COUNTS {
        let (_target, client) = cluster(nodes).await;
        assert_eq!(client.nodes().len(), nodes, "{nodes}-node cluster formed");
        check(client).await;
    }
}

#[tokio::test]
async fn connects_with_a_complete_partition_map() {
    on_each_cluster(|client| async move {
        assert!(client.is_connected());
        assert!(client.partition_map_ready());
        assert!(client.partition_map_complete());
        let names: HashSet<String> = client.node_names().into_iter().collect();
        assert_eq!(names.len(), client.nodes().len(), "node names are distinct");
        let info = client
            .info(&AdminPolicy::default(), &["build", "namespaces", "bogus"])
            .await
            .unwrap();
        assert_eq!(info["build"], "7.2.0.0");
        assert_eq!(info["namespaces"], "test");
        assert!(info["bogus"].starts_with("ERROR:4"));
    })
    .await;
}

#[tokio::test]
async fn put_and_get_all_named_and_header() {
    on_each_cluster(|client| async move {
        let k = key(1);
        let bins = [as_bin!("a", 1), as_bin!("s", "hi"), as_bin!("f", 1.5)];
        client.put(&wp(), &k, &bins).await.unwrap();
        let all = client.get(&rp(), &k, Bins::All).await.unwrap();
        assert_eq!(all.bins["a"], Value::Int(1));
        assert_eq!(all.bins["s"], Value::from("hi"));
        assert_eq!(all.bins["f"], Value::from(1.5));
        assert_eq!(all.generation, 1);

        let named = client.get(&rp(), &k, ["a", "zz"]).await.unwrap();
        assert_eq!(named.bins.len(), 1, "missing named bin is absent");
        assert_eq!(named.bins["a"], Value::Int(1));

        let header = client.get(&rp(), &k, Bins::None).await.unwrap();
        assert!(header.bins.is_empty());
        assert_eq!(header.generation, 1);

        let blob = key(2);
        let list = Value::List(vec![Value::Int(1), Value::from("x")]);
        client
            .put(
                &wp(),
                &blob,
                &[as_bin!("b", vec![1u8, 2, 3]), Bin::new("l", list.clone())],
            )
            .await
            .unwrap();
        let r = client.get(&rp(), &blob, Bins::All).await.unwrap();
        assert_eq!(r.bins["b"], Value::Blob(vec![1, 2, 3]));
        assert_eq!(r.bins["l"], list, "lists round-trip as stored");
    })
    .await;
}

#[tokio::test]
async fn missing_keys_exists_and_delete() {
    on_each_cluster(|client| async move {
        let k = key(10);
        let err = client.get(&rp(), &k, Bins::All).await.unwrap_err();
        assert_eq!(code(&err), 2, "get of a missing key is KEY_NOT_FOUND");
        assert!(!client.exists(&rp(), &k).await.unwrap());
        client.put(&wp(), &k, &[as_bin!("a", 1)]).await.unwrap();
        assert!(client.exists(&rp(), &k).await.unwrap());
        assert!(client.delete(&wp(), &k).await.unwrap());
        assert!(
            !client.delete(&wp(), &k).await.unwrap(),
            "second delete finds nothing"
        );
        assert!(!client.exists(&rp(), &k).await.unwrap());
        let empty_bins: Vec<String> = Vec::new();
        client.put(&wp(), &k, &[as_bin!("a", 1)]).await.unwrap();
        let err = client.get(&rp(), &k, empty_bins).await.unwrap_err();
        assert_eq!(
            code(&err),
            4,
            "a read of zero named bins is a parameter error"
        );
    })
    .await;
}

#[tokio::test]
async fn generation_and_record_exists_policies() {
    on_each_cluster(|client| async move {
        let k = key(20);
        client.put(&wp(), &k, &[as_bin!("a", 1)]).await.unwrap();
        client.put(&wp(), &k, &[as_bin!("a", 2)]).await.unwrap();
        assert_eq!(
            client.get(&rp(), &k, Bins::None).await.unwrap().generation,
            2
        );

        let mut expect = wp();
        expect.generation_policy = GenerationPolicy::ExpectGenEqual;
        expect.generation = 1;
        let err = client
            .put(&expect, &k, &[as_bin!("a", 3)])
            .await
            .unwrap_err();
        assert_eq!(code(&err), 3, "stale generation is GENERATION_ERROR");
        expect.generation = 2;
        client.put(&expect, &k, &[as_bin!("a", 3)]).await.unwrap();

        let mut create = wp();
        create.record_exists_action = RecordExistsAction::CreateOnly;
        assert_eq!(
            code(
                &client
                    .put(&create, &k, &[as_bin!("a", 4)])
                    .await
                    .unwrap_err()
            ),
            5
        );

        let mut update_only = wp();
        update_only.record_exists_action = RecordExistsAction::UpdateOnly;
        let fresh = key(21);
        assert_eq!(
            code(
                &client
                    .put(&update_only, &fresh, &[as_bin!("a", 1)])
                    .await
                    .unwrap_err()
            ),
            2
        );

        let mut replace = wp();
        replace.record_exists_action = RecordExistsAction::Replace;
        client.put(&wp(), &k, &[as_bin!("b", 1)]).await.unwrap();
        client.put(&replace, &k, &[as_bin!("c", 1)]).await.unwrap();
        let r = client.get(&rp(), &k, Bins::All).await.unwrap();
        assert_eq!(
            r.bins.keys().collect::<Vec<_>>(),
            ["c"],
            "replace drops other bins"
        );
    })
    .await;
}

#[tokio::test]
async fn ttl_touch_and_expiry() {
    on_each_cluster(|client| async move {
        let k = key(30);
        let mut ttl = wp();
        ttl.expiration = Expiration::Seconds(100);
        client.put(&ttl, &k, &[as_bin!("a", 1)]).await.unwrap();
        let left = client
            .get(&rp(), &k, Bins::None)
            .await
            .unwrap()
            .time_to_live()
            .unwrap();
        assert!(
            left <= Duration::from_secs(100) && left >= Duration::from_secs(95),
            "{left:?}"
        );

        client.touch(&wp(), &k).await.unwrap();
        let r = client.get(&rp(), &k, Bins::None).await.unwrap();
        assert_eq!(r.generation, 2, "touch bumps the generation");
        assert_eq!(
            r.time_to_live(),
            None,
            "touch with the default TTL clears the void time"
        );
        assert_eq!(
            code(&client.touch(&wp(), &key(31)).await.unwrap_err()),
            2,
            "touch never creates"
        );

        let short = key(32);
        ttl.expiration = Expiration::Seconds(1);
        client.put(&ttl, &short, &[as_bin!("a", 1)]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert!(
            !client.exists(&rp(), &short).await.unwrap(),
            "expired record is gone"
        );
    })
    .await;
}

#[tokio::test]
async fn add_append_prepend_and_type_errors() {
    on_each_cluster(|client| async move {
        let k = key(40);
        client
            .put(&wp(), &k, &[as_bin!("n", 1), as_bin!("s", "mid")])
            .await
            .unwrap();
        client.add(&wp(), &k, &[as_bin!("n", 41)]).await.unwrap();
        client
            .append(&wp(), &k, &[as_bin!("s", "-end")])
            .await
            .unwrap();
        client
            .prepend(&wp(), &k, &[as_bin!("s", "start-")])
            .await
            .unwrap();
        let r = client.get(&rp(), &k, Bins::All).await.unwrap();
        assert_eq!(r.bins["n"], Value::Int(42));
        assert_eq!(r.bins["s"], Value::from("start-mid-end"));
        let err = client.add(&wp(), &k, &[as_bin!("s", 1)]).await.unwrap_err();
        assert_eq!(code(&err), 12, "add to a string bin is BIN_TYPE_ERROR");
        client.add(&wp(), &k, &[as_bin!("fresh", 5)]).await.unwrap();
        assert_eq!(
            client.get(&rp(), &k, ["fresh"]).await.unwrap().bins["fresh"],
            Value::Int(5)
        );
    })
    .await;
}

#[tokio::test]
async fn operate_with_several_ops() {
    on_each_cluster(|client| async move {
        let k = key(50);
        client
            .put(&wp(), &k, &[as_bin!("a", 1), as_bin!("s", "x")])
            .await
            .unwrap();
        let ops = [
            operations::add(&as_bin!("a", 5)),
            operations::get_bin("a"),
            operations::append(&as_bin!("s", "y")),
            operations::get_bin("s"),
        ];
        let r = client.operate(&wp(), &k, &ops).await.unwrap();
        assert_eq!(
            r.bins["a"],
            Value::MultiResult(vec![Value::Nil, Value::Int(6)])
        );
        assert_eq!(
            r.bins["s"],
            Value::MultiResult(vec![Value::Nil, Value::from("xy")])
        );
        assert_eq!(r.generation, 2);

        let ops = [operations::put(&as_bin!("b", 7)), operations::get()];
        let r = client.operate(&wp(), &k, &ops).await.unwrap();
        assert_eq!(r.bins["b"], Value::Int(7));
        assert_eq!(r.bins["a"], Value::Int(6), "get() returns every bin");

        let read_only = [operations::get_bin("a"), operations::get_bin("b")];
        let r = client.operate(&wp(), &k, &read_only).await.unwrap();
        assert_eq!(
            (r.bins["a"].clone(), r.bins["b"].clone()),
            (Value::Int(6), Value::Int(7))
        );
        assert_eq!(
            r.generation, 3,
            "read-only operate does not bump the generation"
        );

        let r = client
            .operate(&wp(), &k, &[operations::touch(), operations::get_header()])
            .await
            .unwrap();
        assert_eq!(r.generation, 4);
        assert!(r.bins.is_empty());

        client
            .operate(&wp(), &k, &[operations::delete()])
            .await
            .unwrap();
        assert!(
            !client.exists(&rp(), &k).await.unwrap(),
            "delete op removes the record"
        );
    })
    .await;
}

/// 128 keys spread over every node: batch write, read (all, named, header), exists via
/// header, and delete, with every per-key result checked.
#[tokio::test]
async fn batch_of_128_keys_every_result_checked() {
    on_each_cluster(|client| async move {
        let nodes = client.nodes().len();
        let ids: Vec<i64> = (1000..1128).collect();
        let policy = BatchPolicy::default();

        let mut writes: Vec<_> = ids
            .iter()
            .map(|&id| {
                let ops = vec![
                    operations::put(&as_bin!("v", id)),
                    operations::put(&as_bin!("s", format!("k{id}"))),
                ];
                BatchOperation::write(&BatchWritePolicy::default(), key(id), ops)
            })
            .collect();
        let before = node_stats(&client).await;
        client.batch(&policy, &mut writes).await.unwrap();
        let after = node_stats(&client).await;
        for (node, ((_, b), (_, a))) in before.iter().zip(&after).enumerate() {
            assert!(
                a["node_commands"] > b["node_commands"],
                "node {node} of {nodes} served rows"
            );
            assert_eq!(
                a["misrouted"], 0,
                "every row reached its partition's master"
            );
        }
        for w in &writes {
            assert_eq!(w.result_code(), Some(ResultCode::Ok));
        }

        // Every odd id is deleted from a plain put's view, so reads see hits and misses.
        let mut deletes: Vec<_> = ids
            .iter()
            .filter(|id| *id % 2 == 1)
            .map(|&id| BatchOperation::delete(&BatchDeletePolicy::default(), key(id)))
            .collect();
        client.batch(&policy, &mut deletes).await.unwrap();
        assert!(
            deletes
                .iter()
                .all(|d| d.result_code() == Some(ResultCode::Ok))
        );

        for bins in [Bins::All, Bins::from(["v"].as_slice()), Bins::None] {
            let mut reads: Vec<_> = ids
                .iter()
                .map(|&id| BatchOperation::read(&BatchReadPolicy::default(), key(id), bins.clone()))
                .collect();
            client.batch(&policy, &mut reads).await.unwrap();
            for (id, row) in ids.iter().zip(&reads) {
                if id % 2 == 1 {
                    assert_eq!(
                        row.result_code(),
                        Some(ResultCode::KeyNotFoundError),
                        "id {id}"
                    );
                    assert!(row.record().is_none());
                    continue;
                }
                assert_eq!(row.result_code(), Some(ResultCode::Ok), "id {id}");
                let record = row.record().expect("record for a hit");
                match &bins {
                    Bins::All => {
                        assert_eq!(record.bins["v"], Value::Int(*id));
                        assert_eq!(record.bins["s"], Value::from(format!("k{id}")));
                    }
                    Bins::Some(_) => assert_eq!(record.bins.len(), 1),
                    _ => assert!(record.bins.is_empty()),
                }
                assert_eq!(record.generation, 1);
            }
        }
        let mut again: Vec<_> = ids
            .iter()
            .map(|&id| BatchOperation::delete(&BatchDeletePolicy::default(), key(id)))
            .collect();
        client.batch(&policy, &mut again).await.unwrap();
        for (id, row) in ids.iter().zip(&again) {
            let expected = if id % 2 == 1 {
                ResultCode::KeyNotFoundError
            } else {
                ResultCode::Ok
            };
            assert_eq!(row.result_code(), Some(expected), "delete of id {id}");
        }
    })
    .await;
}

#[tokio::test]
async fn batch_without_set_and_single_key_batches() {
    on_each_cluster(|client| async move {
        let no_set = |id: i64| aerospike_core::Key::new("test", "", id.into()).unwrap();
        for id in 0..20 {
            client
                .put(&wp(), &no_set(id), &[as_bin!("v", id)])
                .await
                .unwrap();
        }
        for count in [1usize, 2, 20] {
            let mut reads: Vec<_> = (0..count as i64)
                .map(|id| BatchOperation::read(&BatchReadPolicy::default(), no_set(id), Bins::All))
                .collect();
            client
                .batch(&BatchPolicy::default(), &mut reads)
                .await
                .unwrap();
            for (id, row) in reads.iter().enumerate() {
                assert_eq!(row.record().unwrap().bins["v"], Value::Int(id as i64));
            }
        }
    })
    .await;
}

#[tokio::test]
async fn unknown_namespace_is_reported() {
    let (_target, client) = cluster(1).await;
    let k = aerospike_core::Key::new("nope", "set", 1.into()).unwrap();
    assert!(client.put(&wp(), &k, &[as_bin!("a", 1)]).await.is_err());
}
