//! `aerobench-server`: the embedded in-memory Aerospike-protocol server as a program.
//!
//! Prints one machine-readable ready line (see [`aerobench_server::READY_PREFIX`]) and one
//! human line, then serves until Ctrl-C / SIGTERM, or, with `--control-stdin`, until its
//! standard input closes. That last mode is how a parent benchmark process owns it: when
//! the parent exits for any reason the pipe closes and the server follows. Control lines
//! on that pipe: the faults of [`aerobench_server::fault::Order`] (`kill 1`, `hang 0`, …).
//!
//! **One node of a multi-process cluster** (one container per node): `--peer` names the
//! other nodes, and `--node-index I --cluster-size N` (or `--node-id NAME` with named peers)
//! places this one; every process must be given the same cluster. Without
//! `--control-stdin` the server also logs the real server's ready line
//! (`service ready: soon there will be cake!`), which container tooling waits for. The
//! cluster flags can come from the environment instead (for `docker run -e`), each used
//! only when its flag is absent from the command line:
//!
//! | variable | flag |
//! |---|---|
//! | `AEROBENCH_BIND` | `--bind` |
//! | `AEROBENCH_PORT` | `--port` |
//! | `AEROBENCH_NODE_ID` | `--node-id` |
//! | `AEROBENCH_NODE_INDEX` | `--node-index` |
//! | `AEROBENCH_CLUSTER_SIZE` | `--cluster-size` |
//! | `AEROBENCH_PEERS` (comma-separated) | `--peer` (each) |
//! | `AEROBENCH_ALTERNATE` | `--alternate` |
//! | `AEROBENCH_ADVERTISE` | `--advertise` |
//! | `AEROBENCH_CLUSTER_NAME` | `--cluster-name` |

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use aerobench_server::fault::Order;
use aerobench_server::{
    Config, DEFAULT_CLUSTER_NAME, DEFAULT_NAMESPACE, DEFAULT_PORT, MAX_NODES, Membership, Peer,
    SERVICE_READY, Server,
};
use clap::Parser;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::runtime::Handle;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "In-memory server speaking the Aerospike wire protocol (1 to 8 nodes in one process)"
)]
struct Args {
    /// Nodes to serve, each on its own port.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=MAX_NODES as i64))]
    nodes: u8,
    /// First node's port; the others follow. 0 picks free ports.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Host announced to clients instead of the bind address.
    #[arg(long)]
    advertise: Option<String>,
    /// Per-node host:port list announced through services-alternate (comma-separated).
    #[arg(long, value_delimiter = ',')]
    alternate: Vec<String>,
    /// Namespace to serve (repeat for more).
    #[arg(long = "namespace", default_value = DEFAULT_NAMESPACE)]
    namespaces: Vec<String>,
    /// Cluster name answered to `cluster-name`.
    #[arg(long, default_value = DEFAULT_CLUSTER_NAME)]
    cluster_name: String,
    /// Replicas announced per partition (capped at the node count).
    #[arg(long, default_value_t = 2)]
    replication: usize,
    /// Service delay added before each reply, in microseconds.
    #[arg(long, default_value_t = 0)]
    delay_us: u64,
    /// Maximum client connections per node; 0 means unlimited.
    #[arg(long, default_value_t = 0)]
    max_conns: usize,
    /// Threads serving connections, each with its own current-thread runtime; 0 means one
    /// per core.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print request statistics on exit.
    #[arg(long)]
    stats: bool,
    /// Exit when standard input closes, and accept control lines on it.
    #[arg(long)]
    control_stdin: bool,
    /// This node's name in a multi-process cluster (default: derived from --node-index).
    #[arg(long)]
    node_id: Option<String>,
    /// This node's position in a multi-process cluster of --cluster-size nodes.
    #[arg(long)]
    node_index: Option<usize>,
    /// Nodes in the multi-process cluster, this one included.
    #[arg(long)]
    cluster_size: Option<usize>,
    /// Another node of the cluster, `[NAME@]HOST:PORT[/ALT_HOST:ALT_PORT]` (repeat; with
    /// --node-index, the other nodes in index order).
    #[arg(long = "peer")]
    peers: Vec<Peer>,
}

/// Cluster flags that may come from the environment, used when absent from the command line.
const ENV_FLAGS: [(&str, &str); 9] = [
    ("AEROBENCH_BIND", "--bind"),
    ("AEROBENCH_PORT", "--port"),
    ("AEROBENCH_NODE_ID", "--node-id"),
    ("AEROBENCH_NODE_INDEX", "--node-index"),
    ("AEROBENCH_CLUSTER_SIZE", "--cluster-size"),
    ("AEROBENCH_PEERS", "--peer"),
    ("AEROBENCH_ALTERNATE", "--alternate"),
    ("AEROBENCH_ADVERTISE", "--advertise"),
    ("AEROBENCH_CLUSTER_NAME", "--cluster-name"),
];

/// The command line plus the flags the environment supplies.
fn command_line() -> Vec<String> {
    let mut args: Vec<String> = std::env::args().collect();
    for (var, flag) in ENV_FLAGS {
        let given = args
            .iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")));
        let Some(value) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        if given {
            continue;
        }
        if flag == "--peer" {
            for peer in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                args.push(format!("{flag}={peer}"));
            }
        } else {
            args.push(format!("{flag}={}", value.trim()));
        }
    }
    args
}

impl Args {
    fn config(&self) -> Config {
        Config {
            nodes: usize::from(self.nodes),
            port: self.port,
            bind: self.bind,
            advertise: self.advertise.clone(),
            alternate: self.alternate.clone(),
            namespaces: self.namespaces.clone(),
            cluster_name: self.cluster_name.clone(),
            replication: self.replication,
            service_delay: Duration::from_micros(self.delay_us),
            max_conns: self.max_conns,
            membership: self.membership(),
            ..Config::default()
        }
    }

    fn membership(&self) -> Option<Membership> {
        let clustered = !self.peers.is_empty()
            || self.node_id.is_some()
            || self.node_index.is_some()
            || self.cluster_size.is_some();
        clustered.then(|| Membership {
            node_id: self.node_id.clone(),
            index: self.node_index,
            size: self.cluster_size,
            peers: self.peers.clone(),
        })
    }
}

fn main() -> ExitCode {
    let args = Args::parse_from(command_line());
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    // Listeners and control run here; connections on the workers.
    let runtimes = current_thread().and_then(|main| Ok((main, workers(threads)?)));
    let (runtime, workers) = match runtimes {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("aerobench-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args, workers))
}

fn current_thread() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Starts `count` threads, each running a current-thread runtime for as long as the
/// process lives: a connection stays on one thread, so serving it never wakes another
/// (a work-stealing runtime wakes idle workers and moves tasks between them).
fn workers(count: usize) -> std::io::Result<Vec<Handle>> {
    (0..count)
        .map(|i| {
            let runtime = current_thread()?;
            let handle = runtime.handle().clone();
            std::thread::Builder::new()
                .name(format!("aerobench-server-{i}"))
                .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
            Ok(handle)
        })
        .collect()
}

async fn run(args: Args, workers: Vec<Handle>) -> ExitCode {
    let server = match Server::start_on(&args.config(), workers) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("aerobench-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", server.ready_line());
    let of_cluster = match server.cluster_size() {
        n if n > server.hosts().len() => format!(" of a {n}-node cluster"),
        _ => String::new(),
    };
    println!(
        "aerobench-server: serving {} node(s){of_cluster} at {} (namespaces {}, delay {} us, max conns {}); {}",
        args.nodes,
        server.hosts().join(" "),
        args.namespaces.join(","),
        args.delay_us,
        if args.max_conns == 0 {
            "unlimited".to_string()
        } else {
            args.max_conns.to_string()
        },
        if args.control_stdin {
            "exits when stdin closes"
        } else {
            "Ctrl-C to stop"
        },
    );
    if !args.control_stdin {
        // What the real server logs when it is ready; container tooling waits for it.
        println!(
            "aerobench-server: node {}: {SERVICE_READY}",
            server.names().join(",")
        );
    }
    tokio::select! {
        _ = shutdown_signal() => {}
        _ = control(&server), if args.control_stdin => {}
    }
    if args.stats {
        // The parent may be gone already; a closed stdout is not worth a panic.
        let _ = writeln!(std::io::stdout(), "{}", server.stats());
    }
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Reads control lines ([`Order`]s) from stdin until it closes.
async fn control(server: &Server) {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        match line.parse::<Order>().map(|order| server.apply(order)) {
            Ok(Ok(())) => println!("aerobench-server: {}", line.trim()),
            Ok(Err(e)) => eprintln!("aerobench-server: {e}"),
            Err(e) => eprintln!("aerobench-server: {e}"),
        }
    }
}
