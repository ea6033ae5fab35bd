//! `aerobench run`: asbench's workload against the selected target, closed loop or at a
//! fixed rate (open loop), with a per-second ticker, a summary block and a JSON result.
//!
//! The target comes from the environment (see `aerobench::target`): the embedded server by
//! default, `AEROBENCH_NODES=3` for three nodes, `AEROSPIKE_HOSTS` for a real cluster.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use aerobench::cluster::{self, Settings, Target};
use aerobench::driver::bare::Bare;
use aerobench::driver::{self, AsyncClient, Config, Mode, Pool, Ready, Run, SyncClient};
use aerobench::faults::{Effect, FaultSpec, Retries, Scenario, Step, plan};
use aerobench::op_counters;
use aerobench::run_output::progress::Progress;
use aerobench::run_output::result::{
    self, BareDocument, BareOutcome, Document, Knobs, Outcome, Seeding,
};
use aerobench::run_output::{summary, ticker};
use aerobench::server::fault::Order;
use aerobench::stats::Figures;
use aerobench::verify::{Findings, Ledger, read_back};
use aerobench::workload::space::RUN;
use aerobench::workload::{KeyDist, MAX_BATCH, Mix, Objects, Workload};
use aerospike_core::{ErrorKind, ReadPolicy, ResultCode};
use clap::Args;
use clap::builder::RangedU64ValueParser;

/// The measured seconds and warm-up seconds a run takes unless told.
pub const DEFAULT_TIMES: (u64, u64) = (15, 3);

#[derive(Args)]
pub struct RunArgs {
    /// Keys in the key space (ids 0..keys).
    #[arg(short = 'k', long, default_value_t = 100_000, value_parser = RangedU64ValueParser::<u64>::new().range(1..=i64::MAX as u64))]
    keys: u64,
    /// Namespace of the keys (1 to 31 bytes); the cluster must have it.
    #[arg(short = 'n', long, default_value = RUN.namespace)]
    namespace: String,
    /// Set of the keys (at most 63 bytes; empty for none).
    #[arg(short = 's', long, default_value = RUN.set)]
    set: String,
    /// Mix: RU,<read%> (read/update), RR[,<read%>] (read/replace) or I (insert).
    #[arg(short = 'w', long, default_value = "RU,50")]
    workload: Mix,
    /// Bin values, one bin (b0, b1, …) per comma-separated spec: I or I8 (the key id),
    /// S:<bytes> or S<bytes> (string), B:<bytes> or B<bytes> (blob); e.g. I,S:100,B:1024.
    #[arg(short = 'o', long, default_value = "I8")]
    object: Objects,
    /// Which keys random calls draw: uniform, zipf[,<theta>] (YCSB's, theta 0.99 by
    /// default; hot keys scattered) or hot,<key%>,<op%> (op% of draws in the first key% of
    /// the keys). -w I writes keys in order.
    #[arg(long, default_value = "uniform")]
    keys_dist: KeyDist,
    /// Measured seconds.
    #[arg(short = 'd', long, default_value_t = DEFAULT_TIMES.0, value_parser = RangedU64ValueParser::<u64>::new().range(1..=86_400))]
    duration: u64,
    /// Warm-up seconds before measuring (excluded from every figure).
    #[arg(long, default_value_t = DEFAULT_TIMES.1, value_parser = RangedU64ValueParser::<u64>::new().range(0..=3_600))]
    warmup: u64,
    /// Async tasks sharing one client.
    #[arg(short = 'z', long, default_value_t = 32, value_parser = RangedU64ValueParser::<usize>::new().range(1..=65_536))]
    tasks: usize,
    /// Sync mode: this many OS threads sharing one blocking client (instead of -z tasks).
    #[arg(long, conflicts_with = "tasks", value_parser = RangedU64ValueParser::<usize>::new().range(1..=4_096))]
    threads: Option<usize>,
    /// Keys per call; above 1, reads and writes go through client.batch.
    #[arg(long, default_value_t = 1, value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_BATCH as u64))]
    batch_size: usize,
    /// Total timeout of each call in ms; 0 turns the per-op timeout off.
    #[arg(long, default_value_t = driver::DEFAULT_TIMEOUT_MS, value_parser = RangedU64ValueParser::<u32>::new().range(0..=3_600_000))]
    timeout_ms: u32,
    /// Open loop: send this many calls per second in all, on a fixed schedule shared by the
    /// tasks; latency is then response time, from each call's due instant, with service
    /// time (from its send) beside it. Without it, a closed loop.
    #[arg(long, value_parser = RangedU64ValueParser::<u64>::new().range(1..=100_000_000))]
    pub rate: Option<u64>,
    /// Client max_conns_per_node.
    #[arg(long, default_value_t = Pool::default().max_conns_per_node, value_parser = RangedU64ValueParser::<usize>::new().range(1..=65_535))]
    max_conns: usize,
    /// Client conn_pools_per_node.
    #[arg(long, default_value_t = Pool::default().conn_pools_per_node, value_parser = RangedU64ValueParser::<u8>::new().range(1..=64))]
    conn_pools: u8,
    /// Client min_conns_per_node.
    #[arg(long, default_value_t = Pool::default().min_conns_per_node, value_parser = RangedU64ValueParser::<usize>::new().range(0..=65_535))]
    min_conns: usize,
    /// Tokio worker threads for the tasks (0 = one per core).
    #[arg(long, default_value_t = 0, value_parser = RangedU64ValueParser::<usize>::new().range(0..=1_024))]
    workers: usize,
    /// Write every key once before the run (with a progress bar), so reads find records.
    #[arg(long)]
    seed: bool,
    /// Where to write the JSON result (default reports/runs/<timestamp>-<mode>.json).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Replace the client call with a ready future, measuring the harness's own cost (a
    /// lower bound: a ready future shows none of the costs real I/O brings).
    #[arg(long)]
    pub self_overhead: bool,
    /// Run the bare reference instead: the same calls with nothing around them but a
    /// counter (no latency, no checks, no ticker); a normal run's TPS and CPU/op against
    /// this one's are the harness's cost. With --rate, the calls wait for the same
    /// schedule.
    #[arg(long, conflicts_with_all = ["self_overhead", "fault", "scenario"])]
    pub bare: bool,
    /// A fault for the cluster during the measured span, `<at>:<node>:<kind>[:<for>]`
    /// (repeatable): kind kill, restart, hang, heal, slow=<latency>, errors=<code>/<percent>%
    /// or drop; with <for>, undone when it ends (e.g. 5s:1:hang:3s). Embedded target.
    #[arg(long, value_name = "SPEC")]
    pub fault: Vec<FaultSpec>,
    /// A named fault on node 1 from a third of the measured span for a third of it.
    #[arg(long, value_enum)]
    pub scenario: Option<Scenario>,
    /// Check that no acknowledged write was lost: seed (implied), stamp every write with
    /// a version, log each key's last acknowledged one, check every read against it, and
    /// read every key back after the run (lost_writes, stale_reads, unexpected,
    /// unverified). Keys are split among the tasks (task t owns the ids ≡ t mod tasks; a
    /// drawn id becomes the task's own nearest one), so each key has one writer and its
    /// last acknowledged value is exact, not a guess between concurrent writers.
    #[arg(long, conflicts_with_all = ["self_overhead", "bare"])]
    pub verify: bool,
}

impl RunArgs {
    pub fn config(&self) -> anyhow::Result<(Config, Pool)> {
        if self.threads.is_some() && self.workers != 0 {
            anyhow::bail!(
                "--workers sizes the runtime of async tasks; with --threads the blocking client \
                 uses its own: drop --workers or --threads"
            );
        }
        let (namespace, set) = Workload::names(&self.namespace, &self.set);
        let config = Config {
            workload: Workload {
                keys: self.keys,
                namespace,
                set,
                mix: self.workload,
                object: self.object,
                keys_dist: self.keys_dist,
                batch_size: self.batch_size,
                verify: self.verify,
            },
            mode: match self.threads {
                Some(threads) => Mode::Sync { threads },
                None => Mode::Async { tasks: self.tasks },
            },
            warmup: Duration::from_secs(self.warmup),
            duration: Duration::from_secs(self.duration),
            timeout_ms: self.timeout_ms,
            rate: self.rate,
        };
        let pool = Pool {
            max_conns_per_node: self.max_conns,
            min_conns_per_node: self.min_conns,
            conn_pools_per_node: self.conn_pools,
        };
        config.validate()?;
        pool.validate()?;
        if self.bare {
            driver::bare::check(&config)?;
        }
        Ok((config, pool))
    }

    /// Every knob, for the summary and the JSON result.
    pub fn knobs(&self, config: &Config, pool: Pool) -> Knobs {
        Knobs {
            mode: config.mode,
            workload: config.workload,
            duration_s: config.duration.as_secs_f64(),
            warmup_s: config.warmup.as_secs_f64(),
            timeout_ms: config.timeout_ms,
            rate: config.rate,
            pool,
            workers: match self.workers {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            },
            seeded: self.seeds(),
            self_overhead: self.self_overhead,
            bare: self.bare,
            faults: self.faults(config.duration),
        }
    }

    /// Whether the key space is written before the run: `--seed`, or `--verify`, whose
    /// log starts from the seeding's version 0 of every key.
    fn seeds(&self) -> bool {
        self.seed || self.verify
    }

    /// The `--fault`s, then the `--scenario`'s, for a measured span of `duration`.
    fn faults(&self, duration: Duration) -> Vec<FaultSpec> {
        let scenario = self.scenario.map(|s| s.fault(duration));
        self.fault.iter().copied().chain(scenario).collect()
    }
}

/// Runs the workload `args` describes: one-line errors for bad knobs or targets.
pub fn main(args: &RunArgs) -> anyhow::Result<()> {
    let (config, pool) = args.config()?;
    let knobs = args.knobs(&config, pool);
    check_faults(&knobs.faults, config.duration)?;
    let session = Session::open(args, &config, pool)?;
    println!("{}", summary::heading(&knobs));
    if args.bare {
        let bare = session.measure_bare(&config)?;
        print!("{}", summary::bare_block(&knobs, &bare));
        let document = BareDocument {
            fingerprint: &session.fingerprint,
            knobs: &knobs,
            bare: BareOutcome::of(&bare),
        };
        return save(
            args,
            result::default_path(&knobs, SystemTime::now()),
            &document,
        );
    }
    let before = session.connections_opened();
    let (run, retries) = session.measure_with_faults(&config, args.self_overhead, &knobs.faults)?;
    let mut outcome = Outcome::of(&run, before.zip(session.connections_opened()));
    outcome.faults = knobs
        .faults
        .iter()
        .map(|&fault| Effect::of(fault, &run.seconds, retries.as_deref()))
        .collect();
    let verify = run
        .ledger
        .as_ref()
        .map(|ledger| session.verify(&config, ledger));
    let seed = session.seeding.as_ref();
    print!(
        "{}",
        summary::block(&knobs, &outcome, seed, verify.as_ref())
    );
    let document = Document {
        fingerprint: &session.fingerprint,
        knobs: &knobs,
        seed,
        verify: verify.as_ref(),
        outcome: &outcome,
        seconds: &run.seconds,
    };
    save(
        args,
        result::default_path(&knobs, SystemTime::now()),
        &document,
    )?;
    if outcome.figures.mismatches > 0 {
        anyhow::bail!(
            "integrity: {} reads returned a value other than the one written for their key; \
             re-seed (--seed) if the data came from a run with another object spec",
            outcome.figures.mismatches
        );
    }
    match verify {
        Some(found) if !found.clean() => Err(anyhow::anyhow!(
            "verify: {} lost writes, {} stale reads, {} unexpected, {} keys unverified of {} \
             (see the verify row)",
            found.lost_writes,
            found.stale_reads,
            found.unexpected,
            found.unverified,
            found.keys_checked + found.unverified
        )),
        _ => Ok(()),
    }
}

/// Refuses, before any cluster starts, faults the target cannot carry out or that do not
/// fit the cluster and the run.
fn check_faults(faults: &[FaultSpec], duration: Duration) -> anyhow::Result<()> {
    if faults.is_empty() {
        return Ok(());
    }
    let settings = Settings::from_env()?;
    let refusal = cluster::fault_refusal(&settings)?;
    if let Some((fault, why)) = faults
        .iter()
        .find_map(|f| refusal(f.kind).map(|why| (f, why)))
    {
        anyhow::bail!("--fault {fault}: {why}");
    }
    plan::check(faults, settings.nodes, duration).map_err(anyhow::Error::msg)
}

/// Prints a window's ticker line as it closes.
fn print_tick(k: usize, f: &Figures) {
    println!("{}", ticker::line(k, f));
    let _ = std::io::stdout().flush();
}

/// A connected client and what it measures against, ready for runs.
pub struct Session {
    pub target: Target,
    runtime: tokio::runtime::Runtime,
    policy: aerospike_core::ClientPolicy,
    client: Arc<aerospike_core::Client>,
    pub fingerprint: aerobench::meta::Fingerprint,
    /// The seeding phase's figures, when it seeded.
    pub seeding: Option<Seeding>,
}

impl Session {
    /// Connects to the target, says what it measures against, checks that it has the
    /// run's namespace, and seeds if asked.
    pub fn open(args: &RunArgs, config: &Config, pool: Pool) -> anyhow::Result<Session> {
        let target = Target::from_env()?;
        let runtime = driver::runtime(args.workers)
            .map_err(|e| anyhow::anyhow!("cannot start a Tokio runtime: {e}"))?;
        let mut policy = target.client_policy();
        pool.apply(&mut policy);
        let client = Arc::new(runtime.block_on(target.connect(&policy))?);
        let fingerprint = runtime.block_on(target.fingerprint(&client));
        println!("aerobench: measuring against {fingerprint}");
        // Counted in bare runs too, so a run and its bare reference carry the same cost.
        op_counters::set_counting(true);
        let mut session = Session {
            target,
            runtime,
            policy,
            client,
            fingerprint,
            seeding: None,
        };
        session.check_namespace(&config.workload)?;
        if args.seeds() {
            session.seeding = Some(session.seed(config)?);
        }
        Ok(session)
    }

    /// What the doctor's probes run on: this session's target, runtime and client.
    pub fn lab(
        &self,
        gauges: aerobench::doctor::readings::Gauges,
    ) -> aerobench::doctor::probes::Lab<'_> {
        aerobench::doctor::probes::Lab {
            target: &self.target,
            runtime: &self.runtime,
            policy: &self.policy,
            client: &self.client,
            gauges,
        }
    }

    /// Fails with one line if the cluster lacks the run's namespace: every call would fail
    /// with result code 20 (the client's routing answers it as the server would).
    fn check_namespace(&self, workload: &Workload) -> anyhow::Result<()> {
        let probe = self
            .runtime
            .block_on(self.client.exists(&ReadPolicy::default(), &workload.key(0)));
        match probe {
            Err(e)
                if matches!(e.kind(), ErrorKind::InvalidNamespace)
                    || e.server_result_code() == Some(ResultCode::InvalidNamespace) =>
            {
                let found = self.runtime.block_on(self.target.describe(&self.client));
                anyhow::bail!(
                    "namespace {:?} not found on the cluster (result code 20): use -n with one of its namespaces ({})",
                    workload.namespace,
                    found.namespaces.join(", ")
                )
            }
            _ => Ok(()),
        }
    }

    /// Connections the cluster has accepted so far, where it says.
    fn connections_opened(&self) -> Option<u64> {
        self.runtime
            .block_on(op_counters::connections_opened(&self.client))
    }

    fn seed(&self, config: &Config) -> anyhow::Result<Seeding> {
        let progress = Progress::new("seeding", config.workload.keys);
        let mut done = 0;
        let figures =
            self.runtime
                .block_on(driver::seed::seed_client(&self.client, config, &mut |n| {
                    done = n;
                    progress.update(n);
                }))?;
        progress.finish(done);
        Ok(Seeding::of(&figures))
    }

    /// Reads every key of `ledger` back once the run is over (see `aerobench::verify`),
    /// saying what from first.
    fn verify(&self, config: &Config, ledger: &Ledger) -> Findings {
        let bound = read_back::bound(ledger.keys());
        println!(
            "{:<12}reading back {} keys (within {} s) from {}",
            "verify",
            ledger.keys(),
            bound.as_secs(),
            self.fingerprint
        );
        let read = read_back(self.client.clone(), config.workload, ledger, bound);
        self.runtime.block_on(read)
    }

    /// Runs the bare reference loop in the configured mode.
    fn measure_bare(&self, config: &Config) -> anyhow::Result<Bare> {
        Ok(match config.mode {
            Mode::Async { tasks } => {
                driver::bare::run_tasks(&self.runtime, self.client.clone(), config, tasks)
            }
            Mode::Sync { threads } => driver::bare::run_threads(
                &self.target.connect_blocking(&self.policy)?,
                config,
                threads,
            ),
        })
    }

    /// [`Self::measure`] with the ticker, giving the cluster each of `faults` on time (from
    /// a thread of its own, which prints each order as it goes out).
    fn measure_with_faults(
        &self,
        config: &Config,
        self_overhead: bool,
        faults: &[FaultSpec],
    ) -> anyhow::Result<(Run, Option<Vec<u64>>)> {
        if faults.is_empty() {
            return Ok((self.measure(config, self_overhead, &mut print_tick)?, None));
        }
        let mut steps: Vec<Step> = faults.iter().flat_map(FaultSpec::steps).collect();
        steps.sort_by_key(|s| s.at);
        let counted = matches!(config.mode, Mode::Async { .. }) && !self_overhead;
        let mut retries = counted.then(|| (Retries::count(&self.client), Vec::new()));
        let mut tick = |k: usize, f: &Figures| {
            print_tick(k, f);
            if let Some((counter, windows)) = &mut retries {
                windows.push(counter.since_last());
            }
        };
        let start = Instant::now() + config.warmup;
        let (done, ended) = mpsc::channel::<()>();
        let run = std::thread::scope(|scope| {
            let steps = &steps;
            scope.spawn(move || {
                for step in steps {
                    let wait = (start + step.at).saturating_duration_since(Instant::now());
                    if ended.recv_timeout(wait) != Err(RecvTimeoutError::Timeout) {
                        return;
                    }
                    let order = Order {
                        node: step.node,
                        fault: step.fault,
                    };
                    match self.target.fault(step.node, step.fault) {
                        Ok(()) => println!("{:<12}{:.1}s {order}", "fault", step.at.as_secs_f64()),
                        Err(e) => eprintln!("aerobench: fault {order}: {e}"),
                    }
                }
            });
            let run = self.measure(config, self_overhead, &mut tick);
            drop(done);
            run
        })?;
        Ok((run, retries.map(|(_, windows)| windows)))
    }

    /// Runs the measured loop in the configured mode; `tick` sees each window.
    pub fn measure(
        &self,
        config: &Config,
        self_overhead: bool,
        tick: &mut dyn FnMut(usize, &Figures),
    ) -> anyhow::Result<Run> {
        let calls = config.calls();
        Ok(match (config.mode, self_overhead) {
            (Mode::Async { tasks }, false) => {
                let backend = Arc::new(AsyncClient {
                    client: self.client.clone(),
                    calls,
                });
                self.runtime
                    .block_on(driver::run_tasks(backend, config, tasks, tick))
            }
            (Mode::Async { tasks }, true) => self.runtime.block_on(driver::run_tasks(
                Arc::new(Ready { calls }),
                config,
                tasks,
                tick,
            )),
            (Mode::Sync { threads }, false) => {
                let backend = SyncClient {
                    client: Arc::new(self.target.connect_blocking(&self.policy)?),
                    calls,
                };
                driver::run_threads(&backend, config, threads, tick)
            }
            (Mode::Sync { threads }, true) => {
                driver::run_threads(&Ready { calls }, config, threads, tick)
            }
        })
    }
}

/// Writes the JSON result where `--json` says, or at `default`, and says where.
pub fn save(
    args: &RunArgs,
    default: PathBuf,
    document: &impl serde::Serialize,
) -> anyhow::Result<()> {
    let path = args.json.clone().unwrap_or(default);
    result::write(&path, document)?;
    println!("{:<12}{}", "result", path.display());
    Ok(())
}
