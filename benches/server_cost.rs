//! The embedded server's cost next to a real one's: the same fixed number of gets and puts
//! against the embedded server and against real asd on this machine (one node each), with
//! each process's CPU time per op (user and system) and the throughput the client gets.
//!
//! What it isolates: what the server in front of the client changes for the client. Against
//! the embedded default the suite claims to measure the client's own ceiling; that holds
//! while the embedded server is cheap next to the client, and what it leaves out shows next
//! to a real server's row. Held constant: one default client per server, one integer bin,
//! [`KEYS`] keys seeded first, 1, 32 or 256 tasks. Read the `÷ embedded` columns: the real
//! server's figures over the embedded one's, measured in the same run.
//!
//! The servers are measured interleaved (embedded, real, then the next case, with the
//! order swapped every round), so drift of this shared machine hits both. The real server
//! is one container-target node, on the host network where Docker has it (see
//! [`real_spec`] for the image); where Docker or the image is missing its rows are skipped
//! with the reason, and under `CI=true` that fails the run. Client CPU is this process's (`/proc/self/stat`: the client's tend
//! thread and Tokio workers), the embedded server's its child process's, the real server's
//! its container's cgroup (asd under tini; `cpu.stat` of cgroup v2, or the container's
//! process tree from `/proc` where there is none).
//!
//! A custom harness, not Criterion, because its results are CPU times and their ratios,
//! not durations; it follows Criterion's command line (filters, `--exact`, `--list`,
//! `--test`, `--quick`). Only a full unfiltered run with both servers replaces
//! `reports/server_cost.{md,json}`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use aerobench::cluster::container::{SOURCE_BUILD_TAG, check_docker, check_image};
use aerobench::cluster::{Backing, ContainerSpec, Kind, Settings, Target};
use aerobench::files::write_atomically;
use aerobench::meta::Fingerprint;
use aerospike_core::policy::{ReadPolicy, WritePolicy};
use aerospike_core::{Bins, Client, Key, as_bin};
use serde::Serialize;
use tokio::runtime::Runtime;

/// Keys seeded on each server; a multiple of every task count, so seeding covers them all.
const KEYS: u64 = 8_192;
const TASK_COUNTS: [usize; 3] = [1, 32, 256];
/// The command that writes the kept report (the image variables are added when set).
const COMMAND: &str = "cargo bench --bench server_cost";

#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Op {
    Get,
    Put,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Put => "put",
        }
    }
}

/// Which server a case runs against.
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Server {
    Embedded,
    Real,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Embedded => "embedded",
            Server::Real => "real",
        }
    }
}

/// One measured row: `server_cost/<server>/<op>/<tasks>`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Case {
    server: Server,
    op: Op,
    tasks: usize,
}

impl Case {
    /// Every case, in table order: per op and task count, embedded then real.
    fn all() -> Vec<Case> {
        let mut cases = Vec::new();
        for op in [Op::Get, Op::Put] {
            for tasks in TASK_COUNTS {
                for server in [Server::Embedded, Server::Real] {
                    cases.push(Case { server, op, tasks });
                }
            }
        }
        cases
    }

    fn name(self) -> String {
        let (server, op) = (self.server.name(), self.op.name());
        format!("server_cost/{server}/{op}/{}", self.tasks)
    }
}

/// CPU time split as the kernel accounts it: seconds, or µs per op once divided.
#[derive(Clone, Copy, Default, Serialize)]
struct Cpu {
    user: f64,
    system: f64,
}

impl Cpu {
    fn total(self) -> f64 {
        self.user + self.system
    }

    fn plus(self, other: Cpu) -> Cpu {
        Cpu {
            user: self.user + other.user,
            system: self.system + other.system,
        }
    }

    fn minus(self, earlier: Cpu) -> Cpu {
        Cpu {
            user: self.user - earlier.user,
            system: self.system - earlier.system,
        }
    }

    /// Microseconds per op of `self` seconds over `ops` ops.
    fn us_per_op(self, ops: u64) -> Cpu {
        Cpu {
            user: self.user * 1e6 / ops as f64,
            system: self.system * 1e6 / ops as f64,
        }
    }
}

/// Where a server's CPU time is read.
enum CpuSource {
    /// One process: `/proc/<pid>/stat`.
    Process(u32),
    /// A cgroup v2 directory: its `cpu.stat` covers every process of a container.
    Cgroup(PathBuf),
    /// A process and all its descendants, summed from `/proc` (no cgroup v2 here).
    Tree(u32),
}

impl CpuSource {
    fn read(&self) -> Result<Cpu, String> {
        match self {
            CpuSource::Process(pid) => proc_stat(&pid.to_string())
                .map(|(_, cpu)| cpu)
                .ok_or_else(|| format!("cannot read /proc/{pid}/stat")),
            CpuSource::Cgroup(dir) => cgroup_cpu(dir),
            CpuSource::Tree(root) => Ok(tree_cpu(*root)),
        }
    }
}

/// Parent pid and CPU seconds of process `pid` (`self` for this one) from `/proc`.
fn proc_stat(pid: &str) -> Option<(u32, Cpu)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name: ppid is field 4, utime and stime 14, 15.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let seconds = |i: usize| Some(fields.get(i)?.parse::<f64>().ok()? / ticks);
    let cpu = Cpu {
        user: seconds(11)?,
        system: seconds(12)?,
    };
    Some((fields.get(1)?.parse().ok()?, cpu))
}

/// `user_usec` and `system_usec` of a cgroup v2 `cpu.stat`.
fn cgroup_cpu(dir: &std::path::Path) -> Result<Cpu, String> {
    let path = dir.join("cpu.stat");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .map(|us| us / 1e6)
            .ok_or_else(|| format!("{} has no {name}", path.display()))
    };
    Ok(Cpu {
        user: field("user_usec ")?,
        system: field("system_usec ")?,
    })
}

/// CPU seconds of `root` and every live descendant.
fn tree_cpu(root: u32) -> Cpu {
    let processes: Vec<(u32, u32, Cpu)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let (ppid, cpu) = proc_stat(&pid.to_string())?;
            Some((pid, ppid, cpu))
        })
        .collect();
    let mut tree = vec![root];
    let mut total = Cpu::default();
    while let Some(pid) = tree.pop() {
        for &(child, parent, cpu) in &processes {
            if child == pid {
                total = total.plus(cpu);
            }
            if parent == pid {
                tree.push(child);
            }
        }
    }
    total
}

/// How a container's CPU is read: its main process's cgroup v2 directory when the
/// container's id is in its path (the process is this host's), else its process tree.
fn container_cpu(runtime: &Runtime, container: &str) -> Result<CpuSource, String> {
    use testcontainers::bollard::Docker;
    let (id, pid) = runtime.block_on(async {
        let docker = Docker::connect_with_defaults().map_err(|e| e.to_string())?;
        let info = docker
            .inspect_container(container, None)
            .await
            .map_err(|e| e.to_string())?;
        let pid = info.state.and_then(|s| s.pid).unwrap_or(0);
        Ok::<_, String>((info.id.unwrap_or_default(), pid as u32))
    })?;
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    if pid == 0 || id.is_empty() || !cgroups.contains(&id) {
        return Err(format!(
            "the processes of container {container} are not visible from this process, \
             so its CPU time cannot be read (Docker on another host or pid namespace?)"
        ));
    }
    let cgroup = cgroups
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .zip(cgroup2_mount())
        .map(|(path, mount)| mount.join(path.trim_start_matches('/')))
        .filter(|dir| dir.join("cpu.stat").exists());
    Ok(cgroup.map_or(CpuSource::Tree(pid), CpuSource::Cgroup))
}

/// Where cgroup v2 is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on hybrid
/// hosts), from this process's mount table.
fn cgroup2_mount() -> Option<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    table.lines().find_map(|line| {
        let (fields, fs) = line.split_once(" - ")?;
        let cgroup2 = fs.split_whitespace().next()? == "cgroup2";
        cgroup2.then(|| fields.split_whitespace().nth(4).map(PathBuf::from))?
    })
}

/// One server with its client.
struct Side {
    server: Server,
    /// Keeps the server alive.
    _target: Target,
    client: Arc<Client>,
    fingerprint: Fingerprint,
    /// The container's `name:tag`.
    image: Option<String>,
    cpu: CpuSource,
}

/// Starts a server of `settings` (and `spec` for a container), connects a default
/// client and seeds [`KEYS`] keys with 256 tasks, which also opens the pool.
fn start_side(
    runtime: &Runtime,
    server: Server,
    settings: Settings,
    spec: Option<ContainerSpec>,
) -> Result<Side, String> {
    let target = match spec {
        Some(spec) => Target::start_container(settings, spec),
        None => Target::start(settings),
    }
    .map_err(|e| e.to_string())?;
    let cpu = match &target.backing {
        Backing::Embedded(embedded) => CpuSource::Process(embedded.pid()),
        Backing::Container(cluster) => container_cpu(runtime, &cluster.containers[0])?,
        Backing::Remote => return Err("no server process to measure".into()),
    };
    let client = runtime
        .block_on(target.connect(&target.client_policy()))
        .map_err(|e| e.to_string())?;
    let client = Arc::new(client);
    let fingerprint = runtime.block_on(target.fingerprint(&client));
    eprintln!(
        "server_cost: {} measured against {fingerprint}",
        server.name()
    );
    let seeded = runtime.block_on(run(client.clone(), Op::Put, KEYS, 256));
    if let Some(e) = seeded.last_failure {
        return Err(format!("seeding {}: {e}", server.name()));
    }
    Ok(Side {
        server,
        image: target.container().map(|c| c.image.clone()),
        _target: target,
        client,
        fingerprint,
        cpu,
    })
}

/// The real server's side, or why it is skipped: Docker or the image missing (a failure
/// under `CI=true`). A server that starts but fails ends the run.
fn real_side(runtime: &Runtime) -> Result<Side, String> {
    let spec = real_spec();
    let missing = check_docker().and_then(|_| check_image(&spec.reference()));
    if let Err(why) = missing {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            groups::exit_with(format!(
                "server_cost: CI=true and the real server is missing: {why}"
            ));
        }
        return Err(why.to_string());
    }
    start_side(runtime, Server::Real, one_node(Kind::Container), Some(spec))
        .map_err(|e| groups::exit_with(format!("server_cost: real server: {e}")))
}

/// The real server's image: `AEROBENCH_IMAGE` / `AEROBENCH_IMAGE_TAG` when set, else the
/// official release when it is loaded, else its source build (which `scripts/test` loads).
fn real_spec() -> ContainerSpec {
    let mut spec = ContainerSpec::from_env().unwrap_or_else(|e| groups::exit_with(e));
    let chosen = ["AEROBENCH_IMAGE", "AEROBENCH_IMAGE_TAG"]
        .iter()
        .any(|k| std::env::var_os(k).is_some());
    if !chosen && check_image(&spec.reference()).is_err() {
        spec.tag = SOURCE_BUILD_TAG.into();
    }
    spec
}

fn one_node(kind: Kind) -> Settings {
    Settings {
        kind,
        ..Settings::parse(|_| None).unwrap_or_else(|e| groups::exit_with(e))
    }
}

fn key(id: u64) -> Key {
    Key::new("test", "server_cost", (id as i64).into()).expect("valid key")
}

/// What one run did: the ops it ran and how many failed (timeouts on a loaded machine),
/// with the last failure's message.
#[derive(Default)]
struct Ran {
    ops: u64,
    failures: u64,
    last_failure: Option<String>,
}

/// Runs `ops` operations (rounded down to a multiple of `tasks`) over `tasks` tasks, key
/// ids cycling over [`KEYS`].
async fn run(client: Arc<Client>, op: Op, ops: u64, tasks: usize) -> Ran {
    let per_task = ops / tasks as u64;
    let handles: Vec<_> = (0..tasks as u64)
        .map(|t| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut ran = Ran::default();
                for i in 0..per_task {
                    let id = (t * per_task + i) % KEYS;
                    let result = match op {
                        Op::Get => client
                            .get(&ReadPolicy::default(), &key(id), Bins::All)
                            .await
                            .map(drop),
                        Op::Put => {
                            let bins = [as_bin!("v", id as i64)];
                            client.put(&WritePolicy::default(), &key(id), &bins).await
                        }
                    };
                    if let Err(e) = result {
                        ran.failures += 1;
                        ran.last_failure = Some(format!("{} failed: {e}", op.name()));
                    }
                }
                ran
            })
        })
        .collect();
    let mut ran = Ran {
        ops: per_task * tasks as u64,
        ..Ran::default()
    };
    for handle in handles {
        let task = handle.await.unwrap_or_else(|e| Ran {
            failures: per_task,
            last_failure: Some(format!("task failed: {e}")),
            ..Ran::default()
        });
        ran.failures += task.failures;
        ran.last_failure = task.last_failure.or(ran.last_failure);
    }
    ran
}

/// One case's totals over the rounds.
#[derive(Clone, Default)]
struct Tally {
    ops: u64,
    seconds: f64,
    client: Cpu,
    server: Cpu,
    /// Throughput of each round.
    tps: Vec<f64>,
    failures: u64,
    last_failure: Option<String>,
}

/// Runs one case once and adds it to `tally`.
fn measure(runtime: &Runtime, side: &Side, case: Case, ops: u64, tally: &mut Tally) {
    let or_exit = |r: Result<Cpu, String>| {
        r.unwrap_or_else(|e| groups::exit_with(format!("server_cost: {}: {e}", case.name())))
    };
    let client_cpu = || or_exit(CpuSource::Process(std::process::id()).read());
    let (client0, server0) = (client_cpu(), or_exit(side.cpu.read()));
    let started = Instant::now();
    let ran = runtime.block_on(run(side.client.clone(), case.op, ops, case.tasks));
    let seconds = started.elapsed().as_secs_f64();
    tally.client = tally.client.plus(client_cpu().minus(client0));
    tally.server = tally.server.plus(or_exit(side.cpu.read()).minus(server0));
    tally.ops += ran.ops;
    tally.seconds += seconds;
    tally.tps.push(ran.ops as f64 / seconds);
    tally.failures += ran.failures;
    tally.last_failure = ran.last_failure.or(tally.last_failure.take());
}

/// How much to run: `ops` per case and round.
struct Plan {
    rounds: usize,
    ops: u64,
}

/// The command line, read the way Criterion reads it.
struct Args {
    test: bool,
    quick: bool,
    list: bool,
    exact: bool,
    filters: Vec<String>,
}

/// Flags of Criterion's command line that take a value, so the value is not read as a
/// filter when `cargo bench -- <flags>` passes them to every bench binary.
const VALUE_FLAGS: [&str; 16] = [
    "--color",
    "--save-baseline",
    "--baseline",
    "--baseline-lenient",
    "--format",
    "--profile-time",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--plotting-backend",
    "--output-format",
];

impl Args {
    /// Without `--bench` (as under `cargo test`) the binary runs in test mode.
    fn parse(args: impl Iterator<Item = String>) -> Args {
        let mut parsed = Args {
            test: false,
            quick: false,
            list: false,
            exact: false,
            filters: Vec::new(),
        };
        let mut args = args.into_iter();
        let mut bench = false;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => bench = true,
                "--test" => parsed.test = true,
                "--quick" => parsed.quick = true,
                "--list" => parsed.list = true,
                "--exact" => parsed.exact = true,
                flag if VALUE_FLAGS.contains(&flag) => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                filter => parsed.filters.push(filter.to_string()),
            }
        }
        parsed.test |= !bench;
        parsed
    }

    fn selects(&self, name: &str) -> bool {
        self.filters.is_empty()
            || self.filters.iter().any(|f| match self.exact {
                true => name == f,
                false => name.contains(f.as_str()),
            })
    }

    fn plan(&self) -> Plan {
        match (self.test, self.quick) {
            (true, _) => Plan {
                rounds: 1,
                ops: 512,
            },
            (_, true) => Plan {
                rounds: 1,
                ops: 20_000,
            },
            _ => Plan {
                rounds: 5,
                ops: 30_000,
            },
        }
    }
}

fn main() {
    let args = Args::parse(std::env::args().skip(1));
    let cases: Vec<Case> = Case::all()
        .into_iter()
        .filter(|c| args.selects(&c.name()))
        .collect();
    if args.list {
        for case in &cases {
            println!("{}: benchmark", case.name());
        }
        return;
    }
    if cases.is_empty() {
        return;
    }
    let runtime = groups::runtime(0);
    let wants = |server| cases.iter().any(|c| c.server == server);
    let mut sides = Vec::new();
    if wants(Server::Embedded) {
        let side = start_side(&runtime, Server::Embedded, one_node(Kind::Embedded), None);
        sides.push(side.unwrap_or_else(|e| groups::exit_with(format!("server_cost: {e}"))));
    }
    let mut skipped = None;
    if wants(Server::Real) {
        match real_side(&runtime) {
            Ok(side) => sides.push(side),
            Err(why) => {
                eprintln!("server_cost: real server skipped: {why}");
                skipped = Some(why);
            }
        }
    }
    let plan = args.plan();
    let load_before = load_average();
    let rows = rows(&measure_all(&runtime, &sides, &cases, &plan));
    let report = Report {
        sides: &sides,
        rows,
        plan,
        skipped,
        load: [load_before, load_average()],
    };
    let table = render(&report);
    println!("{table}");
    if !args.test && !args.quick && args.filters.is_empty() && report.skipped.is_none() {
        write_report(&table, &report);
    }
}

/// What a run found, with the conditions it ran under.
struct Report<'a> {
    sides: &'a [Side],
    rows: Vec<Row>,
    plan: Plan,
    skipped: Option<String>,
    /// `/proc/loadavg`'s 1, 5 and 15 minute figures before and after measuring: other
    /// work on the machine shows in every number.
    load: [String; 2],
}

fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every case against its server, `plan.rounds` times; within a round each op and task
/// count runs on both servers back to back, the first server alternating by round.
fn measure_all(
    runtime: &Runtime,
    sides: &[Side],
    cases: &[Case],
    plan: &Plan,
) -> Vec<(Case, Tally)> {
    let mut tallies: Vec<(Case, Tally)> = cases
        .iter()
        .filter(|c| sides.iter().any(|s| s.server == c.server))
        .map(|&c| (c, Tally::default()))
        .collect();
    let same_row =
        |a: &(Case, Tally), b: &(Case, Tally)| (a.0.op, a.0.tasks) == (b.0.op, b.0.tasks);
    for round in 0..plan.rounds {
        for pair in tallies.chunk_by_mut(same_row) {
            let n = pair.len();
            for i in 0..n {
                let (case, tally) = &mut pair[if round % 2 == 0 { i } else { n - 1 - i }];
                let side = sides
                    .iter()
                    .find(|s| s.server == case.server)
                    .expect("started");
                measure(runtime, side, *case, plan.ops, tally);
            }
        }
    }
    tallies
}

/// One table row: a case's figures per op over all rounds.
#[derive(Serialize)]
struct Row {
    name: String,
    server: Server,
    op: Op,
    tasks: usize,
    ops: u64,
    client_us_per_op: Cpu,
    server_us_per_op: Cpu,
    ops_per_sec: f64,
    /// The slowest and fastest round.
    ops_per_sec_range: (f64, f64),
    /// Real over embedded for the same op and task count: client CPU, server CPU, ops/s.
    vs_embedded: Option<(f64, f64, f64)>,
    /// Failed ops (counted in `ops`) and the last one's message.
    failures: u64,
    last_failure: Option<String>,
}

fn rows(tallies: &[(Case, Tally)]) -> Vec<Row> {
    let figures = |t: &Tally| {
        let (client, server) = (t.client.us_per_op(t.ops), t.server.us_per_op(t.ops));
        (client, server, t.ops as f64 / t.seconds)
    };
    let embedded = |case: &Case| {
        tallies
            .iter()
            .find(|(c, _)| c.server == Server::Embedded && (c.op, c.tasks) == (case.op, case.tasks))
            .map(|(_, t)| figures(t))
    };
    tallies
        .iter()
        .map(|(case, tally)| {
            let (client, server, tps) = figures(tally);
            let vs_embedded =
                embedded(case)
                    .filter(|_| case.server == Server::Real)
                    .map(|(c, s, t)| {
                        (
                            client.total() / c.total(),
                            server.total() / s.total(),
                            tps / t,
                        )
                    });
            let fold = |f: fn(f64, f64) -> f64, start| tally.tps.iter().copied().fold(start, f);
            Row {
                name: case.name(),
                server: case.server,
                op: case.op,
                tasks: case.tasks,
                ops: tally.ops,
                client_us_per_op: client,
                server_us_per_op: server,
                ops_per_sec: tps,
                ops_per_sec_range: (fold(f64::min, f64::MAX), fold(f64::max, 0.0)),
                vs_embedded,
                failures: tally.failures,
                last_failure: tally.last_failure.clone(),
            }
        })
        .collect()
}

/// The table, headed by what each server is.
fn render(report: &Report) -> String {
    let Report { plan, load, .. } = report;
    let mut out = format!(
        "server_cost: per op, {} gets and {} puts per row and round (fewer when not a multiple \
         of the tasks), {} round(s), the servers interleaved; one node each, default client \
         policy; load average {} before, {} after\n",
        plan.ops, plan.ops, plan.rounds, load[0], load[1]
    );
    for side in report.sides {
        let image = side
            .image
            .as_deref()
            .map_or(String::new(), |i| format!(" image={i}"));
        let name = side.server.name();
        out.push_str(&format!("{name}: {}{image}\n", side.fingerprint));
    }
    if let Some(why) = &report.skipped {
        out.push_str(&format!("real: skipped: {why}\n"));
    }
    out.push_str(
        "\n| op | tasks | server | client CPU µs/op (user + sys) | server CPU µs/op (user + sys) \
         | ops/s (rounds' range) | real ÷ embedded: client CPU, server CPU, ops/s |\n\
         |---|---:|---|---:|---:|---:|---|\n",
    );
    for r in &report.rows {
        let cpu = |c: Cpu| format!("{:.2} ({:.2} + {:.2})", c.total(), c.user, c.system);
        // A zero below (a run too short for the clock tick) has no ratio.
        let ratio = |x: f64| match x.is_finite() {
            true => format!("{x:.2}"),
            false => "n/a".into(),
        };
        let ratios = r.vs_embedded.map_or(String::new(), |(c, s, t)| {
            format!("{}, {}, {}", ratio(c), ratio(s), ratio(t))
        });
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.0} ({:.0}–{:.0}) | {ratios} |\n",
            r.op.name(),
            r.tasks,
            r.server.name(),
            cpu(r.client_us_per_op),
            cpu(r.server_us_per_op),
            r.ops_per_sec,
            r.ops_per_sec_range.0,
            r.ops_per_sec_range.1,
        ));
    }
    for r in report.rows.iter().filter(|r| r.failures > 0) {
        let last = r.last_failure.as_deref().unwrap_or_default();
        let last = last.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push_str(&format!(
            "\n{}: {} of {} ops failed (counted above), the last: {last}",
            r.name, r.failures, r.ops
        ));
    }
    out
}

/// The command as run, with the image variables that chose the real server.
fn command() -> String {
    let vars: String = ["AEROBENCH_IMAGE", "AEROBENCH_IMAGE_TAG"]
        .iter()
        .filter_map(|k| Some(format!("{k}={} ", std::env::var(k).ok()?)))
        .collect();
    format!("{vars}{COMMAND}")
}

/// Writes `reports/server_cost.md` and `.json` through temporary files and renames, so
/// an interrupted run leaves the previous report whole.
fn write_report(table: &str, report: &Report) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let servers: serde_json::Map<String, serde_json::Value> = report
        .sides
        .iter()
        .map(|s| {
            let about = serde_json::json!({ "fingerprint": s.fingerprint, "image": s.image });
            (s.server.name().to_string(), about)
        })
        .collect();
    let json = serde_json::json!({
        "command": command(),
        "servers": servers,
        "rounds": report.plan.rounds,
        "ops_per_row_and_round": report.plan.ops,
        "load_average_before_after": report.load,
        "rows": report.rows,
    });
    let files = [
        (
            "server_cost.md",
            format!("{table}\nCommand: `{}`\n", command()),
        ),
        (
            "server_cost.json",
            serde_json::to_string_pretty(&json).unwrap_or_default(),
        ),
    ];
    for (name, text) in files {
        if let Err(e) = write_atomically(&dir.join(name), text.as_bytes()) {
            eprintln!("server_cost: {e}");
        }
    }
}
