//! The measured probes: the configuration as given, then the same load with one knob
//! changed (the pool sized to the tasks, the per-op timeouts off, four times the tasks),
//! then the configuration as given again, each on the same target, one after the other, with the CPU and the server's own
//! counters read at its edges. Every probe is a closed-loop run of the driver bounded by
//! its warm-up, its duration and the driver's linger.

use std::collections::BTreeMap;
use std::sync::Arc;

use aerospike_core::{Client, ClientPolicy};
use serde::Serialize;

use super::readings::{CpuUse, Gauges};
use crate::cluster::Target;
use crate::driver::{self, AsyncClient, Config, Mode, Pool};
use crate::server::service_time::{INFO_NAME, parse};
use crate::server_share::answers;

/// Most tasks the more-tasks probe uses.
const MAX_TASKS: usize = 4_096;

/// Which knob a probe changes from the configuration as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Nothing: the configuration as given.
    AsGiven,
    /// `max_conns_per_node` sized to the tasks per node (at least twice the given pool).
    PoolSized,
    /// The per-op timeouts off (total and socket timeout 0).
    TimeoutsOff,
    /// Four times the tasks.
    MoreTasks,
    /// The configuration as given again, last: with the first, it brackets the other
    /// probes, so a change is judged against the better of two runs of the same load.
    Repeat,
}

/// One probe to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub change: Change,
    pub tasks: usize,
    pub max_conns_per_node: usize,
    pub timeout_ms: u32,
}

/// The probes for `tasks` tasks with `pool` and `timeout_ms` against `nodes` nodes: the
/// pool probe only when the tasks per node exceed the pool (else no call can wait for a
/// connection), the timeout probe only when timeouts are on.
pub fn plan(tasks: usize, pool: Pool, timeout_ms: u32, nodes: usize) -> Vec<Probe> {
    let given = Probe {
        change: Change::AsGiven,
        tasks,
        max_conns_per_node: pool.max_conns_per_node,
        timeout_ms,
    };
    let per_node = tasks.div_ceil(nodes.max(1));
    let mut probes = vec![given];
    if per_node > pool.max_conns_per_node {
        probes.push(Probe {
            change: Change::PoolSized,
            max_conns_per_node: per_node.max(2 * pool.max_conns_per_node),
            ..given
        });
    }
    if timeout_ms != 0 {
        probes.push(Probe {
            change: Change::TimeoutsOff,
            timeout_ms: 0,
            ..given
        });
    }
    probes.push(Probe {
        change: Change::MoreTasks,
        tasks: (4 * tasks).min(MAX_TASKS),
        max_conns_per_node: pool
            .max_conns_per_node
            .max((4 * tasks).div_ceil(nodes.max(1))),
        ..given
    });
    probes.push(Probe {
        change: Change::Repeat,
        ..given
    });
    probes
}

/// What one probe measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub probe: Probe,
    /// Successful ops per second over the measured span.
    pub tps: f64,
    /// Calls per second, failed ones included.
    pub calls_per_s: f64,
    /// Failed calls (errors and timeouts) and all calls.
    pub failed: u64,
    pub calls: u64,
    pub p50_ns: u64,
    pub p999_ns: u64,
    /// Client process CPU per successful op, ns.
    pub cpu_ns_per_op: f64,
    /// The CPUs over the whole probe (warm-up included, at the same load).
    pub cpu: CpuUse,
    /// The server's own mean time per request over the probe, ns, where it says.
    pub server_ns_per_request: Option<f64>,
    /// Commands each node served over the probe, where it says (node order).
    pub node_commands: Option<Vec<u64>>,
    /// Requests that reached a node other than their partition's master, where it says.
    pub misrouted: Option<u64>,
}

impl Sample {
    /// The mean time of one call, from Little's law on the closed loop: tasks ÷ calls/s.
    pub fn mean_call_ns(&self) -> f64 {
        self.probe.tasks as f64 / self.calls_per_s.max(1e-9) * 1e9
    }

    /// Failed calls as a share of all calls.
    pub fn failed_share(&self) -> f64 {
        self.failed as f64 / self.calls.max(1) as f64
    }
}

/// The server's own counters: request time and count, commands per node, misrouted.
#[derive(Debug, Clone, Default)]
struct ServerCounters {
    requests: Option<(u64, u64)>,
    node_commands: Option<Vec<u64>>,
    misrouted: Option<u64>,
}

impl ServerCounters {
    async fn read(client: &Client) -> ServerCounters {
        let requests = answers(client, INFO_NAME).await.and_then(|all| {
            all.iter().try_fold((0, 0), |(n, sum), a| {
                let totals = parse(a)?;
                Some((
                    n + totals.iter().map(|t| t.count).sum::<u64>(),
                    sum + totals.iter().map(|t| t.sum_ns).sum::<u64>(),
                ))
            })
        });
        let stats: Option<Vec<BTreeMap<String, String>>> = answers(client, "statistics")
            .await
            .map(|all| all.iter().map(|a| pairs(a)).collect());
        let field = |stats: &[BTreeMap<String, String>], name: &str| -> Option<Vec<u64>> {
            stats.iter().map(|s| s.get(name)?.parse().ok()).collect()
        };
        ServerCounters {
            requests,
            node_commands: stats.as_deref().and_then(|s| field(s, "node_commands")),
            // The embedded server counts misrouted requests once for all its nodes.
            misrouted: stats
                .as_deref()
                .and_then(|s| field(s, "misrouted"))
                .and_then(|v| v.first().copied()),
        }
    }
}

/// `name=value;…` as a map.
fn pairs(answer: &str) -> BTreeMap<String, String> {
    answer
        .split(';')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What the probes run on: the target, its runtime, the run's client and its policy.
pub struct Lab<'a> {
    pub target: &'a Target,
    pub runtime: &'a tokio::runtime::Runtime,
    pub policy: &'a ClientPolicy,
    pub client: &'a Arc<Client>,
    pub gauges: Gauges,
}

impl Lab<'_> {
    /// Runs `probe` on `config`'s workload, warm-up and duration; a probe with another
    /// pool gets a client of its own, closed once it is done.
    pub fn run(&self, probe: Probe, config: &Config) -> anyhow::Result<Sample> {
        let config = Config {
            mode: Mode::Async { tasks: probe.tasks },
            timeout_ms: probe.timeout_ms,
            rate: None,
            ..*config
        };
        let own = (probe.max_conns_per_node != self.policy.max_conns_per_node)
            .then(|| self.client_with(probe.max_conns_per_node))
            .transpose()?;
        let client = own.as_ref().unwrap_or(self.client);
        let before = (self.gauges.read(), self.counters());
        let backend = Arc::new(AsyncClient {
            client: client.clone(),
            calls: config.calls(),
        });
        let run = self.runtime.block_on(driver::run_tasks(
            backend,
            &config,
            probe.tasks,
            &mut |_, _| {},
        ));
        let after = (self.gauges.read(), self.counters());
        if let Some(own) = own {
            let _ = self.runtime.block_on(own.close());
        }
        let t = &run.total;
        let delta = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_sub(b?));
        Ok(Sample {
            probe,
            tps: t.tps,
            calls_per_s: t.calls as f64 / t.seconds.max(1e-9),
            failed: t.errors + t.timeouts,
            calls: t.calls,
            p50_ns: t.latency_ns.p50,
            p999_ns: t.latency_ns.p999,
            cpu_ns_per_op: run.cpu_ns_per_op(),
            cpu: CpuUse::between(&before.0, &after.0),
            server_ns_per_request: before.1.requests.zip(after.1.requests).and_then(
                |((n0, s0), (n1, s1))| {
                    let n = n1.checked_sub(n0).filter(|&n| n > 0)?;
                    Some(s1.saturating_sub(s0) as f64 / n as f64)
                },
            ),
            node_commands: before
                .1
                .node_commands
                .zip(after.1.node_commands)
                .filter(|(b, a)| a.len() == b.len())
                .map(|(b, a)| {
                    a.iter()
                        .zip(&b)
                        .map(|(a, b)| a.saturating_sub(*b))
                        .collect()
                }),
            misrouted: delta(after.1.misrouted, before.1.misrouted),
        })
    }

    fn counters(&self) -> ServerCounters {
        self.runtime.block_on(ServerCounters::read(self.client))
    }

    /// A client on the same target with `max_conns_per_node` connections per node.
    fn client_with(&self, max_conns_per_node: usize) -> anyhow::Result<Arc<Client>> {
        let mut policy = self.policy.clone();
        policy.max_conns_per_node = max_conns_per_node;
        policy.min_conns_per_node = policy.min_conns_per_node.min(max_conns_per_node);
        Ok(Arc::new(
            self.runtime.block_on(self.target.connect(&policy))?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_probe_runs_only_when_the_tasks_can_wait_for_a_connection() {
        let pool = |max| Pool {
            max_conns_per_node: max,
            ..Pool::default()
        };
        let changes = |p: &[Probe]| p.iter().map(|p| p.change).collect::<Vec<_>>();
        let wide = plan(32, pool(256), 1000, 1);
        assert_eq!(
            changes(&wide),
            [
                Change::AsGiven,
                Change::TimeoutsOff,
                Change::MoreTasks,
                Change::Repeat
            ]
        );
        let narrow = plan(256, pool(16), 0, 1);
        assert_eq!(
            changes(&narrow),
            [
                Change::AsGiven,
                Change::PoolSized,
                Change::MoreTasks,
                Change::Repeat
            ]
        );
        assert_eq!(narrow[1].max_conns_per_node, 256);
        assert_eq!(
            (narrow[2].tasks, narrow[2].max_conns_per_node),
            (1024, 1024)
        );
        // Spread over 3 nodes, 256 tasks need 86 connections per node.
        assert_eq!(plan(256, pool(64), 0, 3)[1].max_conns_per_node, 128);
    }
}
