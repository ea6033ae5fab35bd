//! `aerobench doctor`: short measured probes with the workload and target of `run`, then
//! one verdict per suspect and the ceiling (see `aerobench::doctor`), printed as a table
//! and saved as JSON beside the run results.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use aerobench::clock::utc_stamp;
use aerobench::cluster::placement::CpuSet;
use aerobench::doctor::readings::Gauges;
use aerobench::doctor::{self, output, probes};
use aerobench::driver::{Config, Mode};
use clap::Args;

use crate::run::{self, RunArgs, Session};

/// `--quick`'s measured seconds and warm-up per probe.
const QUICK: (u64, u64) = (3, 1);
/// The default measured seconds and warm-up per probe: about 2 minutes in all.
const DEFAULT: (u64, u64) = (12, 3);

#[derive(Args)]
pub struct DoctorArgs {
    /// The workload, target and client knobs, as for `run`; -d and --warmup are each
    /// probe's (default 12 s and 3 s here).
    #[command(flatten)]
    run: RunArgs,
    /// Shorter probes: 3 s measured after 1 s of warm-up each.
    #[arg(long)]
    quick: bool,
}

/// Diagnoses the configuration `args` describes: one-line errors for bad knobs or targets.
pub fn main(args: &DoctorArgs) -> anyhow::Result<()> {
    refuse(&args.run)?;
    let (config, pool) = args.run.config()?;
    let config = timed(args, config);
    let session = Session::open(&args.run, &config, pool)?;
    let nodes = session.target.hosts.len();
    let count = probes::plan(config.mode.concurrency(), pool, config.timeout_ms, nodes).len();
    let each = config.warmup + config.duration;
    println!(
        "doctor: {count} probes of {} s warm-up + {} s measured each (about {} s), then the verdict",
        config.warmup.as_secs(),
        config.duration.as_secs(),
        (each * count as u32).as_secs()
    );
    let gauges = Gauges {
        server: doctor::server_cpu(&session.target),
        client_cpus: CpuSet::allowed()?,
    };
    let diagnosis = doctor::examine(
        &session.lab(gauges),
        &config,
        pool,
        session.fingerprint.clone(),
        &mut |sample| println!("{}", output::probe_line(sample)),
    )?;
    print!("{}", output::table(&diagnosis));
    let default = PathBuf::from("reports/doctor")
        .join(format!("{}-doctor.json", utc_stamp(SystemTime::now())));
    run::save(&args.run, default, &diagnosis)
}

/// What a doctor run cannot take, each with one line.
fn refuse(run: &RunArgs) -> anyhow::Result<()> {
    let (config, _) = run.config()?;
    if matches!(config.mode, Mode::Sync { .. }) {
        anyhow::bail!("doctor probes async tasks (-z): drop --threads");
    }
    if run.rate.is_some() || run.bare || run.self_overhead {
        anyhow::bail!(
            "doctor measures the client closed loop: drop --rate, --bare and --self-overhead"
        );
    }
    if run.verify || !run.fault.is_empty() || run.scenario.is_some() {
        anyhow::bail!(
            "doctor measures a healthy cluster: drop --verify, --fault and --scenario (aerobench run takes them)"
        );
    }
    Ok(())
}

/// Each probe's warm-up and measured span: `--quick`'s, the given ones, or the doctor's
/// defaults when `run`'s were left as they are.
fn timed(args: &DoctorArgs, config: Config) -> Config {
    let given = (config.duration.as_secs(), config.warmup.as_secs());
    let (duration, warmup) = match (args.quick, given) {
        (true, _) => QUICK,
        (false, run::DEFAULT_TIMES) => DEFAULT,
        (false, given) => given,
    };
    Config {
        duration: Duration::from_secs(duration),
        warmup: Duration::from_secs(warmup),
        ..config
    }
}
