//! Faults (issue 14, item 0): the origin down or slow, Pingora's own bare
//! answers, a wrong method on the auth UI, the database unreachable. Each
//! answer is the gateway's own (security headers, never `Server: Pingora`),
//! and an outage is logged once, not at every retry.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

const SECURITY_HEADERS: [&str; 4] = [
    "x-content-type-options: nosniff",
    "x-frame-options: deny",
    "content-security-policy: ",
    "cache-control: no-store",
];

/// Sends raw bytes and reads the whole answer (the gateway closes after it).
async fn raw(env: &Env, request: &[u8]) -> String {
    let mut s = TcpStream::connect(env.addr()).await.expect("connect");
    s.write_all(request).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The answer's head, lower-cased, checked to be the gateway's own.
fn ours(answer: &str, status: u16) -> String {
    let head = answer.split("\r\n\r\n").next().unwrap_or_default().to_ascii_lowercase();
    assert!(head.starts_with(&format!("http/1.1 {status} ")), "want {status}:\n{answer}");
    assert!(!head.contains("pingora"), "Pingora's bare answer leaked:\n{answer}");
    for h in SECURITY_HEADERS {
        assert!(head.contains(h), "{h} missing:\n{answer}");
    }
    head
}

async fn signed_in(env: &mut Env) -> reqwest::Client {
    env.seed_tenant("acme", "alice@acme.example", "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let c = env.client(INTERNET);
    let r = login(&c, env, ORDINARY, "alice@acme.example", PASSWORD, &[]).await;
    assert_eq!(r.status(), 303, "signed in");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_down_is_a_502_page_for_browsers_and_a_status_for_api_clients() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    // Nothing listens there: every connection is refused.
    let nowhere = free_port();
    env.tweak_config(
        &format!("origin: \"127.0.0.1:{}\"", env.origin_port()),
        &format!("origin: \"127.0.0.1:{nowhere}\""),
    );
    let c = signed_in(&mut env).await;

    for (lang, title) in [("en", "The service cannot be reached"), ("ja", "サービスに接続できません")] {
        let r = c
            .get(env.url(ORDINARY, "/files/a.txt"))
            .header("accept", "text/html")
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 502);
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        assert!(r.headers().get("server").is_none_or(|s| !s.to_str().unwrap().contains("Pingora")));
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let page = r.text().await.unwrap();
        assert!(page.contains(title) && page.contains(&format!("lang=\"{lang}\"")), "{page}");
    }
    let r = c.get(env.url(ORDINARY, "/files/a.txt")).header("accept", "application/json").send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(r.text().await.unwrap().starts_with("bad gateway"));

    // A public path fails the same way, and the raw answer is ours.
    let answer = raw(&env, b"GET /public/a HTTP/1.1\r\nHost: storage.localhost\r\n\r\n").await;
    ours(&answer, 502);

    // Ten failed requests are one outage: logged once (with back-off after),
    // and Pingora's own per-request error line is not written.
    for _ in 0..10 {
        let _ = c.get(env.url(ORDINARY, "/public/a")).send().await.unwrap();
    }
    let log = env.log();
    let started = log.matches("reaching the origin failed").count();
    assert_eq!(started, 1, "{log}");
    assert!(log.matches("reaching the origin still failing").count() <= 2, "{log}");
    assert!(!log.contains("Fail to proxy"), "{log}");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_origin_is_a_504_after_the_read_timeout() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    // An origin that accepts and never answers.
    let slow = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_port = slow.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = slow.accept().await {
            open.push(s);
        }
    });
    env.tweak_config(
        &format!("origin: \"127.0.0.1:{}\"", env.origin_port()),
        &format!("origin: \"127.0.0.1:{slow_port}\""),
    );
    env.tweak_config("threads: 2\n", "threads: 2\norigin_timeouts:\n  connect: 2s\n  read: 1s\n");
    let c = signed_in(&mut env).await;

    let t = Instant::now();
    let r = c.get(env.url(ORDINARY, "/files/a.txt")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(r.status(), 504);
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(5), "{waited:?}");
    assert!(r.text().await.unwrap().contains("taking too long"));
    let r = c.get(env.url(ORDINARY, "/files/a.txt")).send().await.unwrap();
    assert_eq!(r.status(), 504);
    assert!(r.text().await.unwrap().starts_with("gateway timeout"));
    ours(&raw(&env, b"GET /public/a HTTP/1.1\r\nHost: storage.localhost\r\n\r\n").await, 504);
    held.abort();
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pingoras_bare_answers_are_replaced_by_the_gateways() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.start().await;
    let before = env.origin_count();
    // Heads Pingora cannot parse: it answers 400 before any phase of ours.
    for bad in [
        &b"GET / HTTP/1.1\r\nHost: storage.localhost\r\nNo colon here\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: storage.localhost\r\nBad\x01Name: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ] {
        let answer = raw(&env, bad).await;
        let head = ours(&answer, 400);
        assert!(head.contains("connection: close"), "{answer}");
        assert!(answer.contains("The request could not be read"), "{answer}");
    }
    // CONNECT: Pingora's 405, now ours, with Allow.
    let answer = raw(&env, b"CONNECT storage.localhost:443 HTTP/1.1\r\nHost: storage.localhost:443\r\n\r\n").await;
    let head = ours(&answer, 405);
    assert!(head.contains("\r\nallow: get, head, post"), "{answer}");
    // A good request on a fresh connection still works, with keep-alive.
    let answer = raw(&env, b"GET /public/a HTTP/1.1\r\nHost: storage.localhost\r\nConnection: close\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(env.origin_count(), before + 1, "only the good request reached the origin");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_on_the_auth_ui_is_405_with_allow() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.start().await;
    let c = env.client(INTERNET);
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/auth/login", "GET, HEAD, POST"),
        (reqwest::Method::DELETE, "/auth/login", "GET, HEAD, POST"),
        (reqwest::Method::POST, "/auth/verified", "GET, HEAD"),
    ] {
        let r = c.request(method.clone(), env.url(ORDINARY, path)).send().await.unwrap();
        assert_eq!(r.status(), 405, "{method} {path}");
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
    }
    env.cleanup().await;
}

/// A TCP relay to PostgreSQL that the test can cut (every connection closed,
/// new ones refused) and mend.
struct Relay {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("relay bind");
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut pg) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut pg).await;
                    }
                });
            }
        });
        Relay { task: Some(task) }
    }

    /// Aborting the accept loop drops the listener and, with the JoinSet,
    /// every relayed connection.
    fn cut(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_the_database_and_the_outage_is_logged_once() {
    let Some(mut env) = Env::new(Db::Postgres).await else { return };
    let relay_port = free_port();
    let mut relay = Relay::start(relay_port).await;
    env.tweak_config("@127.0.0.1:5432/", &format!("@127.0.0.1:{relay_port}/"));
    env.tweak_config("database: \"", "database_allow_plain_text: true\ndatabase: \"");
    env.start().await;
    let c = env.client(INTERNET);
    let metrics = reqwest::Client::new();
    let readyz = |port: u16| {
        let metrics = metrics.clone();
        async move { metrics.get(format!("http://127.0.0.1:{port}/readyz")).send().await.map(|r| r.status().as_u16()) }
    };
    assert_eq!(env.metric("gateway_database_up").await, 1.0);

    relay.cut();
    let cut_at = Instant::now();
    eventually("readyz says 503 on both listeners", || async {
        readyz(env.port).await.is_ok_and(|s| s == 503) && readyz(env.metrics_port).await.is_ok_and(|s| s == 503)
    })
    .await;
    // Two failed checks in a row, 2 s apart, each given 1.5 s.
    assert!(cut_at.elapsed() < Duration::from_secs(9), "noticed within a few seconds: {:?}", cut_at.elapsed());
    assert_eq!(env.metric("gateway_database_up").await, 0.0);
    // The proxy itself still answers; /healthz says the process lives.
    assert_eq!(c.get(env.url(ORDINARY, "/healthz")).send().await.unwrap().status(), 200);
    // Eight seconds of outage: the change follower retries every second (and
    // its listener every second): without back-off some 16 warnings.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let during = env.log();

    let _relay = Relay::start(relay_port).await;
    eventually("readyz says 200 again", || async {
        readyz(env.port).await.is_ok_and(|s| s == 200) && readyz(env.metrics_port).await.is_ok_and(|s| s == 200)
    })
    .await;
    assert_eq!(env.metric("gateway_database_up").await, 1.0);
    eventually("the outage's end is logged", || async { env.log().contains("the database health check works again") })
        .await;

    let count = |needle: &str| during.matches(needle).count();
    assert_eq!(count("the database health check failed"), 1, "{during}");
    assert!(count("the database health check still failing") <= 3, "{during}");
    assert!(count("reading the change log failed") <= 1, "{during}");
    assert!(count("reading the change log still failing") <= 4, "{during}");
    assert!(count("listening for changes") <= 5, "{during}");
    assert!(!during.contains("cannot read the change log"), "the old per-retry warning: {during}");
    let warnings = during.lines().filter(|l| l.contains("WARN")).count();
    assert!(warnings <= 15, "{warnings} warnings in 8 s of outage:\n{during}");
    eprintln!("database outage: {warnings} WARN lines in about 10 s of outage");
    if std::env::var_os("SHOW_OUTAGE_LOG").is_some() {
        eprintln!("{during}");
    }
    env.cleanup().await;
}
