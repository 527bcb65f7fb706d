//! Identity and routing headers: everything a client sends that the origin could
//! mistake for our word (who the user is, where the request came from, which
//! host, scheme or path it was for) is removed; then ours are added.

use std::net::IpAddr;

use http::{HeaderName, HeaderValue};
use pingora::http::{PreparedHeaderName, RequestHeader};
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
#[derive(Debug, Clone)]
pub struct StripList {
    extra: Vec<String>,
    /// The first bytes, folded, of every name above: a name starting with any
    /// other byte is kept after one look. A browser sends a dozen headers, and
    /// most (`accept`, `user-agent`, `sec-…`, `host`) are settled there instead
    /// of being compared with twenty names each.
    first: [bool; 256],
}

impl StripList {
    pub fn new<S: AsRef<str>>(carrier_headers: &[&str], configured: &[S]) -> Self {
        let extra = carrier_headers.iter().copied().chain(configured.iter().map(|h| h.as_ref()));
        let extra: Vec<String> = extra.map(fold).collect();
        let mut first = [false; 256];
        let all = EXACT.iter().chain(PREFIXES).copied().chain(extra.iter().map(String::as_str));
        for b in all.filter_map(|n| n.bytes().next()) {
            first[usize::from(fold_byte(b))] = true;
        }
        StripList { extra, first }
    }

    pub fn should_strip(&self, name: &str) -> bool {
        let Some(&b) = name.as_bytes().first() else { return false };
        if !self.first[usize::from(fold_byte(b))] {
            return false;
        }
        EXACT.iter().any(|e| folded_eq(name, e))
            || PREFIXES.iter().any(|p| name.len() >= p.len() && folded_eq(&name[..p.len()], p))
            || self.extra.iter().any(|e| folded_eq(name, e))
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

/// The names of the headers the gateway sets, parsed once at start-up: inserting
/// one per request then neither parses nor allocates its name
/// (`vendor/PATCHES.md`, patch 1). Lower case, as the origin has always seen them.
struct Names {
    forwarded_for: PreparedHeaderName,
    forwarded_host: PreparedHeaderName,
    forwarded_proto: PreparedHeaderName,
    cookie: PreparedHeaderName,
    user: PreparedHeaderName,
    tenant: PreparedHeaderName,
    role: PreparedHeaderName,
    method: PreparedHeaderName,
    line: PreparedHeaderName,
}

impl Names {
    fn new() -> pingora::Result<Names> {
        Ok(Names {
            forwarded_for: PreparedHeaderName::from_static("x-forwarded-for")?,
            forwarded_host: PreparedHeaderName::from_static("x-forwarded-host")?,
            forwarded_proto: PreparedHeaderName::from_static("x-forwarded-proto")?,
            cookie: PreparedHeaderName::from_static("cookie")?,
            user: PreparedHeaderName::from_static("x-auth-user")?,
            tenant: PreparedHeaderName::from_static("x-auth-tenant")?,
            role: PreparedHeaderName::from_static("x-auth-role")?,
            method: PreparedHeaderName::from_static("x-auth-method")?,
            line: PreparedHeaderName::from_static("x-auth-line")?,
        })
    }
}

/// How many headers `rewrite_upstream` may add: three `X-Forwarded-*`, five `X-Auth-*`.
const ADDED_HEADERS: usize = 8;

/// How the header sent upstream is rewritten, prepared once at start-up.
pub struct Rewrite {
    strip: StripList,
    names: Names,
    /// The carrier's line header: its value, when it is the line the gateway
    /// established, becomes `X-Auth-Line` as it is, without a copy.
    line_header: Option<HeaderName>,
}

impl Rewrite {
    pub fn new(strip: StripList, line_header: Option<HeaderName>) -> pingora::Result<Rewrite> {
        Ok(Rewrite { strip, names: Names::new()?, line_header })
    }
}

/// The header the origin gets: client-sent identity, routing and carrier headers
/// removed, `X-Forwarded-For` set to the client the gateway established,
/// `X-Forwarded-Host`/`-Proto` to the hostname's public URL, `own_cookies`
/// dropped from `Cookie`, and ours added when the request is authenticated.
pub fn rewrite_upstream(
    up: &mut RequestHeader,
    rules: &Rewrite,
    own_cookies: &[&str],
    client_ip: Option<IpAddr>,
    forwarded: Option<&ForwardedHost>,
    identity: Option<IdentityHeaders>,
) -> pingora::Result<()> {
    let names = &rules.names;
    let carrier_line = strip_headers(up, &rules.strip, rules.line_header.as_ref());
    // Room for what is added below (`X-Forwarded-*` and `X-Auth-*`), so that the
    // maps grow once, not at each power of two (`vendor/PATCHES.md`, patch 2).
    up.reserve(ADDED_HEADERS)?;
    if let Some(ip) = client_ip {
        match ip {
            IpAddr::V4(v4) => up.insert_header(&names.forwarded_for, ipv4_text(v4, &mut [0; 15]))?,
            IpAddr::V6(_) => up.insert_header(&names.forwarded_for, ip.to_string())?,
        }
    }
    if let Some(f) = forwarded {
        up.insert_header(&names.forwarded_host, f.host.clone())?;
        up.insert_header(&names.forwarded_proto, HeaderValue::from_static(f.proto))?;
    }
    // The origin never sees our own cookies: a session id in its logs would be a login.
    if let Some(kept) = crate::session::without_own_cookies(&up.headers, own_cookies) {
        if kept.is_empty() {
            up.remove_header(names.cookie.name());
        } else {
            // Inserting replaces every `Cookie` line the browser sent.
            up.insert_header(&names.cookie, kept)?;
        }
    }
    if let Some(id) = identity {
        up.insert_header(&names.user, id.user)?;
        up.insert_header(&names.tenant, id.tenant)?;
        // Static: no allocation per request (the names are checked by a test).
        up.insert_header(&names.role, HeaderValue::from_static(id.role))?;
        up.insert_header(&names.method, id.method)?;
        if let Some(line) = id.line {
            match carrier_line.filter(|v| v.as_bytes() == line.as_str().as_bytes()) {
                Some(same) => up.insert_header(&names.line, same)?,
                None => up.insert_header(&names.line, line.as_str())?,
            }
        }
    }
    Ok(())
}

/// An IPv4 address in dotted decimal, written into `buf` by hand: `Display` goes
/// through the formatting machinery, which cost more than any other single step
/// of the upstream rewrite (about 1 500 instructions a request).
fn ipv4_text(ip: std::net::Ipv4Addr, buf: &mut [u8; 15]) -> &[u8] {
    let mut n = 0;
    for (i, octet) in ip.octets().into_iter().enumerate() {
        let digits = [octet / 100, octet / 10 % 10, octet % 10];
        let skip = usize::from(octet < 100) + usize::from(octet < 10);
        let dot = usize::from(i > 0);
        let len = dot + 3 - skip;
        // Four octets of at most three digits and three dots: 15 bytes at most.
        let Some(out) = buf.get_mut(n..n + len) else { break };
        if dot == 1 {
            out[0] = b'.';
        }
        for (o, d) in out[dot..].iter_mut().zip(&digits[skip..]) {
            *o = b'0' + d;
        }
        n += len;
    }
    &buf[..n]
}

/// Removes every header `strip` names, without collecting the names first (no
/// allocation when nothing or little is removed). Returns the first value of
/// `line_header` that was removed.
fn strip_headers(up: &mut RequestHeader, strip: &StripList, line_header: Option<&HeaderName>) -> Option<HeaderValue> {
    let mut line_value = None;
    // Each round removes one name with all its values, so it ends; the bound is
    // a second guard.
    for _ in 0..=up.headers.keys_len() {
        let Some(name) = up.headers.keys().find(|n| strip.should_strip(n.as_str())) else {
            break;
        };
        let is_line = line_header.is_some_and(|l| l == name);
        let mut buf = [0u8; 64];
        let removed = match on_stack(&mut buf, name) {
            Some(copy) => up.remove_header(copy),
            None => {
                let owned = name.clone();
                up.remove_header(&owned)
            }
        };
        if is_line && line_value.is_none() {
            line_value = removed;
        }
    }
    line_value
}

/// A copy of `name` in `buf`: the name is borrowed from the map it is about to be
/// removed from, and cloning a parsed custom name allocates. None for a name
/// longer than the buffer.
fn on_stack<'b>(buf: &'b mut [u8; 64], name: &HeaderName) -> Option<&'b str> {
    let room = buf.get_mut(..name.as_str().len())?;
    room.copy_from_slice(name.as_str().as_bytes());
    std::str::from_utf8(room).ok()
}

fn fold(s: &str) -> String {
    s.chars().map(|c| if c == '_' { '-' } else { c.to_ascii_lowercase() }).collect()
}

fn fold_byte(b: u8) -> u8 {
    if b == b'_' { b'-' } else { b.to_ascii_lowercase() }
}

fn folded_eq(name: &str, folded: &str) -> bool {
    name.len() == folded.len() && name.bytes().zip(folded.bytes()).all(|(a, b)| fold_byte(a) == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_text_is_what_display_writes() {
        let octets = [0u8, 1, 9, 10, 42, 99, 100, 101, 199, 200, 249, 250, 255];
        for a in octets {
            for b in octets {
                for ip in [
                    std::net::Ipv4Addr::new(a, b, a, b),
                    std::net::Ipv4Addr::new(b, a, 0, 255),
                    std::net::Ipv4Addr::new(255, a, b, 7),
                ] {
                    assert_eq!(ipv4_text(ip, &mut [0; 15]), ip.to_string().as_bytes(), "{ip}");
                }
            }
        }
    }

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
        // Names starting with `_` or `-` fold alike, in the first-byte table too.
        let odd = StripList::new(&[], &["_Odd_Header"]);
        assert!(odd.should_strip("-odd-header") && odd.should_strip("_odd_header"));
        assert!(!odd.should_strip("odd-header") && !odd.should_strip(""));
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
        let rules = Rewrite::new(strip, None).unwrap();
        rewrite_upstream(&mut up, &rules, &["gw_session", "gw_csrf"], Some(ip), Some(&fwd), Some(identity)).unwrap();
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
        rewrite_upstream(&mut up, &Rewrite::new(strip, None).unwrap(), &["gw_session"], None, None, None).unwrap();
        assert!(up.headers.get("x-auth-user").is_none());
        assert!(up.headers.get("cookie").is_none(), "a Cookie header left empty is removed");
        assert!(up.headers.get("x-forwarded-for").is_none());
    }

    fn line_identity(line: &str) -> IdentityHeaders {
        IdentityHeaders {
            user: HeaderValue::from_static("alice@example.net"),
            tenant: HeaderValue::from_static("acme"),
            role: "user",
            method: HeaderValue::from_static("line"),
            line: Some(line.parse().unwrap()),
        }
    }

    #[test]
    fn the_line_header_becomes_x_auth_line_only_with_the_established_value() {
        let line_header = HeaderName::from_static("x-line-id");
        let rules = Rewrite::new(StripList::new(&["X-Line-Id"], &[] as &[&str]), Some(line_header)).unwrap();
        // The carrier's value is the established line: it is moved, not copied.
        let mut up = header(&[("X-Line-Id", "CAF0000000001"), ("X_Line_Id", "CAF0000000999")]);
        rewrite_upstream(&mut up, &rules, &[], None, None, Some(line_identity("CAF0000000001"))).unwrap();
        assert_eq!(values(&up, "x-auth-line"), ["CAF0000000001"]);
        assert!(up.headers.get("x-line-id").is_none() && up.headers.get("x_line_id").is_none());
        // A header value that is not the established line's spelling is never passed on.
        let mut up = header(&[("X-Line-Id", "caf0000000001 ")]);
        rewrite_upstream(&mut up, &rules, &[], None, None, Some(line_identity("CAF0000000001"))).unwrap();
        assert_eq!(values(&up, "x-auth-line"), ["CAF0000000001"]);
        // Only the identity decides: a carrier header with another line changes nothing.
        let mut up = header(&[("X-Line-Id", "CAF0000000002")]);
        rewrite_upstream(&mut up, &rules, &[], None, None, Some(line_identity("CAF0000000001"))).unwrap();
        assert_eq!(values(&up, "x-auth-line"), ["CAF0000000001"]);
    }

    #[test]
    fn many_and_long_names_are_all_stripped() {
        let long = "x-auth-".to_owned() + &"a".repeat(100);
        let long: &'static str = Box::leak(long.into_boxed_str());
        let rules = Rewrite::new(StripList::new(&[], &[] as &[&str]), None).unwrap();
        let mut names: Vec<(&'static str, &str)> =
            (0..40).map(|i| (&*Box::leak(format!("x-forwarded-n{i}").into_boxed_str()), "v")).collect();
        names.push((long, "v"));
        names.push(("accept", "*/*"));
        let mut up = header(&names);
        rewrite_upstream(&mut up, &rules, &[], None, None, None).unwrap();
        let left: Vec<&str> = up.headers.keys().map(|n| n.as_str()).collect();
        assert_eq!(left, ["accept"]);
    }
}
