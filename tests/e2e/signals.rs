//! Signals (issue 14, item 1), on real processes: SIGTERM turns `/readyz` to
//! 503 while the gateway serves on for `shutdown.grace`, then closes and exits
//! 0; SIGQUIT hands the listening sockets to a `serve --upgrade` process with
//! no failed request. SIGHUP's reload is `reload.rs`'s
//! `sighup_reads_the_policy_again_and_keeps_serving`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;

/// A gateway process of the test's own (the test needs its exit status).
struct Gateway {
    child: Child,
    log: PathBuf,
}

impl Gateway {
    fn spawn(env: &Env, name: &str, args: &[&str]) -> Gateway {
        let log = env.dir.path().join(format!("{name}.log"));
        let child = Command::new(bin())
            .arg("--config")
            .arg(&env.config)
            .arg("serve")
            .args(args)
            .env("GATEWAY_LOG", "info,gateway=debug,pingora=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start gateway");
        Gateway { child, log }
    }

    fn pid(&self) -> libc::pid_t {
        self.child.id() as libc::pid_t
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on a child process this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(self.pid(), sig) }, 0);
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit status once the process ended within `limit`.
    async fn exit_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after {limit:?}:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn status(c: &reqwest::Client, url: &str) -> Result<u16, String> {
    c.get(url).send().await.map(|r| r.status().as_u16()).map_err(|e| format!("{e:?}"))
}

async fn wait_ready(env: &Env, gw: &Gateway) {
    let c = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let a = status(&c, &format!("http://127.0.0.1:{}/readyz", env.port)).await;
        let b = status(&c, &format!("http://127.0.0.1:{}/readyz", env.metrics_port)).await;
        if a == Ok(200) && b == Ok(200) {
            return;
        }
        assert!(Instant::now() < deadline, "gateway not ready:\n{}", gw.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The upgrade socket in a folder only this user may enter, as the gateway demands.
fn private_socket(env: &Env) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = env.dir.path().join("run");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir.join("up.sock")
}

fn shutdown_block(grace: &str, drain: &str, socket: &Path) -> String {
    format!("shutdown:\n  grace: {grace}\n  drain: {drain}\n  upgrade_socket: \"{}\"\n", socket.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_turns_readyz_to_503_serves_through_the_grace_then_exits_0() {
    let Some(env) = Env::new(Db::Sqlite).await else { return };
    let socket = private_socket(&env);
    env.tweak_config("threads: 2\n", &format!("threads: 2\n{}", shutdown_block("3s", "10s", &socket)));
    let mut gw = Gateway::spawn(&env, "gateway", &[]);
    wait_ready(&env, &gw).await;

    // The load balancer's health check, and an ordinary client on fresh connections.
    let lb = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let readyz = format!("http://127.0.0.1:{}/readyz", env.port);
    let client = env.client(INTERNET);
    let page = env.url(ORDINARY, "/public/a");
    assert_eq!(status(&lb, &readyz).await, Ok(200));

    gw.signal(libc::SIGTERM);
    let sent = Instant::now();
    let mut first_503 = None;
    let mut served_while_unready = 0;
    let refused_at = loop {
        match status(&lb, &readyz).await {
            Ok(503) => {
                first_503.get_or_insert(sent.elapsed());
                if status(&client, &page).await == Ok(200) {
                    served_while_unready += 1;
                }
            }
            Ok(200) => assert!(first_503.is_none(), "ready again after 503"),
            Ok(other) => panic!("/readyz answered {other}"),
            Err(_) => break sent.elapsed(),
        }
        assert!(sent.elapsed() < Duration::from_secs(8), "listener never closed:\n{}", gw.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let first_503 = first_503.expect("the health check saw 503 before the listener closed");
    assert!(first_503 < Duration::from_millis(500), "503 at once, not after {first_503:?}");
    assert!(refused_at >= Duration::from_millis(2900), "the listener closed before the grace ended: {refused_at:?}");
    assert!(served_while_unready >= 10, "ordinary requests were served during the grace ({served_while_unready})");
    // Closed: connections are refused, not accepted and dropped.
    assert!(tokio::net::TcpStream::connect(env.addr()).await.is_err());
    // Nothing left to drain: it exits well before the drain time is up.
    let status = gw.exit_within(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "{}", gw.log());
    assert!(sent.elapsed() < Duration::from_secs(3 + 5), "{:?}", sent.elapsed());
    let log = gw.log();
    assert!(log.contains("SIGTERM: /readyz answers 503"), "{log}");
    assert!(log.contains("drained: no connection left"), "{log}");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_grace_closes_at_once() {
    let Some(env) = Env::new(Db::Sqlite).await else { return };
    let socket = private_socket(&env);
    env.tweak_config("threads: 2\n", &format!("threads: 2\n{}", shutdown_block("0", "5s", &socket)));
    let mut gw = Gateway::spawn(&env, "gateway", &[]);
    wait_ready(&env, &gw).await;
    gw.signal(libc::SIGTERM);
    let status = gw.exit_within(Duration::from_secs(4)).await;
    assert_eq!(status.code(), Some(0), "{}", gw.log());
    env.cleanup().await;
}

/// Requests in a loop until `stop`: each failure (an error or a status
/// other than 200) is counted with what it was.
fn load(
    client: reqwest::Client,
    url: String,
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            match client.get(&url).send().await {
                Ok(r) if r.status() == 200 => match r.bytes().await {
                    Ok(_) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => failures.lock().unwrap().push(format!("body: {e:?}")),
                },
                Ok(r) => failures.lock().unwrap().push(format!("status {}", r.status())),
                Err(e) => failures.lock().unwrap().push(format!("{e:?}")),
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_upgrade_under_load_fails_no_request() {
    let Some(env) = Env::new(Db::Sqlite).await else { return };
    let socket = private_socket(&env);
    env.tweak_config("threads: 2\n", &format!("threads: 2\n{}", shutdown_block("5s", "10s", &socket)));
    let mut old = Gateway::spawn(&env, "old", &[]);
    wait_ready(&env, &old).await;

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let url = env.url(ORDINARY, "/public/a");
    let keep_alive = env.client(INTERNET);
    let fresh = || reqwest::Client::builder().resolve(ORDINARY, env.addr()).pool_max_idle_per_host(0).build().unwrap();
    let loops = vec![
        load(keep_alive.clone(), url.clone(), stop.clone(), ok.clone(), failures.clone()),
        load(env.client(INTERNET), url.clone(), stop.clone(), ok.clone(), failures.clone()),
        load(fresh(), url.clone(), stop.clone(), ok.clone(), failures.clone()),
        load(fresh(), url.clone(), stop.clone(), ok.clone(), failures.clone()),
    ];
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = ok.load(Ordering::Relaxed);
    assert!(before > 0, "the load runs: {:?}", failures.lock().unwrap());

    // The new binary waits on the upgrade socket; then the old one is told.
    let _ = std::fs::remove_file(&socket);
    let new = Gateway::spawn(&env, "new", &["--upgrade"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "no upgrade socket:\n{}", new.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    old.signal(libc::SIGQUIT);
    // Pingora's old process accepts for 5 s more, then drains and exits.
    let status = old.exit_within(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0), "old:\n{}", old.log());
    let at_handover = ok.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for l in loops {
        l.await.unwrap();
    }
    let failures = failures.lock().unwrap().clone();
    let total = ok.load(Ordering::Relaxed);
    assert!(failures.is_empty(), "{} failed of {}: {failures:?}\nold:\n{}", failures.len(), total, old.log());
    assert!(total > at_handover, "the new process served after the old one left");
    // The new process holds the listeners alone now, and is ready.
    wait_ready(&env, &new).await;
    let c = env.client(INTERNET);
    assert_eq!(c.get(&url).send().await.unwrap().status(), 200);
    assert!(new.log().contains("waiting for the listening sockets"), "{}", new.log());
    eprintln!(
        "upgrade under load: {total} requests, {} of them after the new process was started, none failed",
        total - before
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_is_drained_before_the_exit() {
    let Some(env) = Env::new(Db::Sqlite).await else { return };
    // An origin that answers after two seconds.
    let origin = slow_origin(&env, Duration::from_secs(2)).await;
    let socket = private_socket(&env);
    env.tweak_config("threads: 2\n", &format!("threads: 2\n{}", shutdown_block("0", "10s", &socket)));
    let mut gw = Gateway::spawn(&env, "gateway", &[]);
    wait_ready(&env, &gw).await;

    let c = env.client(INTERNET);
    let url = env.url(ORDINARY, "/public/a");
    let in_flight = tokio::spawn(async move {
        let r = c.get(&url).send().await.map_err(|e| format!("{e:?}"))?;
        let status = r.status().as_u16();
        let body = r.text().await.map_err(|e| format!("{e:?}"))?;
        Ok::<_, String>((status, body))
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = Instant::now();
    gw.signal(libc::SIGTERM);
    // The listener closes at once (no grace), the request in flight finishes.
    let status = gw.exit_within(Duration::from_secs(8)).await;
    assert_eq!(status.code(), Some(0), "{}", gw.log());
    let took = sent.elapsed();
    assert_eq!(in_flight.await.unwrap(), Ok((200, "slow\n".to_owned())), "{}", gw.log());
    assert!(took >= Duration::from_millis(1200), "exited before the request was done: {took:?}");
    assert!(took < Duration::from_secs(6), "waited out the whole drain: {took:?}");
    origin.abort();
    env.cleanup().await;
}

/// Points the gateway at an origin that answers each request after `delay`.
async fn slow_origin(env: &Env, delay: Duration) -> tokio::task::JoinHandle<()> {
    let slow = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_port = slow.local_addr().unwrap().port();
    env.tweak_config(
        &format!("origin: \"127.0.0.1:{}\"", env.origin_port()),
        &format!("origin: \"127.0.0.1:{slow_port}\""),
    );
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = slow.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                tokio::time::sleep(delay).await;
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nslow\n").await;
            });
        }
    })
}

/// Pingora listens to no signal once draining; a second SIGTERM must still
/// stop a drain that waits on a stuck request, not only SIGKILL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigterm_while_draining_stops_at_once() {
    let Some(env) = Env::new(Db::Sqlite).await else { return };
    let origin = slow_origin(&env, Duration::from_secs(60)).await;
    let socket = private_socket(&env);
    env.tweak_config("threads: 2\n", &format!("threads: 2\n{}", shutdown_block("0", "60s", &socket)));
    let mut gw = Gateway::spawn(&env, "gateway", &[]);
    wait_ready(&env, &gw).await;
    let c = env.client(INTERNET);
    let url = env.url(ORDINARY, "/public/a");
    let stuck = tokio::spawn(async move { c.get(&url).send().await.map(|r| r.status().as_u16()) });
    tokio::time::sleep(Duration::from_millis(500)).await;
    gw.signal(libc::SIGTERM);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(gw.child.try_wait().unwrap().is_none(), "still draining the stuck request:\n{}", gw.log());
    let sent = Instant::now();
    gw.signal(libc::SIGTERM);
    let status = gw.exit_within(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(1), "{}", gw.log());
    assert!(sent.elapsed() < Duration::from_secs(3), "{:?}", sent.elapsed());
    assert!(gw.log().contains("a second signal while draining"), "{}", gw.log());
    stuck.abort();
    origin.abort();
    env.cleanup().await;
}
