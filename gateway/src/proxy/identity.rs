//! Identity headers: everything a client sends that the origin could mistake
//! for our word is removed; then ours are added.

use std::net::IpAddr;

use http::{HeaderName, HeaderValue};
use pingora::http::RequestHeader;
use policy::LineId;

/// Names compared with `_` read as `-`, because some servers treat `X_Auth_User`
/// as `X-Auth-User` (CGI-style environments do).
const EXACT: &[&str] = &[
    "remote-user",
    "remote-email",
    "remote-groups",
    "remote-name",
    "x-remote-user",
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-groups",
    "x-forwarded-preferred-username",
    "x-forwarded-access-token",
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
];
const PREFIXES: &[&str] = &["x-auth-"];

/// The configured carrier header names, in the same folded form.
#[derive(Debug, Clone, Default)]
pub struct StripList {
    extra: Vec<String>,
}

impl StripList {
    pub fn new(carrier_headers: &[&str]) -> Self {
        StripList { extra: carrier_headers.iter().map(|h| fold(h)).collect() }
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

/// Who the origin is told the request comes from, as values ready to insert.
pub struct IdentityHeaders {
    pub user: HeaderValue,
    pub tenant: HeaderValue,
    pub role: &'static str,
    pub method: &'static str,
    pub line: Option<LineId>,
}

/// The header the origin gets: client-sent identity and carrier headers removed,
/// `X-Forwarded-For` set to the client the gateway established, `own_cookies`
/// dropped from `Cookie`, and ours added when the request is authenticated.
pub fn rewrite_upstream(
    up: &mut RequestHeader,
    strip: &StripList,
    own_cookies: &[&str],
    client_ip: Option<IpAddr>,
    identity: Option<IdentityHeaders>,
) -> pingora::Result<()> {
    for name in strip.select(up.headers.keys()) {
        up.remove_header(&name);
    }
    if let Some(ip) = client_ip {
        up.insert_header("x-forwarded-for", ip.to_string())?;
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
        up.insert_header("x-auth-method", HeaderValue::from_static(id.method))?;
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
        let s = StripList::new(&["X-Line-Id", "X-Line-Region"]);
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
        let strip = StripList::new(&["X-Line-Id"]);
        let mut up = header(&[
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
            method: "password+totp",
            line: None,
        };
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        rewrite_upstream(&mut up, &strip, &["gw_session", "gw_csrf"], Some(ip), Some(identity)).unwrap();
        assert_eq!(values(&up, "x-auth-user"), ["alice@example.net"]);
        assert_eq!(values(&up, "x-auth-role"), ["user"]);
        assert_eq!(values(&up, "x-auth-method"), ["password+totp"]);
        assert_eq!(values(&up, "x-forwarded-for"), ["198.51.100.7"]);
        assert_eq!(values(&up, "cookie"), ["a=1; b=2"]);
        assert_eq!(values(&up, "accept"), ["*/*"]);
        for gone in ["x_auth_user", "remote-user", "x-line-id", "x-auth-line"] {
            assert!(up.headers.get(gone).is_none(), "{gone}");
        }
        let mut wire = Vec::new();
        up.header_to_h1_wire(&mut wire);
        let wire = String::from_utf8(wire).unwrap();
        assert!(!wire.contains("boss") && !wire.contains("secret") && !wire.contains("10.9.9.9"), "{wire}");
    }

    #[test]
    fn unauthenticated_requests_carry_no_identity_and_lose_only_our_cookies() {
        let strip = StripList::new(&[]);
        let mut up = header(&[("X-Auth-User", "boss"), ("Cookie", "gw_session=x")]);
        rewrite_upstream(&mut up, &strip, &["gw_session"], None, None).unwrap();
        assert!(up.headers.get("x-auth-user").is_none());
        assert!(up.headers.get("cookie").is_none(), "a Cookie header left empty is removed");
        assert!(up.headers.get("x-forwarded-for").is_none());
    }
}
