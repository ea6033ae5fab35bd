//! `host:port` as the server's `--peer` and the suite's `AEROSPIKE_HOSTS` take it: one
//! check, so a value one accepts the other does not refuse.

use thiserror::Error;

/// Why a value is not `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BadAddress {
    #[error("{0:?} has no port")]
    NoPort(String),
    #[error("{0:?} is not host:port")]
    NotHostPort(String),
}

/// Checks `host:port`: a port from 1 to 65535, a host without white space, and IPv6 hosts
/// in brackets (`[::1]:3000`), since an unbracketed one cannot be told from its port.
pub fn check_host_port(value: &str) -> Result<(), BadAddress> {
    let (host, port) = value
        .rsplit_once(':')
        .ok_or_else(|| BadAddress::NoPort(value.to_string()))?;
    let host_ok = !host.is_empty()
        && !host.contains(char::is_whitespace)
        && (host.starts_with('[') == host.ends_with(']'))
        && (host.starts_with('[') || !host.contains(':'));
    match port.parse::<u16>() {
        Ok(p) if p > 0 && host_ok => Ok(()),
        _ => Err(BadAddress::NotHostPort(value.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port() {
        assert_eq!(check_host_port("a:3000"), Ok(()));
        assert_eq!(check_host_port("[::1]:3100"), Ok(()));
        for bad in ["::1:3000", "a:0", ":3000", "a b:1", "a:x"] {
            assert_eq!(
                check_host_port(bad),
                Err(BadAddress::NotHostPort(bad.into()))
            );
        }
        assert_eq!(check_host_port("a"), Err(BadAddress::NoPort("a".into())));
    }
}
