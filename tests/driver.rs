//! The driver through its library API: windows add up, values are checked, failures are
//! counted under their names. Durations are short; no assertion is about speed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use aerobench::driver::{self, AsyncClient, Config, Mode, Pool, Ready, Run, SyncClient};
use aerobench::server::fault::Fault;
use aerobench::stats::Figures;
use aerobench::workload::{Mix, ObjectSpec, Workload};
use aerospike_core::Client;

fn setup(mix: Mix, object: ObjectSpec, batch_size: usize, mode: Mode) -> Config {
    Config {
        workload: Workload {
            keys: 2_000,
            mix,
            object: object.into(),
            batch_size,
            ..Workload::default()
        },
        mode,
        warmup: Duration::from_millis(300),
        duration: Duration::from_millis(1500),
        timeout_ms: driver::DEFAULT_TIMEOUT_MS,
        rate: None,
    }
}

fn async_tasks(tasks: usize) -> Mode {
    Mode::Async { tasks }
}

/// Every count of the per-second windows sums to the run's total.
fn assert_windows_add_up(run: &Run) {
    let sum = |f: fn(&Figures) -> u64| run.seconds.iter().map(f).sum::<u64>();
    let t = &run.total;
    assert_eq!(run.seconds.len(), 2, "1.5 s is a full and a half window");
    assert_eq!(sum(|f| f.ops), t.ops);
    assert_eq!(sum(|f| f.calls), t.calls);
    assert_eq!(sum(|f| f.reads), t.reads);
    assert_eq!(sum(|f| f.writes), t.writes);
    assert_eq!(sum(|f| f.misses), t.misses);
    assert_eq!(sum(|f| f.errors), t.errors);
    assert_eq!(sum(|f| f.timeouts), t.timeouts);
    let seconds: f64 = run.seconds.iter().map(|f| f.seconds).sum();
    assert!((seconds - t.seconds).abs() < 1e-9);
}

fn assert_clean(run: &Run) {
    let t = &run.total;
    assert!(t.ops > 0 && t.reads > 0 && t.writes > 0, "{t:?}");
    assert_eq!(
        (t.errors, t.timeouts, t.mismatches, t.misses),
        (0, 0, 0, 0),
        "{t:?}"
    );
    assert!(t.latency_ns.p50 > 0 && t.latency_ns.p50 <= t.latency_ns.max);
}

async fn seed(client: &Arc<Client>, config: &Config) {
    driver::seed::seed_client(client, config, &mut |_| {})
        .await
        .expect("seeded");
}

async fn drive(client: &Arc<Client>, config: &Config) -> Run {
    let backend = Arc::new(AsyncClient {
        client: client.clone(),
        calls: config.calls(),
    });
    let tasks = config.mode.concurrency();
    driver::run_tasks(backend, config, tasks, &mut |_, _| {}).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_overhead_windows_add_up_to_the_total() {
    let config = setup(Mix::default(), ObjectSpec::Str(16), 1, async_tasks(8));
    let mut printed = Vec::new();
    let run = driver::run_tasks(
        Arc::new(Ready {
            calls: config.calls(),
        }),
        &config,
        8,
        &mut |k, f| printed.push((k, f.ops)),
    )
    .await;
    assert_windows_add_up(&run);
    assert_eq!(printed, [(0, run.seconds[0].ops), (1, run.seconds[1].ops)]);
    assert_clean(&run);
    assert!(run.cpu > Duration::ZERO);

    let threads = setup(
        Mix::default(),
        ObjectSpec::Int,
        4,
        Mode::Sync { threads: 2 },
    );
    let run = tokio::task::spawn_blocking(move || {
        driver::run_threads(
            &Ready {
                calls: threads.calls(),
            },
            &threads,
            2,
            &mut |_, _| {},
        )
    })
    .await
    .unwrap();
    assert_windows_add_up(&run);
    assert_clean(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_runs_read_back_what_was_written() {
    let (_target, client) = common::cluster(1).await;
    let client = Arc::new(client);
    for (mix, object, batch) in [
        (Mix::default(), ObjectSpec::Int, 1),
        (Mix::ReadReplace { read_pct: 50 }, ObjectSpec::Str(40), 1),
        (Mix::default(), ObjectSpec::Bytes(24), 16),
    ] {
        let config = setup(mix, object, batch, async_tasks(16));
        seed(&client, &config).await;
        let run = drive(&client, &config).await;
        assert_windows_add_up(&run);
        assert_clean(&run);
        assert_eq!(
            run.total.ops,
            run.total.calls * batch as u64,
            "{mix} {object} {batch}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_unwritten_keys_are_misses_and_wrong_values_mismatches() {
    let (_target, client) = common::cluster(1).await;
    let client = Arc::new(client);
    let reads_only = Mix::ReadUpdate { read_pct: 100 };
    let unseeded = drive(
        &client,
        &setup(reads_only, ObjectSpec::Int, 1, async_tasks(4)),
    )
    .await;
    assert_eq!(unseeded.total.misses, unseeded.total.reads);
    assert_eq!((unseeded.total.errors, unseeded.total.mismatches), (0, 0));

    seed(
        &client,
        &setup(reads_only, ObjectSpec::Str(8), 1, async_tasks(4)),
    )
    .await;
    let other_spec = setup(reads_only, ObjectSpec::Int, 8, async_tasks(4));
    let wrong = drive(&client, &other_spec).await;
    assert!(wrong.total.reads > 0);
    assert_eq!(
        wrong.total.mismatches, wrong.total.reads,
        "every value is a string, not the key id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_writes_the_key_space_in_order() {
    let (_target, client) = common::cluster(3).await;
    let client = Arc::new(client);
    let run = drive(
        &client,
        &setup(Mix::Insert, ObjectSpec::Int, 8, async_tasks(8)),
    )
    .await;
    assert_eq!(
        (run.total.reads, run.total.errors, run.total.timeouts),
        (0, 0, 0)
    );
    assert!(run.total.writes > 0);
    // Reads find the inserted values (keys insert has not reached yet are misses).
    let reads_only = setup(
        Mix::ReadUpdate { read_pct: 100 },
        ObjectSpec::Int,
        1,
        async_tasks(8),
    );
    let check = drive(&client, &reads_only).await;
    assert!(check.total.reads > check.total.misses, "{:?}", check.total);
    assert_eq!((check.total.mismatches, check.total.errors), (0, 0));
}

/// aerospike-core 3.0.0 does not fail fast on an exhausted pool: a call that finds no idle
/// connection sleeps 1 ms and retries (`ConnectionPoolEmpty` pacing) until its deadline, so
/// too small a pool shows as timeouts, while the connections there are keep serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_shows_as_timeouts() {
    let (target, _) = common::cluster(1).await;
    let mut policy = target.client_policy();
    Pool {
        max_conns_per_node: 2,
        ..Pool::default()
    }
    .apply(&mut policy);
    let client = Arc::new(target.connect(&policy).await.unwrap());
    let mut config = setup(Mix::default(), ObjectSpec::Int, 1, async_tasks(64));
    config.timeout_ms = 20;
    let run = drive(&client, &config).await;
    assert_windows_add_up(&run);
    assert!(run.total.timeouts > 0, "{:?}", run.total.failures);
    let pool_kinds = ["timeout", "no_more_connections", "connection_pool_empty"];
    assert!(
        run.total
            .failures
            .keys()
            .all(|k| pool_kinds.contains(&k.as_str())),
        "{:?}",
        run.total.failures
    );
    assert!(run.total.ops > 0, "the connections there are still serve");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_counted_apart_from_errors() {
    let (target, _) = common::cluster_with(1, &["--delay-us", "20000"]).await;
    // Without this the client's breaker (100 errors a tend) can turn a whole measured span
    // of timeouts into its own `max_error_rate` failures, depending on when it resets.
    let mut policy = target.client_policy();
    policy.max_error_rate = 0;
    let client = Arc::new(target.connect(&policy).await.unwrap());
    let mut config = setup(Mix::default(), ObjectSpec::Int, 1, async_tasks(8));
    config.timeout_ms = 5;
    let run = drive(&client, &config).await;
    assert_windows_add_up(&run);
    assert!(run.total.timeouts > 0, "{:?}", run.total);
    assert_eq!(
        run.total.failures.get("timeout").copied(),
        Some(run.total.timeouts)
    );
}

#[test]
fn blocking_threads_share_one_client() {
    let runtime = aerobench::driver::runtime(1).unwrap();
    let (target, client) = runtime.block_on(common::cluster(1));
    let config = setup(
        Mix::default(),
        ObjectSpec::Int,
        1,
        Mode::Sync { threads: 4 },
    );
    runtime.block_on(seed(&Arc::new(client), &config));
    let backend = SyncClient {
        client: Arc::new(target.connect_blocking(&target.client_policy()).unwrap()),
        calls: config.calls(),
    };
    let run = driver::run_threads(&backend, &config, 4, &mut |_, _| {});
    assert_windows_add_up(&run);
    assert_clean(&run);
}

/// Runs `config` while node 0 stalls: every request that reaches it in a `STALL` window
/// 400 ms into the measured span waits `STALL` before its answer.
async fn drive_through_a_stall(
    target: &aerobench::cluster::Target,
    client: &Arc<Client>,
    config: &Config,
) -> Run {
    const STALL: Duration = Duration::from_millis(150);
    let server = target.embedded().expect("an embedded target");
    let stall_at = tokio::time::Instant::now() + config.warmup + Duration::from_millis(400);
    let stall = async {
        tokio::time::sleep_until(stall_at).await;
        server.fault(0, Fault::Slow(STALL)).unwrap();
        tokio::time::sleep_until(stall_at + STALL).await;
        server.fault(0, Fault::Heal).unwrap();
    };
    let (run, ()) = tokio::join!(drive(client, config), stall);
    run
}

/// A closed loop sends nothing while its tasks wait, so a 150 ms stall costs at most two
/// slow calls per task and hides below p99 (coordinated omission). On a schedule, every
/// call due during the stall waits for it: response times show it, service times (from the
/// actual send) do not. Four tasks can have at most eight calls in the stall, far fewer than
/// 1% of the run's calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_shows_in_open_loop_response_times_not_in_service_times() {
    let (target, client) = common::cluster(1).await;
    let client = Arc::new(client);
    let mut config = setup(Mix::default(), ObjectSpec::Int, 1, async_tasks(4));
    seed(&client, &config).await;
    let half_the_stall = 75_000_000;

    let closed = drive_through_a_stall(&target, &client, &config).await;
    assert!(closed.total.calls > 1_000, "{:?}", closed.total);
    assert!(
        closed.total.latency_ns.p99 < half_the_stall,
        "{:?}",
        closed.total
    );
    assert_eq!(closed.total.service_ns, None);

    config.rate = Some(2_000);
    let open = drive_through_a_stall(&target, &client, &config).await;
    assert_windows_add_up(&open);
    assert_clean(&open);
    let t = &open.total;
    let service = t.service_ns.expect("an open loop times the send apart");
    assert!(t.latency_ns.p99 >= half_the_stall, "{t:?}");
    assert!(service.p99 < half_the_stall, "{t:?}");
    assert!(t.late > 0, "calls due in the stall were sent late: {t:?}");
    let schedule = open
        .open_loop
        .expect("an open loop says how it kept its schedule");
    assert_eq!((schedule.rate, schedule.unsent), (2_000, 0));
}

/// Every count of the per-kind figures sums to the total's, in every window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinds_sum_to_the_totals_open_and_closed() {
    let (_target, client) = common::cluster(1).await;
    let client = Arc::new(client);
    let mut config = setup(Mix::default(), ObjectSpec::Int, 4, async_tasks(8));
    for rate in [None, Some(3_000)] {
        config.rate = rate;
        let run = drive(&client, &config).await;
        assert_windows_add_up(&run);
        for f in run.seconds.iter().chain([&run.total]) {
            let (read, write) = (&f.kinds["read"], &f.kinds["write"]);
            for field in [
                |f: &Figures| f.calls,
                |f: &Figures| f.ops,
                |f: &Figures| f.misses,
                |f: &Figures| f.errors,
                |f: &Figures| f.timeouts,
                |f: &Figures| f.late,
            ] {
                assert_eq!(field(read) + field(write), field(f), "{rate:?} {f:?}");
            }
            assert_eq!((read.writes, write.reads), (0, 0));
            assert_eq!(read.service_ns.is_some(), rate.is_some());
        }
    }
}
