//! Which hostname a request is for.

use policy::HostKind;

/// The configured hostnames, lower case, without port.
#[derive(Debug, Clone)]
pub struct Hosts {
    pub ordinary: String,
    pub line_auth: String,
}

/// Under HTTP/2 the authority is in the URI (there is no Host header), so the
/// URI is checked first. A request with several Host headers is not ours, nor
/// one whose Host header names another host than its authority (HTTP/2 allows
/// both): the rules would match one name and an origin reading Host the other.
pub fn host_kind<'a>(
    uri_authority: Option<&str>,
    mut host_headers: impl Iterator<Item = &'a [u8]>,
    hosts: &Hosts,
) -> Option<HostKind> {
    let name = match uri_authority {
        Some(a) => {
            let name = name_of(a.as_bytes())?;
            if !host_headers.all(|h| name_of(h).is_some_and(|n| n.eq_ignore_ascii_case(name))) {
                return None;
            }
            name
        }
        None => {
            let first = host_headers.next()?;
            if host_headers.next().is_some() {
                return None;
            }
            name_of(first)?
        }
    };
    if name.eq_ignore_ascii_case(&hosts.ordinary) {
        Some(HostKind::Ordinary)
    } else if name.eq_ignore_ascii_case(&hosts.line_auth) {
        Some(HostKind::LineAuth)
    } else {
        None
    }
}

/// The host name of an authority or Host value: no port, no trailing dot.
fn name_of(raw: &[u8]) -> Option<&str> {
    let name = strip_port(std::str::from_utf8(raw).ok()?.trim())?;
    Some(name.strip_suffix('.').unwrap_or(name))
}

fn strip_port(s: &str) -> Option<&str> {
    if s.starts_with('[') {
        let end = s.find(']')?;
        return Some(&s[..=end]);
    }
    match s.rsplit_once(':') {
        Some((name, port)) if port.parse::<u16>().is_ok() => Some(name),
        Some(_) => None,
        None => Some(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_without_port_and_case() {
        let h = Hosts { ordinary: "storage.localhost".into(), line_auth: "line.storage.localhost".into() };
        let k = |a: Option<&str>, hh: &[&str]| host_kind(a, hh.iter().map(|s| s.as_bytes()), &h);
        assert_eq!(k(None, &["storage.localhost:8080"]), Some(HostKind::Ordinary));
        assert_eq!(k(None, &["Line.Storage.Localhost"]), Some(HostKind::LineAuth));
        assert_eq!(k(None, &["storage.localhost."]), Some(HostKind::Ordinary));
        assert_eq!(k(Some("line.storage.localhost:443"), &[]), Some(HostKind::LineAuth));
        assert_eq!(k(Some("line.storage.localhost:443"), &["Line.Storage.Localhost"]), Some(HostKind::LineAuth));
        // An authority and a Host header that disagree: neither is believed.
        assert_eq!(k(Some("line.storage.localhost:443"), &["evil.example"]), None);
        assert_eq!(k(Some("line.storage.localhost"), &["storage.localhost"]), None);
        assert_eq!(k(Some("storage.localhost"), &["storage.localhost", "evil.example"]), None);
        assert_eq!(k(None, &["evil.example"]), None);
        assert_eq!(k(None, &[]), None);
        assert_eq!(k(None, &["storage.localhost", "line.storage.localhost"]), None);
        assert_eq!(k(None, &["storage.localhost:x"]), None);
        assert_eq!(k(None, &["storage.localhost.evil.example"]), None);
    }
}
