//! From the probes' figures to one verdict per suspect and the ceiling. Every rule
//! compares figures measured in this doctor run: shares of the cores over a probe's own
//! wall time, or one probe's rate against another's on the same target minutes apart;
//! never an absolute time. Thresholds are wide, since the machine may be shared.

use serde::Serialize;

use super::network::Network;
use super::probes::{Change, Sample};
use super::routing::Routing;
use crate::durations::format_ns;

/// A share of the cores at or above which they are saturated.
const SATURATED: f64 = 0.85;
/// Cores that client and server share are full at this busy share: each side waits for
/// the other's wake-ups, so a shared pair rarely shows more even when it is the ceiling
/// (and more tasks must have gained nothing, see `room`).
const SHARED_BUSY: f64 = 0.75;
/// One thread at or above this share of a core is a ceiling of its own.
const THREAD_SATURATED: f64 = 0.9;
/// A knob whose change lifts TPS by this factor sets the ceiling.
const GAIN: f64 = 1.25;
/// Four times the tasks lifting TPS by this factor: the run lacks concurrency.
const CONCURRENCY_GAIN: f64 = 1.5;
/// The server's own time at or above this share of a call: the server sets the pace.
const SERVER_SHARE: f64 = 0.75;
/// The server's own time at or above this many loopback connect round trips: far beyond
/// a network hop, the server itself is slow (a server's tens of µs are a few of them).
const SERVER_TRIPS: f64 = 20.0;
/// A node's connect round trip this far above the loopback floor: a slow path.
const PATH_RATIO: f64 = 3.0;
/// A p99.9 this many times the sized pool's: calls starve for connections.
const TAIL_RATIO: f64 = 5.0;
/// Failed calls at or above this share of all calls.
const FAILED_SHARE: f64 = 0.01;

/// What may set the ceiling, in the order a ceiling is named: an artifact of the path or
/// the client's knobs binds before the cores, and the cores before latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Suspect {
    Routing,
    NetworkPath,
    ConnectionPool,
    Timeouts,
    ClientCpu,
    ServerCpu,
    CoLocation,
    SlowServer,
    Concurrency,
    Failures,
}

impl Suspect {
    pub fn title(self) -> &'static str {
        match self {
            Suspect::Routing => "routing",
            Suspect::NetworkPath => "network path",
            Suspect::ConnectionPool => "connection pool",
            Suspect::Timeouts => "per-op timeouts",
            Suspect::ClientCpu => "client CPU",
            Suspect::ServerCpu => "server CPU",
            Suspect::CoLocation => "co-location",
            Suspect::SlowServer => "slow server",
            Suspect::Concurrency => "concurrency",
            Suspect::Failures => "failures as throughput",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    RuledIn,
    RuledOut,
    Unknown,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::RuledIn => "RULED IN",
            Verdict::RuledOut => "ruled out",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One suspect's verdict, the figures that decided it, and what to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub suspect: Suspect,
    pub verdict: Verdict,
    pub evidence: String,
    pub fix: String,
}

/// Ruled in when the rule found it, else out.
fn judged(bad: bool) -> Verdict {
    match bad {
        true => Verdict::RuledIn,
        false => Verdict::RuledOut,
    }
}

fn finding(suspect: Suspect, verdict: Verdict, evidence: String, fix: &str) -> Finding {
    Finding {
        suspect,
        verdict,
        evidence,
        fix: fix.to_string(),
    }
}

/// Everything the probes measured, and where the client and server may run.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Every probe's figures, in the order they ran.
    pub probes: Vec<Sample>,
    pub routing: Routing,
    pub network: Network,
    /// Cores the client may use, and the machine's.
    pub client_cores: usize,
    pub machine_cores: usize,
    /// Cores the server may use, where known.
    pub server_cores: Option<usize>,
    /// Cores the client and the server share: `None` when unknown (remote nodes).
    pub shared_cores: Option<usize>,
}

impl Evidence {
    fn sample(&self, change: Change) -> Option<&Sample> {
        self.probes.iter().find(|s| s.probe.change == change)
    }

    /// The configuration as given (always the first probe).
    fn given(&self) -> &Sample {
        &self.probes[0]
    }

    /// The better TPS and the lower CPU per op of the two runs of the configuration as
    /// given: a changed knob must beat both to count.
    fn bracket(&self) -> (f64, f64) {
        let runs = || std::iter::once(self.given()).chain(self.sample(Change::Repeat));
        let tps = runs().map(|s| s.tps).fold(0.0, f64::max);
        let cpu = runs()
            .map(|s| s.cpu_ns_per_op)
            .fold(f64::INFINITY, f64::min);
        (tps.max(1e-9), cpu.max(1e-9))
    }
}

/// Every suspect's finding, in [`Suspect`] order, and the ceiling: the first ruled in.
pub fn diagnose(e: &Evidence) -> (Option<Suspect>, Vec<Finding>) {
    let mut findings = vec![routing(e), network(&e.network), pool(e), timeouts(e)];
    let artifact = findings
        .iter()
        .find(|f| f.verdict == Verdict::RuledIn)
        .map(|f| f.suspect);
    findings.extend([
        client_cpu(e, artifact),
        server_cpu(e, artifact),
        co_location(e, artifact),
    ]);
    let slow = slow_server(e);
    let concurrency = concurrency(e, slow.verdict == Verdict::RuledIn);
    findings.extend([slow, concurrency, failures(e)]);
    let ceiling = findings
        .iter()
        .find(|f| f.verdict == Verdict::RuledIn)
        .map(|f| f.suspect);
    (ceiling, findings)
}

/// Whether the client is bound by its own cores: it fills them, one of its threads fills
/// a core, or it is confined to fewer cores than the machine has and they are full.
fn client_bound(e: &Evidence) -> bool {
    let cpu = e.given().cpu;
    let confined = e.client_cores < e.machine_cores;
    cpu.client_cores / e.client_cores.max(1) as f64 >= SATURATED
        || cpu.busiest_thread >= THREAD_SATURATED
        || (confined && cpu.machine_busy.is_some_and(|b| b >= SATURATED))
}

/// The more-tasks probe's tasks and its TPS over the given one's, when it is at least
/// [`CONCURRENCY_GAIN`]: nothing the given load used was full.
fn room(e: &Evidence) -> Option<(usize, f64)> {
    let more = e.sample(Change::MoreTasks)?;
    let gain = more.tps / e.bracket().0;
    (gain >= CONCURRENCY_GAIN).then_some((more.probe.tasks, gain))
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

fn rate(tps: f64) -> String {
    match tps {
        t if t >= 10_000.0 => format!("{:.0}K", t / 1000.0),
        t if t >= 1_000.0 => format!("{:.1}K", t / 1000.0),
        t => format!("{t:.0}"),
    }
}

fn routing(e: &Evidence) -> Finding {
    let r = &e.routing;
    let list = match r.services_alternate {
        true => "services-alternate",
        false => "standard services",
    };
    let Some(size) = r.cluster_size else {
        return finding(
            Suspect::Routing,
            Verdict::Unknown,
            "no node answered its peers list".into(),
            "check that info peers-clear-std/-alt answer",
        );
    };
    let misrouted = e.given().misrouted.map_or(String::new(), |m| {
        format!("; {m} requests reached a node not their master")
    });
    let share = e
        .given()
        .node_commands
        .as_ref()
        .filter(|c| c.len() > 1)
        .map_or(String::new(), |c| {
            let all = c.iter().sum::<u64>().max(1) as f64;
            let shares: Vec<String> = c.iter().map(|&n| percent(n as f64 / all)).collect();
            format!(
                "; ops per node {} (masters spread evenly)",
                shares.join(" / ")
            )
        });
    let evidence = format!(
        "found {} of {size} nodes; {}{misrouted}{share}",
        r.nodes_found,
        match r.unusable.is_empty() {
            true => format!("every announced {list} address answers"),
            false => format!(
                "announced {list} addresses that refuse a connection: {}",
                r.unusable.join(", ")
            ),
        },
    );
    let misrouting = e
        .given()
        .misrouted
        .is_some_and(|m| m as f64 > FAILED_SHARE * e.given().calls as f64);
    let bad = r.nodes_found < size || !r.unusable.is_empty() || misrouting;
    finding(
        Suspect::Routing,
        judged(bad),
        evidence,
        match bad {
            true => {
                "make the nodes announce addresses this client reaches (access-address / alternate-access-address), or switch lists with AEROSPIKE_SERVICES_ALTERNATE"
            }
            false => "none needed",
        },
    )
}

fn network(n: &Network) -> Finding {
    let proxied: Vec<String> = n
        .paths
        .iter()
        .filter_map(|p| Some(format!("{} via {}", p.address, p.proxy.as_ref()?)))
        .collect();
    let trips: Vec<String> = n
        .paths
        .iter()
        .map(|p| {
            p.connect_ns
                .map_or("no answer".into(), |ns| format_ns(ns as f64))
        })
        .collect();
    let Some(ratio) = n.worst_ratio() else {
        return finding(
            Suspect::NetworkPath,
            Verdict::Unknown,
            format!(
                "connect round trips {}; no loopback floor",
                trips.join(", ")
            ),
            "none known",
        );
    };
    let evidence = format!(
        "connect round trip per node {} vs loopback floor {} (worst {ratio:.1}×); {}",
        trips.join(", "),
        format_ns(n.floor_ns.unwrap_or(0) as f64),
        match proxied.is_empty() {
            true => "no userspace proxy on the path".to_string(),
            false => format!("userspace proxy: {}", proxied.join(", ")),
        }
    );
    let bad = !proxied.is_empty() || ratio >= PATH_RATIO;
    finding(
        Suspect::NetworkPath,
        judged(bad),
        evidence,
        match (bad, proxied.is_empty()) {
            (true, false) => {
                "reach the nodes without the proxy: host networking (AEROBENCH_CONTAINER_NETWORK=host), or a direct route"
            }
            (true, true) => {
                "run the client nearer the nodes, or more tasks to cover the round trip"
            }
            _ => "none needed",
        },
    )
}

fn pool(e: &Evidence) -> Finding {
    let given = e.given();
    let nodes = e.routing.nodes_found.max(1);
    let per_node = given.probe.tasks.div_ceil(nodes);
    let cap = given.probe.max_conns_per_node;
    let Some(sized) = e.sample(Change::PoolSized) else {
        return finding(
            Suspect::ConnectionPool,
            Verdict::RuledOut,
            format!(
                "{} tasks over {nodes} node(s) = {per_node} per node ≤ max_conns_per_node {cap}: every call can hold a connection",
                given.probe.tasks
            ),
            "none needed",
        );
    };
    let gain = sized.tps / e.bracket().0;
    let tail = given.p999_ns as f64 / sized.p999_ns.max(1) as f64;
    let starved = given.failed > 0 && given.failed_share() >= 10.0 * sized.failed_share();
    let bad = gain >= GAIN || tail >= TAIL_RATIO || starved;
    let evidence = format!(
        "{per_node} tasks per node on {cap} connections: {} TPS, p99.9 {}, {} failed; sized to {}: {} TPS ({gain:.2}×), p99.9 {} ({tail:.1}× lower), {} failed",
        rate(given.tps),
        format_ns(given.p999_ns as f64),
        given.failed,
        sized.probe.max_conns_per_node,
        rate(sized.tps),
        format_ns(sized.p999_ns as f64),
        sized.failed,
    );
    finding(
        Suspect::ConnectionPool,
        judged(bad),
        evidence,
        match bad {
            true => {
                "size the pool to the tasks per node: --max-conns (max_conns_per_node) ≥ tasks ÷ nodes"
            }
            false => "none needed",
        },
    )
}

fn timeouts(e: &Evidence) -> Finding {
    let Some(off) = e.sample(Change::TimeoutsOff) else {
        return finding(
            Suspect::Timeouts,
            Verdict::RuledOut,
            "the per-op timeouts are off already (--timeout-ms 0)".into(),
            "none needed",
        );
    };
    let (tps, cpu_per_op) = e.bracket();
    let gain = off.tps / tps;
    let cpu = off.cpu_ns_per_op / cpu_per_op;
    let bad = gain >= GAIN && cpu <= 0.9;
    finding(
        Suspect::Timeouts,
        judged(bad),
        format!(
            "timeouts off: {} TPS vs {} ({gain:.2}×), CPU per op {} vs {} ({cpu:.2}×), against the better of two runs as given",
            rate(off.tps),
            rate(tps),
            format_ns(off.cpu_ns_per_op),
            format_ns(cpu_per_op),
        ),
        match bad {
            true => {
                "turn the per-op timeout off (--timeout-ms 0) or bound calls without a timer per op"
            }
            false => "none needed",
        },
    )
}

/// A saturated resource behind an artifact that binds first is not the ceiling yet.
/// A resource that more tasks got more out of was not full, whatever its share says
/// (other processes' use of the cores counts in a share).
fn resource(
    e: &Evidence,
    suspect: Suspect,
    saturated: bool,
    evidence: String,
    artifact: Option<Suspect>,
    fix: &str,
) -> Finding {
    if let (true, Some((tasks, gain))) = (saturated, room(e)) {
        return finding(
            suspect,
            Verdict::RuledOut,
            format!("{evidence}; but {tasks} tasks reached {gain:.2}× the TPS: it had room"),
            "none needed",
        );
    }
    match (saturated, artifact) {
        (true, Some(first)) => finding(
            suspect,
            Verdict::RuledOut,
            format!(
                "{evidence}; saturated, but {} binds first: re-run doctor once it is fixed",
                first.title()
            ),
            "after the ruled-in suspect",
        ),
        (true, None) => finding(suspect, Verdict::RuledIn, evidence, fix),
        (false, _) => finding(suspect, Verdict::RuledOut, evidence, "none needed"),
    }
}

fn client_cpu(e: &Evidence, artifact: Option<Suspect>) -> Finding {
    let cpu = e.given().cpu;
    let share = cpu.client_cores / e.client_cores.max(1) as f64;
    resource(
        e,
        Suspect::ClientCpu,
        client_bound(e),
        format!(
            "client process {:.2} of the {} core(s) it may use of the machine's {} ({}), busiest thread {:.2} core; those cores {} busy (all processes)",
            cpu.client_cores,
            e.client_cores,
            e.machine_cores,
            percent(share),
            cpu.busiest_thread,
            cpu.machine_busy.map_or("?".into(), percent),
        ),
        artifact,
        "give the client more cores (AEROBENCH_CLIENT_CPUS, or fewer other processes on them), or less CPU per op (batch calls)",
    )
}

fn server_cpu(e: &Evidence, artifact: Option<Suspect>) -> Finding {
    let (Some(used), Some(cores)) = (e.given().cpu.server_cores, e.server_cores) else {
        return finding(
            Suspect::ServerCpu,
            Verdict::Unknown,
            "the server's CPU is not readable from here (remote nodes)".into(),
            "read it on the nodes (top, or asinfo statistics) while doctor runs",
        );
    };
    let share = used / cores.max(1) as f64;
    resource(
        e,
        Suspect::ServerCpu,
        share >= SATURATED,
        format!(
            "server {used:.2} of the {cores} core(s) it may use ({})",
            percent(share)
        ),
        artifact,
        "give the server more cores (AEROBENCH_SERVER_CPUS), or more nodes",
    )
}

fn co_location(e: &Evidence, artifact: Option<Suspect>) -> Finding {
    let cpu = e.given().cpu;
    let (Some(shared), Some(busy), Some(server)) =
        (e.shared_cores, cpu.machine_busy, cpu.server_cores)
    else {
        return finding(
            Suspect::CoLocation,
            Verdict::Unknown,
            "where the server runs is not known from here".into(),
            "none known",
        );
    };
    if shared == 0 {
        return finding(
            Suspect::CoLocation,
            Verdict::RuledOut,
            "client and server run on disjoint cores".into(),
            "none needed",
        );
    }
    let alone = client_bound(e)
        || e.server_cores
            .is_some_and(|c| server / c.max(1) as f64 >= SATURATED);
    let others = (busy * e.client_cores as f64 - cpu.client_cores - server).max(0.0);
    let evidence = format!(
        "client {:.2} + server {server:.2} cores on {shared} shared core(s); the client's {} core(s) were {} busy (other processes ≈ {others:.2} cores)",
        cpu.client_cores,
        e.client_cores,
        percent(busy)
    );
    if alone {
        return finding(
            Suspect::CoLocation,
            Verdict::RuledOut,
            format!("{evidence}; one side alone fills its cores (above)"),
            "none needed",
        );
    }
    resource(
        e,
        Suspect::CoLocation,
        busy >= SHARED_BUSY,
        evidence,
        artifact,
        "place them apart (AEROBENCH_SERVER_CPUS and AEROBENCH_CLIENT_CPUS on disjoint cores), or the server on another machine; on this machine the shared cores are the ceiling",
    )
}

fn slow_server(e: &Evidence) -> Finding {
    let given = e.given();
    let call = given.mean_call_ns();
    let Some(server) = given.server_ns_per_request else {
        return finding(
            Suspect::SlowServer,
            Verdict::Unknown,
            format!(
                "the server does not report its time per request (mean call {})",
                format_ns(call)
            ),
            "compare with the server's latency histograms (info latencies:)",
        );
    };
    let share = server / call.max(1.0);
    let trips = e.network.floor_ns.map(|f| server / f.max(1) as f64);
    let bad = share >= SERVER_SHARE && trips.is_none_or(|t| t >= SERVER_TRIPS);
    finding(
        Suspect::SlowServer,
        judged(bad),
        format!(
            "the server's own time {} of a mean call of {} ({}; the call from tasks ÷ calls/s), {} loopback connect round trips",
            format_ns(server),
            format_ns(call),
            percent(share),
            trips.map_or("?".into(), |t| format!("{t:.0}")),
        ),
        match bad {
            true => "a faster server (or more nodes); more tasks only hide its time",
            false => "none needed",
        },
    )
}

fn concurrency(e: &Evidence, slow: bool) -> Finding {
    let given = e.given();
    let Some(more) = e.sample(Change::MoreTasks) else {
        return finding(
            Suspect::Concurrency,
            Verdict::Unknown,
            "not probed".into(),
            "none known",
        );
    };
    let gain = more.tps / e.bracket().0;
    let little = given.probe.tasks as f64 / given.p50_ns.max(1) as f64 * 1e9;
    let evidence = format!(
        "{} task(s) ÷ p50 {} = {} calls/s (Little's law), reached {}; {} tasks reached {gain:.2}× the TPS",
        given.probe.tasks,
        format_ns(given.p50_ns as f64),
        rate(little),
        rate(given.calls_per_s),
        more.probe.tasks
    );
    let (verdict, evidence) = match (gain >= CONCURRENCY_GAIN, slow) {
        (true, false) => (Verdict::RuledIn, evidence),
        (true, true) => (
            Verdict::RuledOut,
            format!("{evidence}: tasks wait on the server's time (slow server)"),
        ),
        _ => (Verdict::RuledOut, evidence),
    };
    finding(
        Suspect::Concurrency,
        verdict,
        evidence,
        match verdict {
            Verdict::RuledIn => "more tasks (-z), until TPS stops growing",
            _ => "none needed",
        },
    )
}

fn failures(e: &Evidence) -> Finding {
    let given = e.given();
    let share = given.failed_share();
    let bad = share >= FAILED_SHARE;
    finding(
        Suspect::Failures,
        judged(bad),
        format!(
            "{} of {} calls failed ({}); TPS here counts successes only",
            given.failed,
            given.calls,
            percent(share)
        ),
        match bad {
            true => {
                "a loop that counts failed calls as TPS would overstate this run: fix what fails first"
            }
            false => "none needed",
        },
    )
}
