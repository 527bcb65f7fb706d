//! SPEC section 11: path rules see segment parameters (`;…`) removed, a segment
//! that is only dots once they are gone is refused, and restrictive rules match
//! every spelling a Tomcat/Spring, Windows or case-folding origin would take for
//! their path. The demo rules: bypass /public, deny /internal, /admin for admins.
//! Sent as raw bytes: an HTTP client library would resolve some dot-segments first.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

const USER: &str = "alice@acme.example";

/// (path, what a signed-in plain user gets): 400 for a dot-segment behind
/// parameters, 403 for a denied or admin path in any spelling.
const WALKS: &[(&str, u16)] = &[
    ("/public/..;/internal", 400),
    ("/public/..;/internal/x", 400),
    ("/public/%2e%2e;/internal", 400),
    ("/public/%2E%2E;x=1/internal", 400),
    ("/public/.;/../internal", 400),
    ("/public/..;x/..;y/internal", 400),
    ("/public/..%3B/internal", 400),
    ("/public/...", 400),
    ("/public/..%20/internal", 400),
    ("/public/%2e%2e%20/internal", 400),
    ("/public;/../internal", 403),
    ("/internal;x=1", 403),
    ("/internal;jsessionid=abc/x", 403),
    ("/internal%3Bx", 403),
    ("/Internal", 403),
    ("/INTERNAL/x", 403),
    ("/iNtErNaL/", 403),
    ("/internal.", 403),
    ("/internal..", 403),
    ("/internal%20", 403),
    ("/internal.%20", 403),
    ("/internal./x", 403),
    ("/internal%20/x", 403),
    ("/internal/", 403),
    ("/files/../Internal;p/x", 403),
    ("/admin;x=1/users", 403),
    ("/ADMIN/users", 403),
    ("/Admin./users", 403),
    ("/admin%20/users", 403),
];

/// The status line of the gateway's answer to `GET path` sent as is, or None
/// when it closed without answering.
async fn raw_get(env: &Env, path: &str, cookie: Option<&str>) -> Option<u16> {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(INTERNET.parse::<IpAddr>().expect("ip"), 0)).expect("bind");
    let mut stream = socket.connect(env.addr()).await.expect("connect");
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {ORDINARY}\r\nAccept: */*\r\n{cookie}Connection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    text.strip_prefix("HTTP/1.1 ").and_then(|t| t.get(..3)).and_then(|s| s.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_rules_cannot_be_walked_around() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.seed_tenant("acme", USER, "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let r = login(&env.client(INTERNET), &env, ORDINARY, USER, PASSWORD, &[]).await;
    assert_eq!(r.status(), 303, "alice signs in");
    let cookie = set_cookie_pair(&r, "gw_session").expect("session cookie");

    let mut open = Vec::new();
    for (path, want) in WALKS {
        for (who, c) in [("alice", Some(cookie.as_str())), ("anonymous", None)] {
            let before = env.origin_count();
            let got = raw_get(&env, path, c).await;
            let reached: Vec<_> = env.origin_requests().into_iter().skip(before).map(|e| e.path).collect();
            // Without a session a role path asks to log in (302/401): also refused.
            let ok = match (who, *want) {
                ("anonymous", 403) if path.to_ascii_lowercase().contains("admin") => {
                    matches!(got, Some(302 | 401 | 403))
                }
                _ => got == Some(*want),
            };
            if !ok || !reached.is_empty() {
                open.push(format!("{who} {path}: {got:?} (want {want}), origin saw {reached:?}"));
            }
        }
    }
    assert!(open.is_empty(), "walk-arounds still open:\n{}", open.join("\n"));

    // Legitimate paths keep working, and the origin reads what the rules saw.
    for (path, c, seen) in [
        ("/public/a.css", None, "/public/a.css"),
        ("/public/a.css;v=2", None, "/public/a.css"),
        ("/files/report.pdf", Some(cookie.as_str()), "/files/report.pdf"),
        ("/files/a;jsessionid=1", Some(cookie.as_str()), "/files/a"),
        ("/files/a%3Bb.txt", Some(cookie.as_str()), "/files/a%3Bb.txt"),
        ("/files/.hidden/x..y", Some(cookie.as_str()), "/files/.hidden/x..y"),
        ("/internals", Some(cookie.as_str()), "/internals"),
    ] {
        let before = env.origin_count();
        assert_eq!(raw_get(&env, path, c).await, Some(200), "{path}");
        let reached: Vec<_> = env.origin_requests().into_iter().skip(before).map(|e| e.path).collect();
        assert_eq!(reached, [seen], "{path}");
    }
    env.cleanup().await;
}
