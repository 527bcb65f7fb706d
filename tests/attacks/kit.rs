//! What many attack classes need: a signed-in client, and raw bytes on a socket
//! for what an HTTP client library refuses to send (duplicate Host, smuggling).

#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

pub const USER: &str = "alice@acme.example";

/// A running gateway with tenant `acme` (2FA off) and a client signed in as
/// alice (a plain user) from the internet.
pub async fn signed_in(db: Db) -> Option<(Env, reqwest::Client)> {
    let mut env = Env::new(db).await?;
    env.seed_tenant("acme", USER, "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let c = env.client(INTERNET);
    let r = login(&c, &env, ORDINARY, USER, PASSWORD, &[]).await;
    assert_eq!(r.status(), 303, "alice signs in");
    Some((env, c))
}

/// A new session of alice's, signed in from the internet, as `gw_session=…`.
pub async fn fresh_session(env: &Env) -> String {
    let r = login(&env.client(INTERNET), env, ORDINARY, USER, PASSWORD, &[]).await;
    assert_eq!(r.status(), 303, "alice signs in");
    set_cookie_pair(&r, "gw_session").expect("session cookie")
}

/// What came back on one raw connection: every response's status line in order
/// and the whole text.
pub struct Raw {
    pub statuses: Vec<u16>,
    pub text: String,
}

impl Raw {
    pub fn first(&self) -> Option<u16> {
        self.statuses.first().copied()
    }
}

/// Sends `request` as is from the source address `from` and reads until the
/// gateway closes the connection or goes quiet for `quiet`.
pub async fn raw_with(env: &Env, from: &str, request: &[u8], quiet: Duration) -> Raw {
    let ip: IpAddr = from.parse().expect("source address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(ip, 0)).expect("bind source address");
    let mut stream = socket.connect(env.addr()).await.expect("connect");
    // The gateway may refuse and close before it has read everything (an
    // oversized head): what it answered, if anything, is still read below.
    let _ = stream.write_all(request).await;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        match tokio::time::timeout(quiet, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let statuses = text
        .match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| text[i + 9..].get(..3).and_then(|s| s.parse().ok()))
        .collect();
    Raw { statuses, text }
}

pub async fn raw(env: &Env, from: &str, request: &[u8]) -> Raw {
    raw_with(env, from, request, Duration::from_millis(1500)).await
}

/// A client with no cookie store, for requests that carry a chosen Cookie header.
pub fn bare(env: &Env) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(ORDINARY, env.addr())
        .resolve(LINE_HOST, env.addr())
        .build()
        .expect("client")
}

/// Asserts that the origin received nothing since `before` (a count from
/// `env.origin_count()`), naming the attack that leaked.
pub fn nothing_reached_origin(env: &Env, before: usize, attack: &str) {
    let seen = env.origin_requests();
    assert_eq!(
        seen.len(),
        before,
        "{attack}: the origin received {:?}",
        seen.iter().skip(before).map(|e| format!("{} {}", e.method, e.path)).collect::<Vec<_>>()
    );
}
