//! The network path to each node: its TCP connect round trip (the kernel's handshake, no
//! server work in it) against the same on a listener of this process on loopback, taken
//! in turns so both see the same machine; and whether a userspace proxy (`docker-proxy`,
//! Docker's published ports) owns the node's port, which copies every message twice in
//! user space and shows as a cost of the path, not of the server.

use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Connects per node and to the floor: enough for a stable median, a few ms in all.
const CONNECTS: usize = 40;
/// The longest one connect may take.
const CONNECT_BOUND: Duration = Duration::from_secs(1);

/// One node's path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Path {
    /// The address the client uses for the node.
    pub address: String,
    /// Median connect round trip, ns; `None` when it refused or did not answer.
    pub connect_ns: Option<u64>,
    /// The userspace proxy serving the address, e.g. `docker-proxy (pid 1234)`.
    pub proxy: Option<String>,
}

/// Every node's path and the loopback floor they are compared with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Network {
    /// Median connect round trip to a listener of this process on 127.0.0.1, ns.
    pub floor_ns: Option<u64>,
    pub paths: Vec<Path>,
}

impl Network {
    /// Measures the path to each of `addresses` (`host:port`).
    pub fn measure(addresses: &[String]) -> Network {
        let floor = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr().map(|a| (l, a)))
            .ok();
        let proxies = userspace_proxies();
        let paths = addresses
            .iter()
            .map(|address| Path {
                address: address.clone(),
                connect_ns: resolve(address).and_then(median_connect),
                proxy: port_of(address).and_then(|port| {
                    let (pid, name, _) = proxies.iter().find(|(_, _, p)| *p == port)?;
                    Some(format!("{name} (pid {pid})"))
                }),
            })
            .collect();
        Network {
            // Measured after the nodes, so a slow start of the machine does not favour them.
            floor_ns: floor.and_then(|(_listener, addr)| median_connect(addr)),
            paths,
        }
    }

    /// The worst node's connect round trip over the floor.
    pub fn worst_ratio(&self) -> Option<f64> {
        let floor = self.floor_ns? as f64;
        self.paths
            .iter()
            .filter_map(|p| p.connect_ns)
            .map(|ns| ns as f64 / floor.max(1.0))
            .reduce(f64::max)
    }
}

fn resolve(address: &str) -> Option<SocketAddr> {
    address.to_socket_addrs().ok()?.next()
}

fn port_of(address: &str) -> Option<u16> {
    address.rsplit_once(':')?.1.parse().ok()
}

/// The median of [`CONNECTS`] connects to `addr`; `None` if any fails.
fn median_connect(addr: SocketAddr) -> Option<u64> {
    let mut times: Vec<u64> = (0..CONNECTS)
        .map(|_| {
            let start = Instant::now();
            TcpStream::connect_timeout(&addr, CONNECT_BOUND)
                .ok()
                .map(|_| start.elapsed().as_nanos() as u64)
        })
        .collect::<Option<_>>()?;
    times.sort_unstable();
    Some(times[times.len() / 2])
}

/// Userspace proxies on this machine and the host port each serves: `(pid, name, port)`,
/// from their command lines (`docker-proxy … -host-port 32768 …`).
fn userspace_proxies() -> Vec<(u32, String, u16)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let (name, port) = proxy_port(&cmdline)?;
            Some((pid, name, port))
        })
        .collect()
}

/// The program name and host port of a proxy's NUL-separated command line.
fn proxy_port(cmdline: &[u8]) -> Option<(String, u16)> {
    let args: Vec<&str> = cmdline
        .split(|&b| b == 0)
        .filter_map(|a| std::str::from_utf8(a).ok())
        .collect();
    let name = args.first()?.rsplit('/').next()?;
    if name != "docker-proxy" {
        return None;
    }
    let at = args.iter().position(|&a| a == "-host-port")?;
    Some((name.to_string(), args.get(at + 1)?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_docker_proxy_command_line_names_its_host_port() {
        let line = b"/usr/bin/docker-proxy\0-proto\0tcp\0-host-ip\x00127.0.0.1\0-host-port\x0032768\0-container-ip\x00172.18.0.2\0-container-port\x003000\0";
        assert_eq!(proxy_port(line), Some(("docker-proxy".into(), 32768)));
        assert_eq!(proxy_port(b"/usr/bin/asd\0--foreground\0"), None);
    }

    #[test]
    fn a_listener_here_is_near_the_floor_and_a_closed_port_has_no_path() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap().to_string();
        let closed = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        };
        let network = Network::measure(&[open.clone(), closed]);
        assert!(network.floor_ns.is_some());
        assert!(network.paths[0].connect_ns.is_some(), "{network:?}");
        assert_eq!(network.paths[1].connect_ns, None, "{network:?}");
        assert_eq!(network.paths[0].proxy, None);
    }
}
