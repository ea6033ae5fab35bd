//! `aerobench knee`: the highest rate whose response times hold an SLA, found by open-loop
//! steps after a closed-loop ceiling (see `aerobench::knee`), printed as a curve and saved
//! as JSON beside the run results.

use std::path::PathBuf;
use std::time::SystemTime;

use aerobench::clock::utc_stamp;
use aerobench::driver::Config;
use aerobench::durations::{latency, parse_latency};
use aerobench::knee::{self, CLIMB, Knee, Point, Sla};
use aerobench::meta::Fingerprint;
use aerobench::run_output::result::{Knobs, Seeding};
use clap::Args;
use serde::Serialize;

use crate::run::{self, RunArgs, Session};

#[derive(Args)]
pub struct KneeArgs {
    /// The workload, target and client knobs, as for `run`; -d and --warmup are each
    /// step's.
    #[command(flatten)]
    run: RunArgs,
    /// Largest p99 response time a rate may have (e.g. 1ms).
    #[arg(long, value_parser = parse_latency)]
    sla_p99: Option<u64>,
    /// Largest p99.9 response time a rate may have.
    #[arg(long, value_parser = parse_latency)]
    sla_p999: Option<u64>,
    /// Largest p50 response time a rate may have.
    #[arg(long, value_parser = parse_latency)]
    sla_p50: Option<u64>,
    /// Halvings of the interval between the last rate that held and the first that missed.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=10))]
    bisections: u8,
}

/// The saved result.
#[derive(Serialize)]
struct Document<'a> {
    fingerprint: &'a Fingerprint,
    knobs: &'a Knobs,
    /// The seeding phase, `null` without `--seed`.
    seed: Option<&'a Seeding>,
    sla: Sla,
    knee: &'a Knee,
}

/// Finds the knee `args` asks for: one-line errors for bad knobs or targets.
pub fn main(args: &KneeArgs) -> anyhow::Result<()> {
    let sla = Sla {
        p50_ns: args.sla_p50,
        p99_ns: args.sla_p99,
        p999_ns: args.sla_p999,
    };
    if sla.is_empty() {
        anyhow::bail!("no SLA: give --sla-p99 (or --sla-p50, --sla-p999), e.g. --sla-p99 1ms");
    }
    if args.run.rate.is_some() || args.run.bare {
        anyhow::bail!("knee chooses the rates and measures the client: drop --rate and --bare");
    }
    if args.run.verify {
        anyhow::bail!(
            "knee runs many steps over the same keys, and --verify checks one run: drop --verify (aerobench run takes it)"
        );
    }
    if !args.run.fault.is_empty() || args.run.scenario.is_some() {
        anyhow::bail!(
            "knee measures a healthy cluster: drop --fault and --scenario (aerobench run takes them)"
        );
    }
    let (config, pool) = args.run.config()?;
    let session = Session::open(&args.run, &config, pool)?;
    let knobs = args.run.knobs(&config, pool);
    println!("{}", heading(&sla, &config, args.bisections));
    let step = |rate: Option<u64>| {
        let config = Config { rate, ..config };
        session.measure(&config, args.run.self_overhead, &mut |_, _| {})
    };
    let closed = step(None)?;
    let ceiling = closed.total.calls as f64 / closed.total.seconds;
    println!(
        "ceiling     {ceiling:.0} calls/s closed loop (p99 {})",
        latency(closed.total.latency_ns.p99)
    );
    let knee = knee::search(ceiling, args.bisections.into(), |rate| {
        let run = step(Some(rate))?;
        let schedule = run.open_loop.expect("a run with a rate is an open loop");
        let point = Point::of(&sla, &run.total, &schedule);
        println!("{}", line(&point));
        Ok::<_, anyhow::Error>(point)
    })?;
    println!("{}", answer(&knee, &sla));
    let document = Document {
        fingerprint: &session.fingerprint,
        knobs: &knobs,
        seed: session.seeding.as_ref(),
        sla,
        knee: &knee,
    };
    let default = PathBuf::from("reports/knees").join(format!(
        "{}-{}.json",
        utc_stamp(SystemTime::now()),
        knobs.mode.name()
    ));
    run::save(&args.run, default, &document)
}

/// What is sought and how long it takes.
fn heading(sla: &Sla, config: &Config, bisections: u8) -> String {
    let steps = 1 + CLIMB.len() + usize::from(bisections);
    let each = config.warmup + config.duration;
    format!(
        "knee: the highest rate with {}, no failed call and no call left unsent; each step {} s \
         warm-up + {} s measured, at most {steps} steps ({} s)",
        bounds(sla),
        config.warmup.as_secs(),
        config.duration.as_secs(),
        (each * steps as u32).as_secs()
    )
}

/// `p99 ≤ 1.00ms` and the other bounds given.
fn bounds(sla: &Sla) -> String {
    let named = [
        ("p50", sla.p50_ns),
        ("p99", sla.p99_ns),
        ("p99.9", sla.p999_ns),
    ];
    let given: Vec<String> = named
        .iter()
        .filter_map(|(name, bound)| Some(format!("{name} ≤ {}", latency((*bound)?))))
        .collect();
    given.join(", ")
}

/// One step of the curve.
fn line(p: &Point) -> String {
    format!(
        "rate {:>9}/s  achieved {:>9.0}/s  p50 {:>8}  p99 {:>8}  p99.9 {:>8}  failed {:>5}  {}",
        p.rate,
        p.achieved,
        latency(p.latency_ns.p50),
        latency(p.latency_ns.p99),
        latency(p.latency_ns.p999),
        p.errors + p.timeouts,
        match &p.missed {
            None => "held".to_string(),
            Some(why) => format!("missed: {why}"),
        }
    )
}

/// The answer with its interval.
fn answer(knee: &Knee, sla: &Sla) -> String {
    let bounds = bounds(sla);
    match (knee.held, knee.missed) {
        (Some(held), Some(missed)) => format!(
            "knee        {held} calls/s holds {bounds}; {missed} calls/s did not: the knee lies in [{held}, {missed})"
        ),
        (Some(held), None) => format!(
            "knee        every step up to the ceiling held {bounds}: the knee is at or above {held} calls/s (the client's ceiling at this concurrency)"
        ),
        (None, _) => format!("knee        no rate tried held {bounds}, down to the lowest step"),
    }
}
