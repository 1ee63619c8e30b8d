//! The `tcp` probe: a connection to `HOST:PORT` is accepted.

use tokio::net::TcpStream;

use super::{InvalidProbe, io_reason};

/// Connects to `HOST:PORT`; succeeds when the connection is accepted. Built by
/// [`Probe::tcp`](super::Probe::tcp) or [`TcpProbe::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpProbe {
    address: String,
}

impl TcpProbe {
    /// A probe of `address`: `HOST:PORT`, the host a name, an IPv4 address or a bracketed
    /// IPv6 address (`[::1]:8080`), the port from 1 to 65535.
    ///
    /// # Errors
    ///
    /// [`InvalidProbe::Missing`] for an empty address, [`InvalidProbe::InvalidAddress`] saying
    /// what is wrong otherwise.
    pub fn new(address: &str) -> Result<TcpProbe, InvalidProbe> {
        let address = address.trim();
        if address.is_empty() {
            return Err(InvalidProbe::Missing { kind: "tcp", what: "address" });
        }
        check_host_port(address).map_err(|reason| InvalidProbe::InvalidAddress {
            address: address.to_owned(),
            reason,
        })?;
        Ok(TcpProbe { address: address.to_owned() })
    }

    /// The address, as given (trimmed).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Connects once; the caller bounds the time.
    pub(crate) async fn check(&self) -> Result<(), String> {
        TcpStream::connect(&self.address).await.map(drop).map_err(|error| io_reason(&error))
    }
}

/// Checks `HOST:PORT`; the reason when it is not one. Shared with the `http` probe's URLs.
pub(crate) fn check_host_port(address: &str) -> Result<(), String> {
    let Some((host, port)) = address.rsplit_once(':') else {
        return Err("expected HOST:PORT".to_owned());
    };
    check_host(host)?;
    match port.parse::<u16>() {
        Ok(0) => Err("port 0 cannot be connected to".to_owned()),
        Ok(_) => Ok(()),
        Err(_) if port.is_empty() => Err("no port after `:`".to_owned()),
        Err(_) => Err(format!("`{port}` is not a port (1 to 65535)")),
    }
}

/// Checks a host: a name, an IPv4 address or a bracketed IPv6 address.
pub(crate) fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("no host before the port".to_owned());
    }
    if let Some(inner) = host.strip_prefix('[') {
        let ip = inner.strip_suffix(']').ok_or("an IPv6 address needs its closing `]`")?;
        return ip
            .parse::<std::net::Ipv6Addr>()
            .map(drop)
            .map_err(|_| format!("`{ip}` is not an IPv6 address"));
    }
    if host.contains(':') {
        return Err("an IPv6 address must be in brackets, as in [::1]:8080".to_owned());
    }
    match host.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))) {
        Some(c) => Err(format!("`{c}` cannot be in a host name")),
        None => Ok(()),
    }
}
