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

pub(crate) fn optional_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<HttpUrl>::deserialize(d)?.map(|u| u.0))
}

struct HttpUrl(String);

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        http_url(d).map(HttpUrl)
    }
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
    fn tokens() {
        assert!(is_token("X-Line-Id"));
        assert!(!is_token("X Line"));
        assert!(!is_token("X:Line"));
        assert!(!is_token(""));
    }
}
