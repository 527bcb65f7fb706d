//! Who is asking: the client address and the carrier's line assertion.

use std::net::IpAddr;

use policy::{LineFact, LineId, NetworkSet};

/// The client address. The TCP peer, unless the peer is a trusted proxy: then
/// `X-Forwarded-For` is read right to left, skipping trusted hops (the leftmost
/// entries are whatever the client typed). An unparsable entry makes the address
/// unknown rather than letting a guess through.
pub fn client_ip<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'a [u8]>,
    trusted_proxies: &NetworkSet,
) -> Option<IpAddr> {
    let peer = peer?;
    if trusted_proxies.is_empty() || !trusted_proxies.contains(peer) {
        return Some(peer);
    }
    let headers: Vec<&[u8]> = forwarded_for.collect();
    let mut last = peer;
    for header in headers.iter().rev() {
        for entry in header.rsplit(|b| *b == b',') {
            let ip = parse_forwarded_entry(entry)?;
            if !trusted_proxies.contains(ip) {
                return Some(ip);
            }
            last = ip;
        }
    }
    Some(last)
}

/// One `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_forwarded_entry(raw: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(raw).ok()?.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (addr, tail) = rest.split_once(']')?;
        if !(tail.is_empty() || tail.strip_prefix(':').is_some_and(|p| p.parse::<u16>().is_ok())) {
            return None;
        }
        return addr.parse().ok();
    }
    let (addr, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    addr.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The line assertion. Only a TCP peer inside the carrier networks may make one;
/// from anyone else the header is an attempt to impersonate a line.
pub fn line_fact<'a>(
    peer: Option<IpAddr>,
    mut values: impl Iterator<Item = &'a [u8]>,
    carrier_networks: &NetworkSet,
) -> LineFact {
    let Some(first) = values.next() else { return LineFact::Absent };
    let trusted = peer.is_some_and(|p| carrier_networks.contains(p));
    if !trusted {
        return LineFact::Untrusted;
    }
    if values.next().is_some() {
        return LineFact::Malformed;
    }
    match std::str::from_utf8(first).ok().map(LineId::parse) {
        Some(Ok(id)) => LineFact::Asserted(id),
        _ => LineFact::Malformed,
    }
}

/// The carrier's region header, believed (like the line header) only from a
/// carrier network and only when sent once.
pub fn carrier_region<'a>(
    peer: Option<IpAddr>,
    carrier_networks: &NetworkSet,
    values: Option<impl Iterator<Item = &'a [u8]>>,
) -> Option<&'a str> {
    let mut values = values?;
    if !peer.is_some_and(|p| carrier_networks.contains(p)) {
        return None;
    }
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    std::str::from_utf8(first).ok().map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> NetworkSet {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_only_through_trusted_proxies() {
        let proxies = nets(&["10.0.0.0/8"]);
        let xff = [b"203.0.113.9, 10.1.1.1".as_slice()];
        // Untrusted peer: its own address, whatever it claims.
        assert_eq!(client_ip(Some(ip("198.51.100.1")), xff.into_iter(), &proxies), Some(ip("198.51.100.1")));
        // Trusted peer: right to left, skipping trusted hops.
        assert_eq!(client_ip(Some(ip("10.0.0.1")), xff.into_iter(), &proxies), Some(ip("203.0.113.9")));
        // A forged leftmost entry is not believed.
        let forged = [b"1.1.1.1, 203.0.113.9".as_slice()];
        assert_eq!(client_ip(Some(ip("10.0.0.1")), forged.into_iter(), &proxies), Some(ip("203.0.113.9")));
        // Several headers read as one list, last header last.
        let two = [b"1.1.1.1".as_slice(), b"203.0.113.7".as_slice()];
        assert_eq!(client_ip(Some(ip("10.0.0.1")), two.into_iter(), &proxies), Some(ip("203.0.113.7")));
        // Garbage makes the address unknown.
        let bad = [b"1.1.1.1, not-an-ip".as_slice()];
        assert_eq!(client_ip(Some(ip("10.0.0.1")), bad.into_iter(), &proxies), None);
        // Ports and brackets.
        let ported = [b"[2001:db8::5]:443, 203.0.113.1:8080".as_slice()];
        assert_eq!(client_ip(Some(ip("10.0.0.1")), ported.into_iter(), &proxies), Some(ip("203.0.113.1")));
        // No header from a trusted proxy: the proxy itself.
        assert_eq!(client_ip(Some(ip("10.0.0.1")), std::iter::empty(), &proxies), Some(ip("10.0.0.1")));
        assert_eq!(client_ip(None, xff.into_iter(), &proxies), None);
    }

    #[test]
    fn line_header_only_from_carrier() {
        let carrier = nets(&["192.0.2.0/24"]);
        let v = [b"caf0123456789".as_slice()];
        assert!(matches!(line_fact(Some(ip("192.0.2.1")), v.into_iter(), &carrier), LineFact::Asserted(_)));
        assert_eq!(line_fact(Some(ip("198.51.100.1")), v.into_iter(), &carrier), LineFact::Untrusted);
        assert_eq!(line_fact(None, v.into_iter(), &carrier), LineFact::Untrusted);
        assert_eq!(line_fact(Some(ip("192.0.2.1")), [b"x".as_slice()].into_iter(), &carrier), LineFact::Malformed);
        let twice = [b"CAF0123456789".as_slice(), b"CAF0123456789".as_slice()];
        assert_eq!(line_fact(Some(ip("192.0.2.1")), twice.into_iter(), &carrier), LineFact::Malformed);
        assert_eq!(line_fact(Some(ip("192.0.2.1")), std::iter::empty(), &carrier), LineFact::Absent);
    }
}
