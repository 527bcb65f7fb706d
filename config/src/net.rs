//! Network values: CIDRs (bare addresses allowed) and socket addresses.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use ipnet::IpNet;
use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::scalar::parse_str;

/// Parses `203.0.113.0/24`, `2001:db8::/48`, or a bare address (a /32 or /128).
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let t = s.trim();
    if let Ok(net) = t.parse::<IpNet>() {
        return Ok(net);
    }
    t.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
        format!("{s:?} is not a network; expected a CIDR such as 203.0.113.0/24 or 2001:db8::/48, or a single address")
    })
}

/// One network in a list; exists so that the error points at the bad entry.
pub(crate) struct Net(pub(crate) IpNet);

impl<'de> Deserialize<'de> for Net {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, "a CIDR or an IP address", parse_net).map(Net)
    }
}

pub(crate) fn nets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    Ok(Vec::<Net>::deserialize(d)?.into_iter().map(|n| n.0).collect())
}

fn parse_socket_addr(s: &str) -> Result<SocketAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not an address; expected ip:port such as 127.0.0.1:8080 or [::1]:8080"))
}

pub(crate) fn socket_addr<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    parse_str(d, "ip:port", parse_socket_addr)
}

/// `ip:port` or `name:port`; a name is resolved once, at load, so that a DNS
/// hiccup later cannot take the proxy down.
pub(crate) fn resolve_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.trim().parse::<SocketAddr>() {
        return Ok(addr);
    }
    if !s.contains(':') {
        return Err(format!("{s:?} has no port; expected ip:port or name:port"));
    }
    let mut addrs = s.trim().to_socket_addrs().map_err(|e| format!("cannot resolve {s:?}: {e}"))?;
    addrs.next().ok_or_else(|| format!("{s:?} resolves to no address"))
}

/// An optional listener: an address, or `null` / `off` for none.
pub(crate) fn optional_listener<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    d.deserialize_any(ListenerVisitor)
}

struct ListenerVisitor;

impl<'de> Visitor<'de> for ListenerVisitor {
    type Value = Option<SocketAddr>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ip:port, or off")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    // YAML 1.1 readers take `off` as false; accept that spelling too.
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        if v { Err(E::custom("expected ip:port, or off")) } else { Ok(None) }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        parse_socket_addr(v).map(Some).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_addresses_are_host_networks() {
        assert_eq!(parse_net("198.51.100.7").map(|n| n.prefix_len()), Ok(32));
        assert_eq!(parse_net("2001:db8::1").map(|n| n.prefix_len()), Ok(128));
        assert_eq!(parse_net("203.0.113.0/24").map(|n| n.prefix_len()), Ok(24));
        assert!(parse_net("203.0.113.0/33").is_err());
        assert!(parse_net("example.net").is_err());
    }
}
