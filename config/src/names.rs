//! Validation of names: hostnames, HTTP header names and cookie names, URLs.

use serde::de::{Deserialize, Deserializer};

use crate::scalar::parse_str;

/// Lower-cases a hostname and drops a trailing dot, refusing anything that is
/// more than a hostname: requests are matched on the host without its port.
pub fn normalize_hostname(input: &str) -> Result<String, String> {
    let lowered = input.to_ascii_lowercase();
    let host = lowered.strip_suffix('.').unwrap_or(&lowered);
    if host.contains("://") {
        return Err(format!("{input:?} is a URL; give the hostname alone, without a scheme"));
    }
    if host.contains('/') {
        return Err(format!("{input:?} contains a slash; give the hostname alone, without a path"));
    }
    if host.contains(':') {
        return Err(format!(
            "{input:?} contains a port; hostnames are matched without the port, so give the name alone"
        ));
    }
    if host.chars().any(char::is_whitespace) {
        return Err(format!("{input:?} contains white space"));
    }
    if host.is_empty() {
        return Err("the hostname is empty".to_owned());
    }
    if host.starts_with('.') || host.ends_with('.') || host.contains("..") {
        return Err(format!("{input:?} has an empty label; a hostname is names separated by single dots"));
    }
    if let Some(c) = host.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))) {
        return Err(format!("{input:?} contains {c:?}; a hostname has only letters, digits, '-', '_' and '.'"));
    }
    Ok(host.to_owned())
}

/// Whether `s` is an HTTP token (RFC 9110), as header and cookie names must be.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn token_error(what: &str, s: &str) -> String {
    format!("{s:?} is not a valid {what}; use letters, digits and !#$%&'*+-.^_`|~ only, no spaces")
}

pub(crate) fn hostname<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    parse_str(d, "a hostname", normalize_hostname)
}

fn token<'de, D: Deserializer<'de>>(d: D, what: &'static str) -> Result<String, D::Error> {
    parse_str(d, what, |s| if is_token(s) { Ok(s.to_owned()) } else { Err(token_error(what, s)) })
}

pub(crate) fn header_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    token(d, "header name")
}

pub(crate) fn header_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Vec::<HeaderKey>::deserialize(d)?.into_iter().map(|h| h.0).collect())
}

pub(crate) fn optional_header_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<HeaderKey>::deserialize(d)?.map(|h| h.0))
}

pub(crate) fn cookie_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    token(d, "cookie name")
}

/// An `http://` or `https://` URL; a trailing slash is dropped so that paths
/// can be appended without doubling it.
pub(crate) fn http_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    parse_str(d, "an http:// or https:// URL", check_http_url)
}

fn check_http_url(s: &str) -> Result<String, String> {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !s.chars().any(char::is_whitespace) => {
            Ok(s.trim_end_matches('/').to_owned())
        }
        _ => Err(format!("{s:?} is not an http:// or https:// URL with a host")),
    }
}

/// A base URL: `http(s)://host[:port]` and nothing else (no user info, path,
/// query or fragment), so that paths are appended to exactly what is written.
pub(crate) fn optional_base_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<BaseUrl>::deserialize(d)?.map(|u| u.0))
}

struct BaseUrl(String);

impl<'de> Deserialize<'de> for BaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, "an http:// or https:// URL without a path", check_base_url).map(BaseUrl)
    }
}

pub fn check_base_url(s: &str) -> Result<String, String> {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(format!("{s:?} is not an absolute http:// or https:// URL"));
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if let Some(c) = authority.chars().find(|c| matches!(c, '/' | '?' | '#' | '@' | '\\')) {
        let what = match c {
            '@' => "user info",
            '?' => "a query",
            '#' => "a fragment",
            _ => "a path",
        };
        return Err(format!("{s:?} has {what}; give scheme://host[:port] only"));
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.split_once(']') {
            Some((h, "")) => (&authority[..=h.len()], None),
            Some((h, tail)) if tail.starts_with(':') => (&authority[..=h.len()], Some(&tail[1..])),
            _ => return Err(format!("{s:?} has no valid host")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |n| n == 0)
    {
        return Err(format!("{s:?} has an invalid port {p:?}"));
    }
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        normalize_hostname(host).is_ok()
    };
    if !host_ok {
        return Err(format!("{s:?} has no valid host"));
    }
    Ok(format!("{}{}", &s[..s.len() - rest.len()], authority.to_ascii_lowercase()))
}

pub(crate) fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    parse_str(d, "a non-empty string", |s| {
        if s.trim().is_empty() { Err("this value must not be empty".to_owned()) } else { Ok(s.to_owned()) }
    })
}

/// Header names as map keys, e.g. for the SMS webhook's headers.
pub(crate) struct HeaderKey(pub(crate) String);

impl<'de> Deserialize<'de> for HeaderKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        header_name(d).map(HeaderKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert_eq!(normalize_hostname("Storage.Example.NET."), Ok("storage.example.net".into()));
        assert!(normalize_hostname("storage.localhost:8080").unwrap_err().contains("port"));
        assert!(normalize_hostname("https://storage").unwrap_err().contains("scheme"));
        assert!(normalize_hostname("storage/x").unwrap_err().contains("slash"));
        assert!(normalize_hostname("a b").unwrap_err().contains("white space"));
        assert!(normalize_hostname("").is_err());
        // Found by the gateway_yaml fuzz target: ".." was accepted as the hostname ".".
        for bad in ["..", ".", "a..b", ".a", "a.."] {
            assert!(normalize_hostname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base_urls() {
        assert_eq!(check_base_url("https://Storage.Example.net/").as_deref(), Ok("https://storage.example.net"));
        assert_eq!(check_base_url("http://storage.localhost:8080").as_deref(), Ok("http://storage.localhost:8080"));
        assert_eq!(check_base_url("https://[2001:db8::1]:8443").as_deref(), Ok("https://[2001:db8::1]:8443"));
        assert_eq!(check_base_url("https://[2001:db8::1]").as_deref(), Ok("https://[2001:db8::1]"));
        for (bad, why) in [
            ("storage.example.net", "absolute"),
            ("ftp://storage.example.net", "absolute"),
            ("https://storage.example.net/auth", "a path"),
            ("https://storage.example.net?x=1", "a query"),
            ("https://storage.example.net#x", "a fragment"),
            ("https://user:pw@storage.example.net", "user info"),
            ("https://storage.example.net:0", "port"),
            ("https://storage.example.net:x", "port"),
            ("https://", "host"),
            ("https://a b", "host"),
        ] {
            let e = check_base_url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn tokens() {
        assert!(is_token("X-Line-Id"));
        assert!(!is_token("X Line"));
        assert!(!is_token("X:Line"));
        assert!(!is_token(""));
    }
}
