//! Target settings parsed from the environment, with one-line errors that name the
//! variable and show a valid value.

use std::fmt;

use super::SettingError;
use super::placement::{CpuSet, Placement};
use crate::server::check_host_port;

/// Which kind of cluster to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Embedded,
    Container,
    Remote,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Embedded => "embedded",
            Kind::Container => "container",
            Kind::Remote => "remote",
        })
    }
}

/// Everything the environment says about the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub kind: Kind,
    pub nodes: usize,
    pub hosts: Vec<String>,
    pub credentials: Option<(String, String)>,
    pub services_alternate: bool,
    pub cluster_name: Option<String>,
    pub server_args: Vec<String>,
    pub placement: Placement,
}

impl Settings {
    pub fn from_env() -> Result<Settings, SettingError> {
        Self::parse(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Parses settings from a variable lookup (the environment, or a map in tests).
    pub fn parse(var: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
        let hosts = var("AEROSPIKE_HOSTS")
            .map(|h| parse_hosts(&h))
            .transpose()?;
        let kind = match var("AEROBENCH_TARGET").as_deref() {
            None if hosts.is_some() => Kind::Remote,
            None | Some("embedded") => Kind::Embedded,
            Some("container") => Kind::Container,
            Some("remote") => Kind::Remote,
            Some(other) => return Err(SettingError::UnknownTarget(other.into())),
        };
        if kind == Kind::Remote && hosts.is_none() {
            return Err(SettingError::RemoteWithoutHosts);
        }
        Ok(Settings {
            kind,
            nodes: parse_nodes(var("AEROBENCH_NODES"))?,
            hosts: hosts.unwrap_or_default(),
            credentials: parse_credentials(var("AEROSPIKE_USER"), var("AEROSPIKE_PASSWORD"))?,
            services_alternate: parse_flag(
                "AEROSPIKE_SERVICES_ALTERNATE",
                var("AEROSPIKE_SERVICES_ALTERNATE"),
            )?,
            cluster_name: var("AEROSPIKE_CLUSTER_NAME"),
            server_args: var("AEROBENCH_SERVER_ARGS")
                .map(|a| a.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            placement: Placement {
                server: parse_cpus("AEROBENCH_SERVER_CPUS", var("AEROBENCH_SERVER_CPUS"))?,
                client: parse_cpus("AEROBENCH_CLIENT_CPUS", var("AEROBENCH_CLIENT_CPUS"))?,
            },
        })
    }
}

/// `host:port[,host:port…]`, with IPv6 hosts in brackets.
pub fn parse_hosts(value: &str) -> Result<Vec<String>, SettingError> {
    value
        .split(',')
        .map(str::trim)
        .map(|entry| {
            check_host_port(entry)
                .map(|()| entry.to_string())
                .map_err(|_| SettingError::MalformedHost(entry.into()))
        })
        .collect()
}

fn parse_nodes(value: Option<String>) -> Result<usize, SettingError> {
    let Some(value) = value else { return Ok(1) };
    match value.parse::<usize>() {
        Ok(n) if (1..=crate::server::MAX_NODES).contains(&n) => Ok(n),
        _ => Err(SettingError::Nodes(value)),
    }
}

fn parse_credentials(
    user: Option<String>,
    password: Option<String>,
) -> Result<Option<(String, String)>, SettingError> {
    match (user, password) {
        (Some(u), Some(p)) => Ok(Some((u, p))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(SettingError::HalfCredentials {
            given: "AEROSPIKE_USER",
            missing: "AEROSPIKE_PASSWORD",
        }),
        (None, Some(_)) => Err(SettingError::HalfCredentials {
            given: "AEROSPIKE_PASSWORD",
            missing: "AEROSPIKE_USER",
        }),
    }
}

fn parse_cpus(name: &'static str, value: Option<String>) -> Result<Option<CpuSet>, SettingError> {
    value
        .map(|v| CpuSet::parse(&v).ok_or(SettingError::Cpus { name, value: v }))
        .transpose()
}

fn parse_flag(name: &'static str, value: Option<String>) -> Result<bool, SettingError> {
    match value.as_deref() {
        None | Some("0" | "false" | "no") => Ok(false),
        Some("1" | "true" | "yes") => Ok(true),
        Some(other) => Err(SettingError::Flag {
            name,
            value: other.into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)]) -> Result<Settings, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::parse(|k| map.get(k).cloned()).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_to_one_embedded_node() {
        let s = parse(&[]).unwrap();
        assert_eq!((s.kind, s.nodes, s.credentials), (Kind::Embedded, 1, None));
    }

    #[test]
    fn hosts_imply_remote() {
        let s = parse(&[
            ("AEROSPIKE_HOSTS", "a:3000, [::1]:3100"),
            ("AEROSPIKE_SERVICES_ALTERNATE", "1"),
        ])
        .unwrap();
        assert_eq!(s.kind, Kind::Remote);
        assert_eq!(s.hosts, ["a:3000", "[::1]:3100"]);
        assert!(s.services_alternate);
    }

    #[test]
    fn cpu_lists_place_each_side() {
        let s = parse(&[
            ("AEROBENCH_SERVER_CPUS", "0"),
            ("AEROBENCH_CLIENT_CPUS", "1-2"),
        ])
        .unwrap();
        assert_eq!(s.placement.to_string(), "server:0,client:1-2");
        assert_eq!(parse(&[]).unwrap().placement.to_string(), "shared");
    }

    #[test]
    fn bad_values_name_the_variable_and_the_fix() {
        for (vars, needle) in [
            (
                &[("AEROSPIKE_HOSTS", "host")][..],
                "malformed AEROSPIKE_HOSTS entry \"host\"",
            ),
            (&[("AEROSPIKE_HOSTS", "h:0")], "malformed AEROSPIKE_HOSTS"),
            (
                &[("AEROSPIKE_HOSTS", "a:1,,b:2")],
                "malformed AEROSPIKE_HOSTS entry \"\"",
            ),
            (
                &[("AEROSPIKE_HOSTS", "::1:3000")],
                "malformed AEROSPIKE_HOSTS",
            ),
            (&[("AEROBENCH_TARGET", "cloud")], "unknown AEROBENCH_TARGET"),
            (&[("AEROBENCH_TARGET", "remote")], "needs AEROSPIKE_HOSTS"),
            (&[("AEROBENCH_NODES", "9")], "1 to 8"),
            (&[("AEROSPIKE_USER", "u")], "without AEROSPIKE_PASSWORD"),
            (&[("AEROSPIKE_SERVICES_ALTERNATE", "maybe")], "use 1 or 0"),
            (
                &[("AEROBENCH_CLIENT_CPUS", "1-0")],
                "invalid AEROBENCH_CLIENT_CPUS=\"1-0\": use a CPU list",
            ),
        ] {
            let e = parse(vars).unwrap_err();
            assert!(e.contains(needle), "{e:?} lacks {needle:?}");
            assert!(!e.contains('\n'), "one line: {e:?}");
        }
    }
}
