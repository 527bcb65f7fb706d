//! The real OpenID provider for the tests: `tests/oidc/provider.js` (npm
//! `oidc-provider`), started per test on a port of its own, and a walk through
//! its development login page the way a browser would.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::free_port;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/oidc")
}

/// A running provider; killed when dropped.
pub struct TestProvider {
    child: Child,
    port: u16,
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts node on `port`; `None` when it exits before saying it is ready.
fn spawn(dir: &std::path::Path, port: u16, clients: &[(&str, &str, &[String])]) -> Option<Child> {
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("provider.js")).args(["--port", &port.to_string()]);
    for (id, secret, uris) in clients {
        cmd.args(["--client", &format!("{id}:{secret}:{}", uris.join(","))]);
    }
    let log = std::env::temp_dir().join(format!("oidc-provider-{port}.log"));
    let stderr = std::fs::File::create(&log).map(Stdio::from).unwrap_or_else(|_| Stdio::null());
    let mut child = cmd.stdout(Stdio::piped()).stderr(stderr).spawn().expect("start node");
    let stdout = child.stdout.take().expect("provider stdout");
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut reader = BufReader::new(stdout);
    while !line.contains("ready") {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
    }
    // Keep reading: the provider logs to stdout, and a closed pipe kills it.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Some(child)
}

impl TestProvider {
    /// Starts a provider with these clients (id, secret, redirect URIs).
    /// `None` (the test skips) when Node or `tests/oidc/node_modules` is
    /// missing, except under `CI`, where that is a failure.
    pub fn start(clients: &[(&str, &str, &[String])]) -> Option<TestProvider> {
        let dir = provider_dir();
        let node_ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
        if !node_ok || !dir.join("node_modules/oidc-provider").is_dir() {
            let why = "node or tests/oidc/node_modules missing (make deps runs npm ci there)";
            assert!(!in_ci(), "the OpenID provider is required in CI: {why}");
            eprintln!("skipped: {why}");
            return None;
        }
        // Another process may take the port between `free_port` and node's
        // bind; node then exits, and another port is tried.
        for _ in 0..3 {
            let port = free_port();
            if let Some(child) = spawn(&dir, port, clients) {
                return Some(TestProvider { child, port });
            }
        }
        panic!("the OpenID provider did not start (its log: {}/oidc-provider-PORT.log)", std::env::temp_dir().display())
    }

    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn control(&self, path: &str, body: serde_json::Value) {
        let url = format!("{}{path}", self.issuer());
        let r = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async { reqwest::Client::new().post(url).json(&body).send().await.map(|r| r.status()) })
        })
        .join()
        .expect("control thread");
        assert!(r.is_ok_and(|s| s.is_success()), "provider control {path} failed");
    }

    /// What the provider's ID tokens get wrong from now on (see provider.js).
    pub fn mischief(&self, mode: &str) {
        self.control("/__test/mischief", serde_json::json!({ "mode": mode }));
    }

    /// The e-mail address the provider reports for `sub`.
    pub fn set_account(&self, sub: &str, email: &str) {
        self.control("/__test/account", serde_json::json!({ "sub": sub, "email": email }));
    }
}

fn location(r: &reqwest::Response) -> Option<String> {
    r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Walks the provider's login page as `login` (any password), starting at the
/// authorization URL, and returns where the provider finally sends the browser
/// back (the gateway's callback with `code` and `state`), without going there.
/// `http` must keep cookies and not follow redirects.
pub async fn sign_in_at_provider(http: &reqwest::Client, authorize_url: &str, login: &str) -> String {
    let issuer_prefix: String = authorize_url.split('/').take(3).collect::<Vec<_>>().join("/");
    let mut url = authorize_url.to_owned();
    for _ in 0..10 {
        let r = http.get(&url).send().await.expect("provider page");
        if let Some(next) = location(&r) {
            let next = if next.starts_with('/') { format!("{issuer_prefix}{next}") } else { next };
            if !next.starts_with(&issuer_prefix) {
                return next;
            }
            url = next;
            continue;
        }
        let page = r.text().await.expect("provider html");
        let prompt = if page.contains("name=\"login\"") { "login" } else { "consent" };
        let mut form = vec![("prompt", prompt)];
        if prompt == "login" {
            form.extend([("login", login), ("password", "any")]);
        }
        let r = http.post(&url).form(&form).send().await.expect("provider form");
        let next = location(&r).expect("the provider redirects after its form");
        let next = if next.starts_with('/') { format!("{issuer_prefix}{next}") } else { next };
        if !next.starts_with(&issuer_prefix) {
            return next;
        }
        url = next;
    }
    panic!("the provider never sent the browser back")
}
