//! Losing a node mid-run: the run still ends when it should, the calls caught by the loss
//! are counted as failures, and calls keep succeeding on the survivors once the client has
//! seen the new partition map.

mod common;

use std::sync::Arc;
use std::time::Duration;

use aerobench::driver::{self, AsyncClient, Config, LINGER, Mode};
use aerobench::report::line;
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
            object: ObjectSpec::Int,
            batch_size: 1,
        },
        mode: Mode::Async { tasks: 32 },
        warmup: WARMUP,
        duration: DURATION,
        timeout_ms: driver::DEFAULT_TIMEOUT_MS,
    };
    let backend = Arc::new(AsyncClient {
        client: Arc::new(client),
        calls: config.calls(),
    });
    let kill = async {
        tokio::time::sleep(KILL_AT).await;
        target.embedded.as_ref().unwrap().stop_node(1).unwrap();
    };
    let mut print = |k, f: &_| eprintln!("{}", line::line(k, f));
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
    assert!(t.errors + t.timeouts > 0, "the calls in flight on node 1 fail: {t:?}");
    assert_eq!(t.mismatches, 0);
    let after_kill = &run.seconds[3..];
    assert!(after_kill.iter().all(|s| s.ops > 0), "ops keep succeeding on the survivors");
}
