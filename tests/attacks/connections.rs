//! SPEC section 11: header reads have a deadline, idle keep-alive connections
//! are closed, and one address cannot hold more than a configured number of
//! connections. Meanwhile everyone else, and `/healthz`, is answered at once.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

const HEADER_TIMEOUT: u64 = 2;
const IDLE_TIMEOUT: u64 = 2;
const CAP: usize = 5;

async fn connect(env: &Env, from: &str) -> TcpStream {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(format!("{from}:0").parse().unwrap()).unwrap();
    sock.connect(env.addr()).await.unwrap()
}

/// Reads one whole response (headers and a Content-Length body) off a keep-alive connection.
async fn read_response(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await.unwrap().unwrap();
        assert!(n > 0, "closed before the response was complete");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= len {
                return text;
            }
        }
    }
}

/// Waits until the server closes `s` (EOF or reset); how long that took, or
/// None if it was still open after `limit`. Bytes the server sends are read.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut chunk = [0u8; 1024];
    while start.elapsed() < limit {
        match tokio::time::timeout(limit - start.elapsed(), s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
    None
}

/// Sends `bytes` one at a time, `every` apart, until the server closes the
/// connection; how long it held out, or None if it never closed within `limit`.
async fn trickle(s: &mut TcpStream, bytes: &[u8], every: Duration, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    for b in bytes.iter().cycle() {
        if start.elapsed() > limit {
            return None;
        }
        if s.write_all(&[*b]).await.is_err() {
            return Some(start.elapsed());
        }
        let mut chunk = [0u8; 1024];
        match tokio::time::timeout(every, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            _ => {}
        }
    }
    None
}

/// `/healthz` from an innocent address, with how long it took.
async fn healthz(env: &Env) -> (u16, Duration) {
    let c = env.client("127.0.0.5");
    let start = Instant::now();
    let status = c.get(env.url(ORDINARY, "/healthz")).send().await.map(|r| r.status().as_u16()).unwrap_or(0);
    (status, start.elapsed())
}

async fn assert_others_unaffected(env: &Env, what: &str) {
    for _ in 0..3 {
        let (status, took) = healthz(env).await;
        assert_eq!(status, 200, "{what}: /healthz from another address");
        assert!(took < Duration::from_secs(1), "{what}: /healthz took {took:?}");
    }
}

const REQUEST: &str = "GET /healthz HTTP/1.1\r\nHost: storage.localhost\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_idle_and_greedy_clients_are_cut_off() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.tweak_config(
        "threads: 2\n",
        &format!(
            "threads: 2\nconnections:\n  header_timeout: {HEADER_TIMEOUT}s\n  idle_timeout: {IDLE_TIMEOUT}s\n  max_per_address: {CAP}\n"
        ),
    );
    env.start().await;
    let header = Duration::from_secs(HEADER_TIMEOUT);
    let idle = Duration::from_secs(IDLE_TIMEOUT);
    let margin = Duration::from_millis(1500);
    let limit = Duration::from_secs(15);
    let slow_header =
        b"GET /healthz HTTP/1.1\r\nHost: storage.localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    // (what, a request answered first on the connection, then what the client does)
    enum Then {
        Trickle,
        Nothing,
    }
    let cases = [
        ("a header trickled a byte at a time", false, Then::Trickle, header),
        ("a connection that never sends a byte", false, Then::Nothing, header),
        ("an idle keep-alive connection", true, Then::Nothing, idle),
        ("a trickled second request on a keep-alive connection", true, Then::Trickle, idle + header),
    ];
    for (what, answered_first, then, deadline) in cases {
        let mut s = connect(&env, INTERNET).await;
        if answered_first {
            s.write_all(REQUEST.as_bytes()).await.unwrap();
            assert!(read_response(&mut s).await.starts_with("HTTP/1.1 200"), "{what}");
        }
        let attack = async {
            match then {
                Then::Trickle => trickle(&mut s, slow_header, Duration::from_millis(400), limit).await,
                Then::Nothing => closed_within(&mut s, limit).await,
            }
        };
        let (held, ()) = tokio::join!(attack, assert_others_unaffected(&env, what));
        let held = held.unwrap_or_else(|| panic!("{what}: still open after {limit:?}"));
        assert!(held <= deadline + margin, "{what}: held {held:?}, deadline {deadline:?}");
    }

    // A normal client on a keep-alive connection is served request after request.
    let mut s = connect(&env, INTERNET).await;
    for _ in 0..3 {
        s.write_all(REQUEST.as_bytes()).await.unwrap();
        assert!(read_response(&mut s).await.starts_with("HTTP/1.1 200"));
        tokio::time::sleep(idle / 2).await;
    }
    drop(s);

    // The cap: CAP connections from one address are held open; the next is closed
    // at once, while another address is served; a freed place can be used again.
    let mut held = Vec::new();
    for _ in 0..CAP {
        held.push(connect(&env, "127.0.0.6").await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = connect(&env, "127.0.0.6").await;
    let _ = extra.write_all(REQUEST.as_bytes()).await;
    let closed = closed_within(&mut extra, Duration::from_secs(1)).await;
    assert!(closed.is_some(), "connection {} from one address was kept", CAP + 1);
    assert_others_unaffected(&env, "the cap").await;
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect(&env, "127.0.0.6").await;
    again.write_all(REQUEST.as_bytes()).await.unwrap();
    assert!(read_response(&mut again).await.starts_with("HTTP/1.1 200"), "a freed place is usable");
    assert_eq!(env.origin_count(), 0);
    env.cleanup().await;
}
