//! Identity and routing headers: everything a client sends that the origin could
//! mistake for our word (who the user is, where the request came from, which
//! host, scheme or path it was for) is removed; then ours are added.

use std::net::IpAddr;

use http::{HeaderName, HeaderValue};
use pingora::http::RequestHeader;
use policy::LineId;

/// Names compared with `_` read as `-`, because some servers treat `X_Auth_User`
/// as `X-Auth-User` (CGI-style environments do).
/// `X-Forwarded-*` covers -For, -Host, -Proto, -Port, -Prefix, -User and the rest:
/// none of them may come from the client (the gateway sets -For, -Host, -Proto).
/// The routing headers (`X-Original-URL`, `X-Rewrite-URL`) make some origins
/// serve another path than the one the rules matched; the client-address ones
/// are what CDNs and frameworks believe.
const EXACT: &[&str] = &[
    "remote-user",
    "remote-email",
    "remote-groups",
    "remote-name",
    "x-remote-user",
    "x-real-ip",
    "forwarded",
    "x-original-url",
    "x-rewrite-url",
    "x-original-host",
    "x-host",
    "true-client-ip",
    "x-client-ip",
    "cf-connecting-ip",
    "x-cluster-client-ip",
    "fastly-client-ip",
];
const PREFIXES: &[&str] = &["x-auth-", "x-forwarded-"];

/// The configured carrier header names and `remove_headers`, in the same folded form.
#[derive(Debug, Clone, Default)]
pub struct StripList {
    extra: Vec<String>,
}

impl StripList {
    pub fn new<S: AsRef<str>>(carrier_headers: &[&str], configured: &[S]) -> Self {
        let extra = carrier_headers.iter().copied().chain(configured.iter().map(|h| h.as_ref()));
        StripList { extra: extra.map(fold).collect() }
    }

    pub fn should_strip(&self, name: &str) -> bool {
        EXACT.iter().any(|e| folded_eq(name, e))
            || PREFIXES.iter().any(|p| name.len() >= p.len() && folded_eq(&name[..p.len()], p))
            || self.extra.iter().any(|e| folded_eq(name, e))
    }

    /// The names among `names` to remove.
    pub fn select<'a>(&self, names: impl Iterator<Item = &'a HeaderName>) -> Vec<HeaderName> {
        names.filter(|n| self.should_strip(n.as_str())).cloned().collect()
    }
}

/// `X-Forwarded-Host` and `X-Forwarded-Proto` as the gateway knows them: the
/// authority and scheme of the hostname's public URL (never the client's `Host`).
#[derive(Debug, Clone)]
pub struct ForwardedHost {
    pub host: HeaderValue,
    pub proto: &'static str,
}

impl ForwardedHost {
    /// From a base URL `scheme://authority` (`GatewayConfig::public_url`); None
    /// if it cannot be a header value (then the headers are only removed).
    pub fn from_base_url(url: &str) -> Option<ForwardedHost> {
        let (proto, authority) = match url.split_once("://")? {
            ("https", a) => ("https", a),
            ("http", a) => ("http", a),
            _ => return None,
        };
        Some(ForwardedHost { host: HeaderValue::from_str(authority).ok()?, proto })
    }
}

/// The forwarded host and scheme of each hostname, built once at start-up.
#[derive(Debug, Clone)]
pub struct ForwardedHosts {
    ordinary: Option<ForwardedHost>,
    line_auth: Option<ForwardedHost>,
}

impl ForwardedHosts {
    pub fn new(cfg: &config::GatewayConfig) -> Self {
        ForwardedHosts {
            ordinary: ForwardedHost::from_base_url(&cfg.public_url(false)),
            line_auth: ForwardedHost::from_base_url(&cfg.public_url(true)),
        }
    }

    pub fn get(&self, kind: Option<policy::HostKind>) -> Option<&ForwardedHost> {
        match kind? {
            policy::HostKind::Ordinary => self.ordinary.as_ref(),
            policy::HostKind::LineAuth => self.line_auth.as_ref(),
        }
    }
}

/// Who the origin is told the request comes from, as values ready to insert.
pub struct IdentityHeaders {
    pub user: HeaderValue,
    pub tenant: HeaderValue,
    pub role: &'static str,
    pub method: HeaderValue,
    pub line: Option<LineId>,
}

/// The header the origin gets: client-sent identity, routing and carrier headers
/// removed, `X-Forwarded-For` set to the client the gateway established,
/// `X-Forwarded-Host`/`-Proto` to the hostname's public URL, `own_cookies`
/// dropped from `Cookie`, and ours added when the request is authenticated.
pub fn rewrite_upstream(
    up: &mut RequestHeader,
    strip: &StripList,
    own_cookies: &[&str],
    client_ip: Option<IpAddr>,
    forwarded: Option<&ForwardedHost>,
    identity: Option<IdentityHeaders>,
) -> pingora::Result<()> {
    for name in strip.select(up.headers.keys()) {
        up.remove_header(&name);
    }
    if let Some(ip) = client_ip {
        up.insert_header("x-forwarded-for", ip.to_string())?;
    }
    if let Some(f) = forwarded {
        up.insert_header("x-forwarded-host", f.host.clone())?;
        up.insert_header("x-forwarded-proto", HeaderValue::from_static(f.proto))?;
    }
    // The origin never sees our own cookies: a session id in its logs would be a login.
    if let Some(kept) = crate::session::without_own_cookies(&up.headers, own_cookies) {
        if kept.is_empty() {
            up.remove_header("cookie");
        } else {
            // Inserting replaces every `Cookie` line the browser sent.
            up.insert_header("cookie", kept)?;
        }
    }
    if let Some(id) = identity {
        up.insert_header("x-auth-user", id.user)?;
        up.insert_header("x-auth-tenant", id.tenant)?;
        // Static: no allocation per request (the names are checked by a test).
        up.insert_header("x-auth-role", HeaderValue::from_static(id.role))?;
        up.insert_header("x-auth-method", id.method)?;
        if let Some(line) = id.line {
            up.insert_header("x-auth-line", line.as_str())?;
        }
    }
    Ok(())
}

fn fold(s: &str) -> String {
    s.chars().map(|c| if c == '_' { '-' } else { c.to_ascii_lowercase() }).collect()
}

fn folded_eq(name: &str, folded: &str) -> bool {
    name.len() == folded.len()
        && name.bytes().zip(folded.bytes()).all(|(a, b)| {
            let a = if a == b'_' { b'-' } else { a.to_ascii_lowercase() };
            a == b
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_every_spelling() {
        let s = StripList::new(&["X-Line-Id", "X-Line-Region"], &["X-Tenant-Override"]);
        for n in [
            "x-auth-user",
            "X_Auth_User",
            "x_auth_tenant",
            "x-auth-anything",
            "remote-user",
            "Remote_User",
            "x-forwarded-user",
            "x_forwarded_user",
            "x-line-id",
            "x_line_id",
            "x-line-region",
            "x-forwarded-for",
            "X-Original-URL",
            "x_rewrite_url",
            "X-Forwarded-Host",
            "x_forwarded_proto",
            "X-FORWARDED-PORT",
            "True-Client-IP",
            "x_client_ip",
            "CF-Connecting-IP",
            "x-tenant-override",
            "X_Tenant_Override",
        ] {
            assert!(s.should_strip(n), "{n}");
        }
        for n in ["accept", "x-authority", "x-auth", "cookie", "x-line-idx", "host"] {
            assert!(!s.should_strip(n), "{n}");
        }
    }

    fn header(names: &[(&'static str, &str)]) -> RequestHeader {
        let mut r = RequestHeader::build("GET", b"/files", None).unwrap();
        for (n, v) in names {
            r.append_header(*n, *v).unwrap();
        }
        r
    }

    fn values<'a>(r: &'a RequestHeader, name: &str) -> Vec<&'a str> {
        r.headers.get_all(name).iter().map(|v| v.to_str().unwrap()).collect()
    }

    #[test]
    fn the_origin_gets_our_word_only() {
        let strip = StripList::new(&["X-Line-Id"], &[] as &[&str]);
        let mut up = header(&[
            ("X-Original-URL", "/internal"),
            ("X_Rewrite_URL", "/internal"),
            ("X-Forwarded-Host", "evil.example"),
            ("x-forwarded-proto", "https"),
            ("X_Forwarded_Proto", "gopher"),
            ("True-Client-IP", "10.9.9.9"),
            ("CF-Connecting-IP", "10.9.9.9"),
            ("X_Auth_User", "boss@example.net"),
            ("X-Auth-Role", "owner"),
            ("Remote-User", "boss"),
            ("X-Forwarded-For", "10.9.9.9"),
            ("X-Line-Id", "CAF0000000001"),
            ("Cookie", "a=1; gw_session=secret"),
            ("Cookie", "gw_csrf=t; b=2"),
            ("Accept", "*/*"),
        ]);
        let identity = IdentityHeaders {
            user: HeaderValue::from_static("alice@example.net"),
            tenant: HeaderValue::from_static("acme"),
            role: "user",
            method: HeaderValue::from_static("password+totp"),
            line: None,
        };
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let fwd = ForwardedHost::from_base_url("http://storage.example.net:8080").unwrap();
        rewrite_upstream(&mut up, &strip, &["gw_session", "gw_csrf"], Some(ip), Some(&fwd), Some(identity)).unwrap();
        assert_eq!(values(&up, "x-forwarded-host"), ["storage.example.net:8080"]);
        assert_eq!(values(&up, "x-forwarded-proto"), ["http"]);
        assert_eq!(values(&up, "x-auth-user"), ["alice@example.net"]);
        assert_eq!(values(&up, "x-auth-role"), ["user"]);
        assert_eq!(values(&up, "x-auth-method"), ["password+totp"]);
        assert_eq!(values(&up, "x-forwarded-for"), ["198.51.100.7"]);
        assert_eq!(values(&up, "cookie"), ["a=1; b=2"]);
        assert_eq!(values(&up, "accept"), ["*/*"]);
        for gone in ["x_auth_user", "remote-user", "x-line-id", "x-auth-line", "x-original-url", "x_rewrite_url"] {
            assert!(up.headers.get(gone).is_none(), "{gone}");
        }
        let mut wire = Vec::new();
        up.header_to_h1_wire(&mut wire);
        let wire = String::from_utf8(wire).unwrap();
        for leaked in ["boss", "secret", "10.9.9.9", "/internal", "evil", "https", "gopher"] {
            assert!(!wire.contains(leaked), "{leaked}: {wire}");
        }
    }

    #[test]
    fn unauthenticated_requests_carry_no_identity_and_lose_only_our_cookies() {
        let strip = StripList::new(&[], &[] as &[&str]);
        let mut up = header(&[("X-Auth-User", "boss"), ("Cookie", "gw_session=x")]);
        rewrite_upstream(&mut up, &strip, &["gw_session"], None, None, None).unwrap();
        assert!(up.headers.get("x-auth-user").is_none());
        assert!(up.headers.get("cookie").is_none(), "a Cookie header left empty is removed");
        assert!(up.headers.get("x-forwarded-for").is_none());
    }
}
