//! The cases, in the order [`observe`] runs them on one client.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use aerospike_core::expressions::{eq, int_bin, int_val};
use aerospike_core::operations::{self, hll, lists};
use aerospike_core::policy::{
    AdminPolicy, BatchPolicy, Expiration, GenerationPolicy, QueryPolicy, RecordExistsAction,
    WritePolicy,
};
use aerospike_core::{
    BatchDeletePolicy, BatchOperation, BatchReadPolicy, BatchWritePolicy, Bin, Bins, Client,
    CollectionIndexType, IndexMap, IndexType, Key, ListPolicy, PartitionFilter, ReadTouchTtl,
    Recordset, Statement, Value, as_bin,
};

use aerobench::workload::space::DIFFERENTIAL_TESTS;

use crate::observe::{Probe, Seen, get, key, rp, ttl, wp};

/// Every case, in order, on one client.
pub(crate) async fn observe(client: Client) -> Vec<(String, Seen)> {
    let mut p = Probe {
        client,
        seen: Vec::new(),
    };
    put_and_read(&mut p).await;
    map_order(&mut p).await;
    ttls(&mut p).await;
    scalar_ops(&mut p).await;
    operate(&mut p).await;
    record_exists_policies(&mut p).await;
    limits(&mut p).await;
    batches(&mut p).await;
    read_touch(&mut p).await;
    filters(&mut p).await;
    unsupported(&mut p).await;
    info(&mut p).await;
    p.seen
}

pub(crate) async fn put_and_read(p: &mut Probe) {
    let bins = [
        as_bin!("i", 1),
        as_bin!("s", "hi"),
        as_bin!("f", 1.5),
        as_bin!("b", Value::Blob(vec![1, 2])),
        as_bin!("l", Value::List(vec![Value::from(1), Value::from("x")])),
        as_bin!("t", true),
    ];
    let put = p.client.put(&wp(), &key(1), &bins).await;
    p.outcome("put", &put);
    let all = get(p, 1).await;
    p.record("get_all", &all);
    let named = p.client.get(&rp(), &key(1), ["i", "zz"]).await;
    p.record("get_named", &named);
    let header = p.client.get(&rp(), &key(1), Bins::None).await;
    p.record("get_header", &header);
    let exists = p.client.exists(&rp(), &key(1)).await;
    p.outcome("exists", &exists);
    let absent = p.client.exists(&rp(), &key(2)).await;
    p.outcome("exists_missing", &absent);
    let missing = get(p, 2).await;
    p.record("get_missing", &missing);
    let deleted = p.client.delete(&wp(), &key(1)).await;
    p.outcome("delete", &deleted);
    let again = p.client.delete(&wp(), &key(1)).await;
    p.outcome("delete_missing", &again);
    let gone = get(p, 1).await;
    p.record("get_deleted", &gone);
}

/// A map written in the order z, a, m.
pub(crate) async fn map_order(p: &mut Probe) {
    let mut map = IndexMap::new();
    for k in ["z", "a", "m"] {
        map.insert(Value::from(k), Value::from(1));
    }
    let bin = as_bin!("m", Value::OrderedMap(map));
    let _ = p.client.put(&wp(), &key(3), &[bin]).await;
    p.record("map_order", &get(p, 3).await);
}

pub(crate) async fn ttls(p: &mut Probe) {
    let bins = [as_bin!("v", 1)];
    let _ = p.client.put(&ttl(100), &key(10), &bins).await;
    let first = get(p, 10).await;
    p.record("ttl_100", &first);
    let touch = p.client.touch(&ttl(200), &key(10)).await;
    p.outcome("touch", &touch);
    let touched = get(p, 10).await;
    p.record("ttl_touched_200", &touched);
    let keep = WritePolicy::new(0, Expiration::DontUpdate);
    let _ = p.client.put(&keep, &key(10), &bins).await;
    let kept = get(p, 10).await;
    p.record("ttl_kept", &kept);
    let never = WritePolicy::new(0, Expiration::Never);
    let _ = p.client.put(&never, &key(10), &bins).await;
    let forever = get(p, 10).await;
    p.record("ttl_never", &forever);
    let touch_missing = p.client.touch(&wp(), &key(11)).await;
    p.outcome("touch_missing", &touch_missing);
}

pub(crate) async fn scalar_ops(p: &mut Probe) {
    let k = key(20);
    let _ = p
        .client
        .put(&wp(), &k, &[as_bin!("n", 1), as_bin!("s", "b")])
        .await;
    let add = p.client.add(&wp(), &k, &[as_bin!("n", 5)]).await;
    p.outcome("add", &add);
    let append = p.client.append(&wp(), &k, &[as_bin!("s", "c")]).await;
    p.outcome("append", &append);
    let prepend = p.client.prepend(&wp(), &k, &[as_bin!("s", "a")]).await;
    p.outcome("prepend", &prepend);
    let back = get(p, 20).await;
    p.record("after_scalar_ops", &back);
    let add_to_string = p.client.add(&wp(), &k, &[as_bin!("s", 1)]).await;
    p.outcome("add_to_string", &add_to_string);
    let append_to_int = p.client.append(&wp(), &k, &[as_bin!("n", "x")]).await;
    p.outcome("append_to_int", &append_to_int);
    let float_add = p.client.add(&wp(), &k, &[as_bin!("n", 1.5)]).await;
    p.outcome("add_float_to_int", &float_add);
}

pub(crate) async fn operate(p: &mut Probe) {
    let k = key(30);
    let _ = p.client.put(&wp(), &k, &[as_bin!("v", "a")]).await;
    let put = as_bin!("w", 2);
    let ops = [
        operations::put(&put),
        operations::add(&as_bin!("w", 3)),
        operations::get_bin("w"),
        operations::touch(),
        operations::get_header(),
    ];
    let mixed = p.client.operate(&wp(), &k, &ops).await;
    p.record("operate_mixed", &mixed);
    let header_ops = [operations::touch(), operations::get_header()];
    let touch_header = p.client.operate(&wp(), &k, &header_ops).await;
    p.record("operate_touch_header", &touch_header);
    let read_all = p.client.operate(&wp(), &k, &[operations::get()]).await;
    p.record("operate_get_all", &read_all);
    let delete = [operations::delete()];
    let deleted = p.client.operate(&wp(), &k, &delete).await;
    p.record("operate_delete", &deleted);
    let missing = p
        .client
        .operate(&wp(), &key(31), &[operations::get()])
        .await;
    p.record("operate_missing", &missing);
}

pub(crate) async fn record_exists_policies(p: &mut Probe) {
    let k = key(40);
    let bins = [as_bin!("v", 1)];
    for (name, action) in [
        ("update_only_missing", RecordExistsAction::UpdateOnly),
        ("replace_only_missing", RecordExistsAction::ReplaceOnly),
    ] {
        let mut policy = wp();
        policy.record_exists_action = action;
        let r = p.client.put(&policy, &k, &bins).await;
        p.outcome(name, &r);
    }
    let _ = p
        .client
        .put(&wp(), &k, &[as_bin!("v", 1), as_bin!("o", 2)])
        .await;
    let mut create = wp();
    create.record_exists_action = RecordExistsAction::CreateOnly;
    let r = p.client.put(&create, &k, &bins).await;
    p.outcome("create_only_existing", &r);
    let mut replace = wp();
    replace.record_exists_action = RecordExistsAction::Replace;
    let r = p.client.put(&replace, &k, &bins).await;
    p.outcome("replace", &r);
    p.record("after_replace", &get(p, 40).await);
    for (name, policy, generation) in [
        ("generation_mismatch", GenerationPolicy::ExpectGenEqual, 9),
        ("generation_equal", GenerationPolicy::ExpectGenEqual, 2),
        (
            "generation_not_greater",
            GenerationPolicy::ExpectGenGreater,
            3,
        ),
        ("generation_greater", GenerationPolicy::ExpectGenGreater, 9),
    ] {
        let mut gen_policy = wp();
        gen_policy.generation_policy = policy;
        gen_policy.generation = generation;
        let r = p.client.put(&gen_policy, &k, &bins).await;
        p.outcome(name, &r);
    }
    let unknown = Key::new("nope", DIFFERENTIAL_TESTS.set, Value::from(1)).unwrap();
    let r = p.client.get(&rp(), &unknown, Bins::All).await;
    p.record("unknown_namespace_get", &r);
    let r = p.client.put(&wp(), &unknown, &bins).await;
    p.outcome("unknown_namespace_put", &r);
    let r = p.client.delete(&wp(), &unknown).await;
    p.outcome("unknown_namespace_delete", &r);
    // What `aerobench run -n <missing>` probes before it starts.
    let r = p.client.exists(&rp(), &unknown).await;
    p.outcome("unknown_namespace_exists", &r);
}

pub(crate) async fn limits(p: &mut Probe) {
    let long_name = Bin::new("sixteen_bytes_xx", Value::from(1));
    let r = p.client.put(&wp(), &key(50), &[long_name]).await;
    p.outcome("bin_name_16_bytes", &r);
    let fifteen = Bin::new("fifteen_bytes_x", Value::from(1));
    let r = p.client.put(&wp(), &key(50), &[fifteen]).await;
    p.outcome("bin_name_15_bytes", &r);
    for (name, size) in [("record_1_mib", 1 << 20), ("record_9_mib", 9 << 20)] {
        let big = as_bin!("big", Value::Blob(vec![7; size]));
        let r = p.client.put(&wp(), &key(51), &[big]).await;
        p.outcome(name, &r);
    }
}

pub(crate) async fn batches(p: &mut Probe) {
    let bp = BatchPolicy::default();
    let rp = BatchReadPolicy::default();
    for id in [60, 61] {
        let _ = p.client.put(&wp(), &key(id), &[as_bin!("v", id)]).await;
    }
    let mut empty: Vec<BatchOperation> = Vec::new();
    let r = p.client.batch(&bp, &mut empty).await;
    p.outcome("batch_empty", &r);

    let mut reads: Vec<BatchOperation> = [60, 60, 69, 61]
        .into_iter()
        .map(|id| BatchOperation::read(&rp, key(id), Bins::All))
        .collect();
    reads.push(BatchOperation::read(&rp, key(61), Bins::None));
    reads.push(BatchOperation::read(&rp, key(61), ["v", "zz"].into()));
    let r = p.client.batch(&bp, &mut reads).await;
    p.outcome("batch_reads", &r);
    p.rows("batch_reads", &reads);

    let bins = vec![operations::put(&as_bin!("w", 1)), operations::get()];
    let mut mixed = vec![
        BatchOperation::write(&BatchWritePolicy::default(), key(62), bins.clone()),
        BatchOperation::delete(&BatchDeletePolicy::default(), key(60)),
        BatchOperation::delete(&BatchDeletePolicy::default(), key(69)),
        BatchOperation::read(&rp, key(60), Bins::All),
        BatchOperation::write(&BatchWritePolicy::default(), key(62), bins),
    ];
    let r = p.client.batch(&bp, &mut mixed).await;
    p.outcome("batch_mixed", &r);
    p.rows("batch_mixed", &mixed);

    let unknown = Key::new("nope", DIFFERENTIAL_TESTS.set, Value::from(1)).unwrap();
    let mut foreign = vec![
        BatchOperation::read(&rp, unknown, Bins::All),
        BatchOperation::read(&rp, key(61), Bins::All),
    ];
    let r = p.client.batch(&bp, &mut foreign).await;
    p.outcome("batch_unknown_namespace", &r);
    p.rows("batch_unknown_namespace", &foreign);
    // What seeding or a batch write of `aerobench run -n <missing>` would send.
    let put = vec![operations::put(&as_bin!("b0", 1))];
    let unknown = Key::new("nope", DIFFERENTIAL_TESTS.set, Value::from(2)).unwrap();
    let mut writes = vec![
        BatchOperation::write(&BatchWritePolicy::default(), unknown, put.clone()),
        BatchOperation::write(&BatchWritePolicy::default(), key(63), put),
    ];
    let r = p.client.batch(&bp, &mut writes).await;
    p.outcome("batch_write_unknown_namespace", &r);
    p.rows("batch_write_unknown_namespace", &writes);
}

/// Three seconds after a write with TTL 10, a read with read-touch at 100% restores the TTL
/// to 10 (the reply still shows the TTL before the touch); at 1% it does not.
pub(crate) async fn read_touch(p: &mut Probe) {
    for id in [70, 71, 72] {
        let _ = p.client.put(&ttl(10), &key(id), &[as_bin!("v", 1)]).await;
    }
    tokio::time::sleep(Duration::from_millis(3100)).await;
    for (name, id, percent) in [("read_touch_100", 70, 100), ("read_touch_1", 71, 1)] {
        let mut policy = rp();
        policy.base_policy.read_touch_ttl = ReadTouchTtl::Percent(percent);
        let r = p.client.get(&policy, &key(id), Bins::All).await;
        p.record(&format!("{name}.reply"), &r);
        // The real server may apply the touch just after its reply: read it back a moment
        // later (an untouched record still reads 3 s short, beyond the 1 s tolerance).
        tokio::time::sleep(Duration::from_millis(300)).await;
        policy.base_policy.read_touch_ttl = ReadTouchTtl::DontReset;
        let r = p.client.get(&policy, &key(id), Bins::All).await;
        p.record(&format!("{name}.after"), &r);
    }
    let policy = BatchReadPolicy {
        read_touch_ttl: ReadTouchTtl::Percent(100),
        ..BatchReadPolicy::default()
    };
    let mut rows = vec![BatchOperation::read(&policy, key(72), Bins::All)];
    let _ = p.client.batch(&BatchPolicy::default(), &mut rows).await;
    p.rows("batch_read_touch.reply", &rows);
    p.record("batch_read_touch.after", &get(p, 72).await);
}

/// A filter expression that is false must stop the command (FILTERED_OUT), a delete
/// included.
pub(crate) async fn filters(p: &mut Probe) {
    let _ = p.client.put(&wp(), &key(80), &[as_bin!("v", 1)]).await;
    for (name, value) in [("filter_true", 1), ("filter_false", 2)] {
        let mut policy = rp();
        policy.base_policy.filter_expression = Some(eq(int_bin("v"), int_val(value)));
        let r = p.client.get(&policy, &key(80), Bins::All).await;
        p.record(&format!("{name}.get"), &r);
    }
    let mut delete = wp();
    delete.base_policy.filter_expression = Some(eq(int_bin("v"), int_val(2)));
    let r = p.client.delete(&delete, &key(80)).await;
    p.outcome("filter_false.delete", &r);
    p.record("filter_false.after_delete", &get(p, 80).await);
    let mut bp = BatchPolicy::default();
    bp.base_policy.filter_expression = Some(eq(int_bin("v"), int_val(2)));
    let mut rows = vec![BatchOperation::read(
        &BatchReadPolicy::default(),
        key(80),
        Bins::All,
    )];
    let r = p.client.batch(&bp, &mut rows).await;
    p.outcome("filter_false.batch", &r);
    p.rows("filter_false.batch", &rows);
}

/// What the embedded server does not implement: it must refuse, never ignore.
pub(crate) async fn unsupported(p: &mut Probe) {
    let k = key(90);
    let _ = p.client.put(&wp(), &k, &[as_bin!("v", 1)]).await;
    let append = lists::append(&ListPolicy::default(), "l", Value::from(1));
    let r = p.client.operate(&wp(), &k, &[append]).await;
    p.record("cdt_list_append", &r);
    let hll_add = hll::add(&hll::HllPolicy::default(), "h", vec![Value::from("x")]);
    let r = p.client.operate(&wp(), &key(92), &[hll_add]).await;
    p.record("hll_add", &r);
    let r = p.client.execute_udf(&wp(), &k, "nopkg", "nofn", &[]).await;
    p.outcome("udf_execute", &r);
    let admin = AdminPolicy::default();
    let r = p
        .client
        .truncate(&admin, DIFFERENTIAL_TESTS.namespace, "other", 0)
        .await;
    p.outcome("truncate", &r);
    let r = p
        .client
        .create_index_on_bin(
            &admin,
            DIFFERENTIAL_TESTS.namespace,
            DIFFERENTIAL_TESTS.set,
            "v",
            "diff_v",
            IndexType::Numeric,
            CollectionIndexType::Default,
            None,
        )
        .await
        .map(|_| ());
    p.outcome("sindex_create", &r);
    let statement = Statement::new(
        DIFFERENTIAL_TESTS.namespace,
        DIFFERENTIAL_TESTS.set,
        Bins::All,
    );
    let scan = p
        .client
        .query(&QueryPolicy::default(), PartitionFilter::all(), statement)
        .await;
    p.note("scan", count_records(scan).await);
    let mut compressed = wp();
    compressed.base_policy.use_compression = true;
    let big = as_bin!("c", "x".repeat(4096));
    let r = p.client.put(&compressed, &key(91), &[big]).await;
    p.outcome("compressed_put", &r);
    let mut read = rp();
    read.base_policy.use_compression = true;
    let r = p
        .client
        .get(&read, &key(91), ["c"])
        .await
        .map(|r| r.bins.len());
    p.outcome("compressed_get", &r);
    let r = p.client.query_users(&admin, None).await.map(|u| u.len());
    p.outcome("admin_query_users", &r);
    p.record("after_admin", &get(p, 91).await);
}

/// How many records a query returned, or the result code that ended it.
pub(crate) async fn count_records(
    query: aerospike_core::Result<Arc<Recordset>>,
) -> Result<usize, i32> {
    let mut stream = query.map_err(|e| e.result_code())?.into_stream();
    let mut count = 0;
    while let Some(record) = stream.next().await {
        record.map_err(|e| e.result_code())?;
        count += 1;
    }
    Ok(count)
}

/// The info values the client parses, reduced to what it relies on.
pub(crate) async fn info(p: &mut Probe) {
    let names = [
        "partition-generation",
        "peers-generation",
        "peers-clear-std",
        "replicas",
        "features",
        "build",
        "namespaces",
        "cluster-name",
        "bogus-name",
    ];
    let info = p
        .client
        .info(&AdminPolicy::default(), &names)
        .await
        .unwrap();
    let value = |name: &str| info.get(name).cloned().unwrap_or_default();
    let generation = value("partition-generation").parse::<i64>();
    p.note(
        "partition_generation_is_non_negative",
        generation.map(|g| g >= 0),
    );
    let peers = value("peers-clear-std");
    let peer_fields: Vec<&str> = peers.splitn(3, ',').collect();
    p.note(
        "peers.generation_matches",
        peer_fields.first().copied() == Some(value("peers-generation").as_str()),
    );
    p.note("peers.port_and_list", &peer_fields[1..]);
    let replicas = value("replicas");
    let (ns, rest) = replicas.split_once(':').unwrap_or_default();
    let parts: Vec<&str> = rest.split(',').collect();
    p.note("replicas.namespace_regime_count", (ns, &parts[..2]));
    p.note("replicas.bitmaps", &parts[2..]);
    let features = value("features");
    for feature in [
        "batch-index",
        "batch-any",
        "peers",
        "replicas",
        "float",
        "blob-bits",
    ] {
        p.note(
            &format!("features.{feature}"),
            features.split(';').any(|f| f == feature),
        );
    }
    let build = value("build");
    let major: u32 = build.split('.').next().unwrap_or("0").parse().unwrap_or(0);
    p.note("build_major_at_least_6", major >= 6);
    p.note("namespaces", value("namespaces"));
    p.note("cluster_name", value("cluster-name"));
    p.note("unknown_name", value("bogus-name"));
}
