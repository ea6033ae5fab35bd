//! Differential conformance: one set of cases runs against the embedded server and against
//! a real Aerospike 8.1.2.0 node (the `aerospike/aerospike-server:8.1.2.0-src` image), and
//! what the client observes is compared field by field: result codes, bins and their
//! types, generations, TTLs (within a second), batch rows in order, the info values the
//! client parses, and the error cases.
//!
//! A field that differs fails the test unless [`ACCEPTED`] lists it, with what the
//! embedded server must answer instead (a refusal, never a silent success) and why the
//! difference does not change what the client costs; README's table "Where the embedded
//! server differs from Aerospike 8.1.2.0" is the same list.

mod common;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use aerospike_core::expressions::{eq, int_bin, int_val};
use aerospike_core::operations::{self, hll, lists};
use aerospike_core::policy::{
    AdminPolicy, BatchPolicy, Expiration, GenerationPolicy, QueryPolicy, ReadPolicy,
    RecordExistsAction, WritePolicy,
};
use aerospike_core::{
    BatchDeletePolicy, BatchOperation, BatchReadPolicy, BatchWritePolicy, Bin, Bins, Client,
    CollectionIndexType, IndexMap, IndexType, Key, ListPolicy, PartitionFilter, ReadTouchTtl,
    Record, Recordset, Statement, Value, as_bin,
};

/// One observed field: compared exactly, or as a TTL in seconds within one second.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Exact(String),
    Ttl(Option<u64>),
}

impl Seen {
    fn agrees(&self, other: &Seen) -> bool {
        match (self, other) {
            (Seen::Ttl(Some(a)), Seen::Ttl(Some(b))) => a.abs_diff(*b) <= 1,
            _ => self == other,
        }
    }
}

/// A difference that stays: the fields it covers (by prefix), what the embedded server
/// must answer there instead, and why the client's cost is unchanged. The same rows are
/// README's table "Where the embedded server differs from Aerospike 8.1.2.0".
struct Accepted {
    covers: &'static [&'static str],
    ours: &'static [(&'static str, &'static str)],
    why: &'static str,
}

const ACCEPTED: &[Accepted] = &[
    Accepted {
        covers: &[
            "filter_true.get",
            "filter_false.get",
            "filter_false.delete",
            "filter_false.batch",
        ],
        ours: &[
            ("filter_true.get.rc", "16"),
            ("filter_false.get.rc", "16"),
            ("filter_false.delete.rc", "16"),
            ("filter_false.batch[0].code", "Some(UnsupportedFeature)"),
        ],
        why: "filter expressions are refused with UNSUPPORTED_FEATURE (16), not evaluated",
    },
    Accepted {
        covers: &["cdt_list_append", "hll_add"],
        ours: &[("cdt_list_append.rc", "16"), ("hll_add.rc", "16")],
        why: "CDT (list, map, bit) and HLL operations are refused with UNSUPPORTED_FEATURE (16)",
    },
    Accepted {
        covers: &["udf_execute"],
        ours: &[("udf_execute.rc", "16")],
        why: "UDF calls are refused with UNSUPPORTED_FEATURE (16)",
    },
    Accepted {
        covers: &["scan"],
        ours: &[("scan", "Err(16)")],
        why: "scans and queries are refused with UNSUPPORTED_FEATURE (16)",
    },
    Accepted {
        covers: &["truncate", "sindex_create"],
        ours: &[("truncate.rc", "4"), ("sindex_create.rc", "4")],
        why: "truncate and secondary-index info commands answer `ERROR:4:unrecognized command`",
    },
];

/// The accepted difference covering `field`, if any.
fn accepted(field: &str) -> Option<&'static Accepted> {
    ACCEPTED
        .iter()
        .find(|a| a.covers.iter().any(|prefix| field.starts_with(prefix)))
}

/// What one client saw, in case order.
struct Probe {
    client: Client,
    seen: Vec<(String, Seen)>,
}

impl Probe {
    fn note(&mut self, field: &str, value: impl Debug) {
        self.seen
            .push((field.to_string(), Seen::Exact(format!("{value:?}"))));
    }

    /// The result code, bins (with types, in server order), generation and TTL of a read.
    fn record(&mut self, field: &str, result: &aerospike_core::Result<Record>) {
        match result {
            Ok(r) => {
                self.note(&format!("{field}.bins"), &r.bins);
                self.note(&format!("{field}.results"), &r.results);
                self.note(&format!("{field}.generation"), r.generation);
                self.seen.push((
                    format!("{field}.ttl"),
                    Seen::Ttl(r.time_to_live().map(|d| d.as_secs())),
                ));
            }
            Err(e) => self.note(&format!("{field}.rc"), e.result_code()),
        }
    }

    fn outcome<T>(&mut self, field: &str, result: &aerospike_core::Result<T>)
    where
        T: Debug,
    {
        match result {
            Ok(v) => self.note(field, v),
            Err(e) => self.note(&format!("{field}.rc"), e.result_code()),
        }
    }

    /// Every row of a batch, in order: result code and record.
    fn rows(&mut self, field: &str, rows: &[BatchOperation]) {
        for (i, row) in rows.iter().enumerate() {
            self.note(&format!("{field}[{i}].code"), row.result_code());
            if let Some(r) = row.record() {
                self.record(&format!("{field}[{i}]"), &Ok(r.clone()));
            }
        }
    }
}

fn key(id: i64) -> Key {
    Key::new("test", "diff", Value::from(id)).unwrap()
}

fn wp() -> WritePolicy {
    WritePolicy::default()
}

fn rp() -> ReadPolicy {
    ReadPolicy::default()
}

fn ttl(seconds: u32) -> WritePolicy {
    WritePolicy::new(0, Expiration::Seconds(seconds))
}

async fn get(p: &Probe, id: i64) -> aerospike_core::Result<Record> {
    p.client.get(&rp(), &key(id), Bins::All).await
}

/// Every case, in order, on one client.
async fn observe(client: Client) -> Vec<(String, Seen)> {
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

async fn put_and_read(p: &mut Probe) {
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
async fn map_order(p: &mut Probe) {
    let mut map = IndexMap::new();
    for k in ["z", "a", "m"] {
        map.insert(Value::from(k), Value::from(1));
    }
    let bin = as_bin!("m", Value::OrderedMap(map));
    let _ = p.client.put(&wp(), &key(3), &[bin]).await;
    p.record("map_order", &get(p, 3).await);
}

async fn ttls(p: &mut Probe) {
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

async fn scalar_ops(p: &mut Probe) {
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

async fn operate(p: &mut Probe) {
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

async fn record_exists_policies(p: &mut Probe) {
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
    let unknown = Key::new("nope", "diff", Value::from(1)).unwrap();
    let r = p.client.get(&rp(), &unknown, Bins::All).await;
    p.record("unknown_namespace_get", &r);
    let r = p.client.put(&wp(), &unknown, &bins).await;
    p.outcome("unknown_namespace_put", &r);
    let r = p.client.delete(&wp(), &unknown).await;
    p.outcome("unknown_namespace_delete", &r);
}

async fn limits(p: &mut Probe) {
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

async fn batches(p: &mut Probe) {
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

    let unknown = Key::new("nope", "diff", Value::from(1)).unwrap();
    let mut foreign = vec![
        BatchOperation::read(&rp, unknown, Bins::All),
        BatchOperation::read(&rp, key(61), Bins::All),
    ];
    let r = p.client.batch(&bp, &mut foreign).await;
    p.outcome("batch_unknown_namespace", &r);
    p.rows("batch_unknown_namespace", &foreign);
}

/// Two seconds after a write with TTL 10, a read with read-touch at 100% restores the TTL
/// to 10 (the reply still shows the TTL before the touch); at 1% it does not.
async fn read_touch(p: &mut Probe) {
    for id in [70, 71, 72] {
        let _ = p.client.put(&ttl(10), &key(id), &[as_bin!("v", 1)]).await;
    }
    tokio::time::sleep(Duration::from_millis(2100)).await;
    for (name, id, percent) in [("read_touch_100", 70, 100), ("read_touch_1", 71, 1)] {
        let mut policy = rp();
        policy.base_policy.read_touch_ttl = ReadTouchTtl::Percent(percent);
        let r = p.client.get(&policy, &key(id), Bins::All).await;
        p.record(&format!("{name}.reply"), &r);
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
async fn filters(p: &mut Probe) {
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
async fn unsupported(p: &mut Probe) {
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
    let r = p.client.truncate(&admin, "test", "other", 0).await;
    p.outcome("truncate", &r);
    let r = p
        .client
        .create_index_on_bin(
            &admin,
            "test",
            "diff",
            "v",
            "diff_v",
            IndexType::Numeric,
            CollectionIndexType::Default,
            None,
        )
        .await
        .map(|_| ());
    p.outcome("sindex_create", &r);
    let statement = Statement::new("test", "diff", Bins::All);
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
async fn count_records(query: aerospike_core::Result<Arc<Recordset>>) -> Result<usize, i32> {
    let mut stream = query.map_err(|e| e.result_code())?.into_stream();
    let mut count = 0;
    while let Some(record) = stream.next().await {
        record.map_err(|e| e.result_code())?;
        count += 1;
    }
    Ok(count)
}

/// The info values the client parses, reduced to what it relies on.
async fn info(p: &mut Probe) {
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

/// The real server's observations on `nodes` nodes, or `None` (a counted skip) when
/// Docker or the image is missing.
async fn observe_real<F: Future<Output = Vec<(String, Seen)>>>(
    nodes: usize,
    observe: impl FnOnce(Client) -> F,
) -> Option<Vec<(String, Seen)>> {
    let check = format!("differential conformance against Aerospike 8.1.2.0, {nodes} node(s)");
    let target = common::real_cluster(&check, nodes)?;
    let client = target.connect(&target.client_policy()).await.unwrap();
    Some(observe(client).await)
}

fn lookup(seen: &[(String, Seen)], field: &str) -> Seen {
    let found = seen
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, s)| s.clone());
    found.unwrap_or(Seen::Exact("<absent>".into()))
}

/// Every field either side observed that disagrees and no [`Accepted`] row covers.
fn differences(real: &[(String, Seen)], ours: &[(String, Seen)]) -> Vec<String> {
    let mut fields: Vec<&String> = real.iter().map(|(f, _)| f).collect();
    for (field, _) in ours {
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    let mut failures = Vec::new();
    for field in fields {
        let (mine, theirs) = (lookup(ours, field), lookup(real, field));
        if accepted(field).is_none() && !mine.agrees(&theirs) {
            failures.push(format!("{field}: ours {mine:?}, real {theirs:?}"));
        }
    }
    failures
}

fn assert_no_failures(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} difference(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn embedded_server_answers_like_aerospike_8_1_2() {
    let Some(real) = observe_real(1, observe).await else {
        return;
    };
    let (_target, client) = common::cluster(1).await;
    let ours = observe(client).await;
    let mut failures = differences(&real, &ours);
    for (field, answer) in ACCEPTED.iter().flat_map(|a| a.ours) {
        let mine = lookup(&ours, field);
        if mine != Seen::Exact(answer.to_string()) {
            failures.push(format!(
                "{field}: an accepted difference, but ours is {mine:?}, not {answer}"
            ));
        }
    }
    let readme = include_str!("../README.md");
    for a in ACCEPTED.iter().filter(|a| !readme.contains(a.why)) {
        failures.push(format!("README's difference table lacks: {}", a.why));
    }
    assert_no_failures(&failures);
}

/// What each node of a cluster announces for routing: its peers, and replica bitmaps
/// that together give every partition exactly one master and one prole on distinct nodes.
async fn observe_cluster(client: Client) -> Vec<(String, Seen)> {
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

const PARTITIONS: usize = 4096;

/// The peers a `peers-clear-std` value lists: `[…]` entries inside its outer list.
fn peer_entries(peers: &str) -> usize {
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
fn bitmap(encoded: &str) -> Vec<bool> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap_or_default();
    (0..PARTITIONS)
        .map(|p| bytes.get(p / 8).is_some_and(|b| b & (0x80 >> (p % 8)) != 0))
        .collect()
}

#[tokio::test]
async fn three_embedded_nodes_announce_routing_like_aerospike_8_1_2() {
    let Some(real) = observe_real(3, observe_cluster).await else {
        return;
    };
    let (_target, client) = common::cluster(3).await;
    let ours = observe_cluster(client).await;
    assert_no_failures(&differences(&real, &ours));
}
