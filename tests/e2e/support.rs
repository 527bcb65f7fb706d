//! Starts real processes for a test: the demo origin and the gateway, on free
//! ports, with a fresh SQLite file or a fresh PostgreSQL database.
//!
//! Loopback addresses stand for the networks a test needs: requests from
//! 127.0.0.1 are "the internet", 127.0.0.2 is the carrier network (it may assert
//! line ids), 127.0.0.3 is a trusted reverse proxy (it may speak X-Forwarded-For).

#![allow(dead_code)]

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ORDINARY: &str = "storage.localhost";
pub const LINE_HOST: &str = "line.storage.localhost";
pub const INTERNET: &str = "127.0.0.1";
pub const CARRIER: &str = "127.0.0.2";
pub const PROXY: &str = "127.0.0.3";
pub const PASSWORD: &str = "Corr3ct-Horse";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A port for a listener the test is about to start. Taken below the kernel's
/// ephemeral range (32768 and up on Linux): a port from `bind(0)` is free only
/// until some test's outgoing connection picks the same number, which once made a
/// gateway fail to bind its metrics listener in CI. Each test process walks its
/// own stretch of the range, so parallel tests never hand out the same port.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % SPAN,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..SPAN {
        let port = (LOW + NEXT.fetch_add(1, Ordering::SeqCst) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between {LOW} and {}", LOW + SPAN)
}

/// The gateway binary; `GATEWAY_TEST_BIN` runs the tests against another build
/// (e.g. the one before a fix, to see a new attack test fail there).
pub fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| std::env::var("GATEWAY_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_gateway").to_owned()))
}

fn random_hex() -> String {
    let mut buf = [0u8; 8];
    std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf)).expect("urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key every test gateway shares (required with PostgreSQL, where two
/// instances must read each other's authenticator secrets).
pub const TEST_TOTP_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh PostgreSQL database, or None (with a note) when there is no server
/// here. In CI the server is required: its absence fails the test.
pub async fn postgres_database() -> Option<String> {
    use sqlx::Connection;
    let mut admin = match sqlx::PgConnection::connect(PG_ADMIN).await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false") {
                panic!("PostgreSQL is required in CI but {PG_ADMIN} is unreachable: {e}");
            }
            eprintln!("SKIPPED: no PostgreSQL at {PG_ADMIN}: {e}");
            return None;
        }
    };
    let name = format!("gw_e2e_{}", random_hex());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    Some(format!("postgres://postgres@127.0.0.1:5432/{name}"))
}

pub async fn drop_postgres_database(url: &str) {
    use sqlx::Connection;
    let Some(name) = url.rsplit('/').next() else { return };
    if let Ok(mut admin) = sqlx::PgConnection::connect(PG_ADMIN).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await;
    }
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub policy: PathBuf,
    pub port: u16,
    pub metrics_port: u16,
    pub database: String,
    pub db: Db,
    origin: Option<Proc>,
    gateway: Option<Proc>,
}

impl Env {
    /// Writes the configuration and migrates the database; nothing runs yet, so
    /// a test can seed tenants with the CLI first. None: no PostgreSQL here.
    pub async fn new(db: Db) -> Option<Env> {
        Env::with_policy(db, "paths:\n  - prefix: /public\n    action: bypass\n  - prefix: /internal\n    action: deny\n  - prefix: /admin\n    require_role: admin\n").await
    }

    pub async fn with_policy(db: Db, policy_yaml: &str) -> Option<Env> {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = match db {
            Db::Sqlite => format!("sqlite://{}", dir.path().join("gw.db").display()),
            Db::Postgres => postgres_database().await?,
        };
        let port = free_port();
        let metrics_port = free_port();
        let origin_port = free_port();
        let policy = dir.path().join("policy.yaml");
        std::fs::write(&policy, policy_yaml).expect("write policy");
        let config = dir.path().join("gateway.yaml");
        let yaml = format!(
            "listen: \"127.0.0.1:{port}\"\n\
             hosts:\n  ordinary: \"{ORDINARY}\"\n  line_auth: \"{LINE_HOST}\"\n\
             origin: \"127.0.0.1:{origin_port}\"\n\
             database: \"{database}\"\n\
             trusted_proxies: [\"{PROXY}/32\"]\n\
             carrier:\n  trusted_networks: [\"{CARRIER}/32\"]\n  line_header: \"X-Line-Id\"\n\
             session:\n  secure_cookies: false\n\
             login:\n  hash_concurrency: 2\n\
             mail:\n  transport: file\n  dir: mail\n\
             sms:\n  transport: file\n  dir: sms\n\
             metrics:\n  listen: \"127.0.0.1:{metrics_port}\"\n\
             policy_file: policy.yaml\n\
             ui:\n  default_language: en\n\
             threads: 2\n\
             secrets:\n  totp_key: \"{TEST_TOTP_KEY}\"\n"
        );
        std::fs::write(&config, yaml).expect("write config");
        let env = Env { dir, config, policy, port, metrics_port, database, db, origin: None, gateway: None };
        let out = env.cli(&["migrate"], None);
        assert!(out.status.success(), "migrate failed: {}", String::from_utf8_lossy(&out.stderr));
        let origin_log = env.dir.path().join("origin-requests.jsonl");
        let origin = Command::new(bin())
            .args(["demo-origin", "--listen", &format!("127.0.0.1:{origin_port}"), "--log", &path_of(&origin_log)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start origin");
        let env = Env { origin: Some(Proc(origin)), ..env };
        wait_for_port(origin_port).await;
        Some(env)
    }

    /// Every request the origin has received so far (method, path, headers), in order.
    pub fn origin_requests(&self) -> Vec<Echo> {
        let text = std::fs::read_to_string(self.dir.path().join("origin-requests.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| Echo {
                method: v["method"].as_str().unwrap_or_default().to_owned(),
                path: v["path"].as_str().unwrap_or_default().to_owned(),
                headers: v["headers"]
                    .as_array()
                    .map(|hs| {
                        hs.iter().filter_map(|h| Some((h[0].as_str()?.to_owned(), h[1].as_str()?.to_owned()))).collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// How many requests the origin has received: compare before and after an attack.
    pub fn origin_count(&self) -> usize {
        self.origin_requests().len()
    }

    pub fn origin_port(&self) -> u16 {
        let text = std::fs::read_to_string(&self.config).unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("origin: \"127.0.0.1:"))
            .and_then(|p| p.trim_end_matches('"').parse().ok())
            .unwrap_or(0)
    }

    /// Runs a gateway command with this configuration.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        let mut cmd = Command::new(bin());
        cmd.arg("--config").arg(&self.config).args(args);
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run gateway cli");
        if let Some(input) = stdin
            && let Some(mut s) = child.stdin.take()
        {
            s.write_all(input.as_bytes()).expect("stdin");
        }
        child.wait_with_output().expect("cli output")
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args, None);
        assert!(
            out.status.success(),
            "gateway {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A tenant with a password user of the given role (owner comes from `tenant create`).
    pub fn seed_tenant(&self, tenant: &str, user: &str, role: &str) {
        self.ok(&["tenant", "create", tenant, "--owner", &format!("owner@{tenant}.example")]);
        let out = self.cli(
            &["user", "add", user, "--tenant", tenant, "--role", role, "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
        );
        assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Edits the configuration file before the gateway starts.
    pub fn tweak_config(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(&self.config).expect("config");
        assert!(text.contains(from), "config lacks {from:?}");
        std::fs::write(&self.config, text.replacen(from, to, 1)).expect("write config");
    }

    pub async fn start(&mut self) {
        self.start_with(&[]).await
    }

    /// Stops the gateway and starts it again with extra environment variables
    /// (e.g. `GATEWAY_CLOCK_OFFSET` to see the world some days later).
    pub async fn restart_with(&mut self, vars: &[(&str, &str)]) {
        self.gateway = None;
        // The old process's metrics port is free again once it is gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
            assert!(Instant::now() < deadline, "old gateway still listening");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.start_with(vars).await
    }

    pub async fn start_with(&mut self, vars: &[(&str, &str)]) {
        let log = self.dir.path().join("gateway.log");
        self.gateway = Some(serve(&self.config, &log, vars, self.port, self.metrics_port).await);
    }

    /// The running gateway's process id, to send it a signal.
    pub fn gateway_pid(&self) -> Option<u32> {
        self.gateway.as_ref().map(|p| p.0.id())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gateway.log")).unwrap_or_default()
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// A cookie-keeping client that connects from `from` and never follows redirects.
    pub fn client(&self, from: &str) -> reqwest::Client {
        client_to(self.addr(), from)
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    pub async fn metric(&self, name_and_labels: &str) -> f64 {
        metric_at(self.metrics_port, name_and_labels).await
    }

    pub async fn cleanup(self) {
        let db = self.db;
        let url = self.database.clone();
        drop(self);
        if db == Db::Postgres {
            drop_postgres_database(&url).await;
        }
    }
}

pub async fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Polls until `check` holds (changes reach a running gateway within a poll interval).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Posts a form with a CSRF token fetched from the login page first.
pub async fn post_form(c: &reqwest::Client, env: &Env, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    let mut all = fields.to_vec();
    all.push(("csrf", &csrf));
    c.post(env.url(ORDINARY, path)).form(&all).send().await.unwrap()
}

/// The `name=value` of a cookie a response sets, if it sets one named so.
pub fn set_cookie_pair(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.split('=').next() == Some(name))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let Some(start) = html.find(marker).map(|i| i + marker.len()) else {
        let head: String = html.chars().take(800).collect();
        panic!("no csrf field in the page ({} bytes): {head}", html.len());
    };
    html[start..].split('"').next().unwrap_or_default().to_owned()
}

/// Signs in through the real login form; returns the login response's status.
pub async fn login(
    client: &reqwest::Client,
    env: &Env,
    host: &str,
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    // On a loaded CI machine the first form page after start-up has, rarely, come
    // back without its form; what came back is printed so the cause can be found,
    // and the page is asked for again (a few times at most).
    let mut page = String::new();
    for attempt in 0..3 {
        let mut get = client.get(env.url(host, "/auth/login?rd=/files/report.pdf"));
        for (k, v) in headers {
            get = get.header(*k, *v);
        }
        let r = get.send().await.expect("login page");
        let status = r.status();
        page = r.text().await.expect("login html");
        if page.contains("name=\"csrf\"") {
            break;
        }
        let head: String = page.chars().take(300).collect();
        eprintln!("login page attempt {attempt}: {status} without a form: {head}\n--- gateway log:\n{}", env.log());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let csrf = csrf_from(&page);
    let mut post = client.post(env.url(host, "/auth/login")).form(&[
        ("email", email),
        ("password", password),
        ("csrf", &csrf),
        ("rd", "/files/report.pdf"),
    ]);
    for (k, v) in headers {
        post = post.header(*k, *v);
    }
    post.send().await.expect("login post")
}

/// What the demo origin saw: its JSON echo.
pub struct Echo {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Echo {
    pub async fn from(resp: reqwest::Response) -> Echo {
        assert_eq!(resp.status(), 200, "expected the origin's answer");
        let v: serde_json::Value = serde_json::from_str(&resp.text().await.expect("origin body")).expect("origin json");
        let headers = v["headers"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| Some((p[0].as_str()?.to_owned(), p[1].as_str()?.to_owned()))).collect())
            .unwrap_or_default();
        Echo {
            method: v["method"].as_str().unwrap_or_default().to_owned(),
            path: v["path"].as_str().unwrap_or_default().to_owned(),
            headers,
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    pub fn has_any(&self, pred: impl Fn(&str) -> bool) -> bool {
        self.headers.iter().any(|(k, _)| pred(k))
    }
}

impl Env {
    /// Mails delivered to `to` so far by the file transport: (subject, body).
    pub fn mails_to(&self, to: &str) -> Vec<(String, String)> {
        let dir = self.dir.path().join("mail");
        let mut found = Vec::new();
        let Ok(entries) = std::fs::read_dir(&dir) else { return found };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        for path in files {
            if path.extension().and_then(|e| e.to_str()) != Some("eml") {
                continue;
            }
            let raw = std::fs::read_to_string(&path).unwrap_or_default();
            let header_to =
                raw.lines().find(|l| l.to_ascii_lowercase().starts_with("to:")).unwrap_or("").to_ascii_lowercase();
            if header_to.contains(&to.to_ascii_lowercase()) {
                found.push(gateway::mail::decode_message(&raw));
            }
        }
        found
    }

    /// Waits for the `n`-th mail to `to` whose body contains `needle`; returns its body.
    pub async fn wait_mail(&self, to: &str, needle: &str, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let bodies: Vec<String> =
                self.mails_to(to).into_iter().map(|(_, b)| b).filter(|b| b.contains(needle)).collect();
            if bodies.len() >= n {
                return bodies[n - 1].clone();
            }
            assert!(
                Instant::now() < deadline,
                "no mail #{n} to {to} containing {needle:?}; have {:?}",
                self.mails_to(to)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Env {
    /// SMS codes sent to `to` so far by the file transport, oldest first.
    pub fn sms_codes(&self, to: &str) -> Vec<String> {
        let dir = self.dir.path().join("sms");
        let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
            .collect();
        files.sort();
        files
            .iter()
            .filter_map(|p| serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(p).ok()?).ok())
            .filter(|v| v["to"] == to)
            .filter_map(|v| v["code"].as_str().map(str::to_owned))
            .collect()
    }
}

/// RFC 4648 base32 without padding, as authenticator apps read the secret.
pub fn base32_decode(text: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::new();
    for c in text.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let v = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".find(c.to_ascii_uppercase()).expect("base32 character") as u32;
        bits = (bits << 5) | v;
        nbits += 5;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    out
}

/// The text between `start` and the next `end` after it.
pub fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let i = text.find(start).map(|i| i + start.len()).unwrap_or_else(|| panic!("{start:?} not in page:\n{text}"));
    text[i..].split(end).next().unwrap_or_default()
}

/// The path and query of the first link in a mail that contains `path`.
pub fn link_path(body: &str, path: &str) -> String {
    let start = body.find(path).unwrap_or_else(|| panic!("no {path} link in:\n{body}"));
    body[start..].split_whitespace().next().unwrap_or_default().to_owned()
}

pub fn path_of(p: &Path) -> String {
    p.display().to_string()
}

/// Re-enters the password for settings and admin pages (valid for 10 minutes).
pub async fn sudo(c: &reqwest::Client, env: &Env, host: &str, password: &str) {
    let page = c.get(env.url(host, "/auth/settings/login?rd=/auth/settings")).send().await.unwrap();
    let to = page.headers().get("location").map(|l| l.to_str().unwrap_or("").to_owned());
    assert_eq!(page.status(), 200, "re-authentication form (sent to {to:?})");
    let csrf = csrf_from(&page.text().await.unwrap());
    let r = c
        .post(env.url(host, "/auth/settings/login"))
        .form(&[("password", password), ("rd", "/auth/settings"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "re-authentication accepted");
}

/// A registered office (SPEC section 11: a tenant network is never loopback):
/// a documentation-range address that reaches the gateway through the trusted
/// proxy (127.0.0.3), which names it in `X-Forwarded-For`.
pub const OFFICE: &str = "203.0.113.4";
/// The office's network, as a tenant registers it.
pub const OFFICE_NET: &str = "203.0.113.0/24";

impl Env {
    /// A cookie-keeping client in the registered office: it connects from the
    /// trusted proxy, which forwards the office address.
    pub fn office_client(&self) -> reqwest::Client {
        self.forwarded_client(OFFICE)
    }

    /// A cookie-keeping client whose requests the trusted proxy forwards as from `ip`.
    pub fn forwarded_client(&self, ip: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", ip.parse().expect("header value"));
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .resolve(ORDINARY, self.addr())
            .resolve(LINE_HOST, self.addr())
            .local_address(PROXY.parse::<IpAddr>().ok())
            .default_headers(headers)
            .build()
            .expect("client")
    }
}

/// Another gateway process on the same configuration and database, on ports
/// of its own: what a second machine behind the load balancer would be.
pub struct Second {
    pub port: u16,
    pub metrics_port: u16,
    config: PathBuf,
    log: PathBuf,
    gateway: Option<Proc>,
}

impl Env {
    /// Writes the second instance's configuration (the first's, with its own
    /// listen and metrics ports) and starts it.
    pub async fn second(&self) -> Second {
        let (port, metrics_port) = (free_port(), free_port());
        let text = std::fs::read_to_string(&self.config).expect("config");
        let text = text
            .replacen(&format!("listen: \"127.0.0.1:{}\"", self.port), &format!("listen: \"127.0.0.1:{port}\""), 1)
            .replacen(
                &format!("listen: \"127.0.0.1:{}\"", self.metrics_port),
                &format!("listen: \"127.0.0.1:{metrics_port}\""),
                1,
            );
        let config = self.dir.path().join("gateway-b.yaml");
        std::fs::write(&config, text).expect("write config b");
        let mut b = Second { port, metrics_port, config, log: self.dir.path().join("gateway-b.log"), gateway: None };
        b.start().await;
        b
    }
}

impl Second {
    pub async fn start(&mut self) {
        self.gateway = Some(serve(&self.config, &self.log, &[], self.port, self.metrics_port).await);
    }

    pub async fn stop(&mut self) {
        self.gateway = None;
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
            assert!(Instant::now() < deadline, "gateway b still listening");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// A client that connects from `from` to this instance.
    pub fn client(&self, from: &str) -> reqwest::Client {
        client_to(self.addr(), from)
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    pub async fn metric(&self, name_and_labels: &str) -> f64 {
        metric_at(self.metrics_port, name_and_labels).await
    }
}

/// Starts `gateway serve` with `config`, its log in `log`, and waits until it
/// is ready: the store and policy loaded (the metrics listener says so) and
/// the proxy listener, a separate Pingora service, answering too.
async fn serve(config: &Path, log: &Path, vars: &[(&str, &str)], port: u16, metrics_port: u16) -> Proc {
    let child = Command::new(bin())
        .arg("--config")
        .arg(config)
        .arg("serve")
        .env("GATEWAY_LOG", "info,gateway=debug,pingora=warn")
        .envs(vars.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("start gateway");
    let proc = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/readyz")).await;
        let proxy = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await;
        if metrics.is_ok_and(|r| r.status() == 200) && proxy.is_ok_and(|r| r.status() == 200) {
            return proc;
        }
        assert!(Instant::now() < deadline, "gateway not ready:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A cookie-keeping client that connects from `from` to `addr` for both
/// hostnames and never follows redirects.
fn client_to(addr: SocketAddr, from: &str) -> reqwest::Client {
    let ip: IpAddr = from.parse().expect("ip");
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(ORDINARY, addr)
        .resolve(LINE_HOST, addr)
        .local_address(ip)
        .build()
        .expect("client")
}

/// One metric's value from a metrics listener (0 when absent).
async fn metric_at(metrics_port: u16, name_and_labels: &str) -> f64 {
    let text = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines().find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0.0)
}
