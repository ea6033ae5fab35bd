//! Losing a node mid-run: the run still ends when it should, whatever fails is counted under
//! its name, and calls keep succeeding on the survivors once the client has seen the new
//! partition map.
//!
//! Whether anything fails is up to the client, so it is not asserted: the embedded server
//! answers the requests it has read before a stopped node closes its connections, and
//! aerospike-core 3.0.0 paces a call that finds no connection to the dead node (1 ms sleeps,
//! re-reading the partition map) instead of failing it. Most runs lose no call at all; the
//! others count a few timeouts (calls still waiting for node 1 at their 1 s deadline).

mod common;

use std::sync::Arc;
use std::time::Duration;

use aerobench::driver::{self, AsyncClient, Config, LINGER, Mode};
use aerobench::run_output::ticker;
use aerobench::server::fault::Fault;
use aerobench::workload::{Mix, ObjectSpec, Workload};

const WARMUP: Duration = Duration::from_secs(1);
const DURATION: Duration = Duration::from_secs(5);
/// When node 1 stops: two seconds into the measured span.
const KILL_AT: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_survives_losing_a_node() {
    let (target, client) = common::cluster(3).await;
    let config = Config {
        workload: Workload {
            keys: 10_000,
            mix: Mix::default(),
            object: ObjectSpec::Int.into(),
            batch_size: 1,
            ..Workload::default()
        },
        mode: Mode::Async { tasks: 32 },
        warmup: WARMUP,
        duration: DURATION,
        timeout_ms: driver::DEFAULT_TIMEOUT_MS,
        rate: None,
    };
    let backend = Arc::new(AsyncClient {
        client: Arc::new(client),
        calls: config.calls(),
    });
    let kill = async {
        tokio::time::sleep(KILL_AT).await;
        target.embedded().unwrap().fault(1, Fault::Kill).unwrap();
    };
    let mut print = |k, f: &_| eprintln!("{}", ticker::line(k, f));
    let bounded = tokio::time::timeout(
        WARMUP + DURATION + LINGER + Duration::from_secs(5),
        driver::run_tasks(backend, &config, 32, &mut print),
    );
    let (run, ()) = tokio::join!(bounded, kill);
    let run = run.expect("the run ends within its duration plus the linger bound");

    let t = &run.total;
    eprintln!("failures: {:?}", t.failures);
    assert_eq!(run.seconds.len(), 5);
    assert_eq!(run.abandoned, 0, "every call ends within its 1 s timeout");
    assert_eq!(
        t.failures.values().sum::<u64>(),
        t.errors + t.timeouts,
        "every failure is named"
    );
    assert_eq!(t.mismatches, 0);
    let last = run.seconds.last().unwrap();
    assert!(
        last.ops > 0 && last.errors + last.timeouts == 0,
        "2 s after the loss, every call succeeds on the survivors (they own node 1's \
         partitions): {last:?}"
    );
}
