//! Drives a real Chromium through Debian's chromedriver: one chromedriver and
//! one fresh browser profile per test, so tests share no cookies and can run in
//! parallel. The last page of every test is saved to
//! `target/screenshots/<test>.png`, also when the test fails.

use std::ops::Deref;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use crate::support::{Db, Env, LINE_HOST, ORDINARY, free_port, wait_for_port};

/// Debian's packages (`chromium`, `chromium-driver`); the Makefile's `deps`
/// target installs them, and the driver must match the browser's version.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether the browser tests can run here. Without a browser they are skipped
/// on a developer's machine, but fail in CI, where a skip would hide them.
pub fn available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
    if missing.is_empty() {
        return true;
    }
    let missing = missing.join(" and ");
    if in_ci() {
        panic!(
            "{missing} missing: the browser tests are required in CI (`make test` installs chromium and chromium-driver)"
        );
    }
    eprintln!("SKIPPED: {missing} missing (`make deps` as root, or `apt-get install chromium chromium-driver`)");
    false
}

/// A gateway on SQLite with tenant `acme` (2FA on) and a password user. The
/// browser tests are about pages; the store is covered on both databases by e2e.
pub async fn gateway(user: &str) -> Env {
    let mut env = Env::new(Db::Sqlite).await.expect("SQLite needs no server");
    env.seed_tenant("acme", user, "user");
    env.ok(&["tenant", "set-2fa", "acme", "on"]);
    env.start().await;
    env
}

/// Where screenshots go: the workspace's target folder (or `CARGO_TARGET_DIR`).
fn screenshot_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("gateway/ lies in the workspace");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(|d| root.join(d)).unwrap_or_else(|| root.join("target"));
    target.join("screenshots")
}

fn capabilities(profile: &Path, accept_language: &str) -> WebDriverResult<Capabilities> {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM)?;
    for arg in [
        // What Chromium needs to start in a container as root without a display.
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        // No traffic of its own: updates, sync and QUIC probes fail offline and slow it down.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        // A proxy from the environment must not come between the browser and loopback.
        "--no-proxy-server",
        "--window-size=1280,900",
        // The gateway tells its two hostnames apart by name; both live on loopback here.
        &format!("--host-resolver-rules=MAP {ORDINARY} 127.0.0.1, MAP {LINE_HOST} 127.0.0.1"),
        &format!("--user-data-dir={}", profile.display()),
        &format!("--lang={accept_language}"),
    ] {
        caps.add_arg(arg)?;
    }
    // `--lang` sets the UI language; Accept-Language follows this preference.
    caps.add_experimental_option("prefs", serde_json::json!({ "intl.accept_languages": accept_language }))?;
    Ok(caps.into())
}

/// chromedriver in its own process group: killing the group on drop also ends
/// any Chromium a failed session left behind.
struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A browser session for one test. Derefs to thirtyfour's `WebDriver` for
/// anything the helpers below do not cover.
pub struct Browser {
    name: &'static str,
    driver: Option<WebDriver>,
    // Dropped after the session is quit (Drop below), the profile last.
    _chromedriver: Chromedriver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and Chromium. `name` names the screenshot (use the
    /// test's name); `accept_language` is e.g. `en-US` or `ja`.
    pub async fn open(name: &'static str, accept_language: &str) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let chromedriver = Chromedriver(child);
        wait_for_port(port).await;
        let caps = capabilities(profile.path(), accept_language).expect("capabilities");
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps).await.expect("start Chromium");
        Browser { name, driver: Some(driver), _chromedriver: chromedriver, _profile: profile }
    }

    fn driver(&self) -> &WebDriver {
        self.driver.as_ref().expect("browser still open")
    }

    /// Saves the screenshot and quits the browser; the end of every test.
    pub async fn close(mut self) {
        if let Some(driver) = self.driver.take() {
            finish(self.name, driver).await;
        }
    }

    pub async fn goto(&self, url: &str) {
        self.driver().goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The first element matching `css`, waiting a while for it to appear.
    pub async fn el(&self, css: &str) -> WebElement {
        match self.driver().query(By::Css(css)).first().await {
            Ok(el) => el,
            Err(e) => panic!("no {css} on {}: {e}", self.path().await),
        }
    }

    /// Types into an input after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let input = self.el(css).await;
        input.clear().await.expect("clear");
        input.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.el(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// The visible text of an element.
    pub async fn text(&self, css: &str) -> String {
        self.el(css).await.text().await.expect("element text")
    }

    /// The current path and query.
    pub async fn path(&self) -> String {
        match self.driver().current_url().await {
            Ok(u) => format!("{}{}", u.path(), u.query().map(|q| format!("?{q}")).unwrap_or_default()),
            Err(e) => format!("(no url: {e})"),
        }
    }

    /// Waits until a click's navigation has arrived at a path starting with `prefix`.
    pub async fn wait_path(&self, prefix: &str) -> String {
        self.wait_path_where(&format!("a page at {prefix}"), |p| p.starts_with(prefix)).await
    }

    /// Waits until the current path and query satisfy `ok`; returns them.
    pub async fn wait_path_where(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let path = self.path().await;
            if ok(&path) {
                return path;
            }
            assert!(Instant::now() < deadline, "expected {what}, still at {path}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a screenshot of the page as it is now, as `<name>.png` beside the
    /// tests' own (for pages a test passes through, in both languages).
    pub async fn snap(&self, name: &str) {
        let dir = screenshot_dir();
        let path = dir.join(format!("{name}.png"));
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        self.driver().screenshot(&path).await.unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        eprintln!("screenshot: {}", path.display());
    }

    /// Runs a script and converts what it returns (`return …;`).
    pub async fn script<T: serde::de::DeserializeOwned>(&self, js: &str) -> T {
        let ret = self.driver().execute(js, Vec::new()).await.unwrap_or_else(|e| panic!("script {js}: {e}"));
        ret.convert().unwrap_or_else(|e| panic!("script {js} returned {:?}: {e}", ret.json()))
    }
}

impl Deref for Browser {
    type Target = WebDriver;

    fn deref(&self) -> &WebDriver {
        self.driver()
    }
}

/// A test that fails before `close` still leaves its screenshot and no browser
/// behind: Drop cannot await, so it blocks this thread (the runtime's other
/// worker keeps the driver's connection going; tests use the multi-thread flavour).
impl Drop for Browser {
    fn drop(&mut self) {
        let Some(driver) = self.driver.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) if rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| rt.block_on(finish(self.name, driver)));
            }
            // Nothing to drive the session with; killing chromedriver's group ends Chromium.
            _ => eprintln!("no screenshot for {}: not on a multi-thread tokio runtime", self.name),
        }
    }
}

async fn finish(name: &str, driver: WebDriver) {
    let dir = screenshot_dir();
    let path = dir.join(format!("{name}.png"));
    let saved = match std::fs::create_dir_all(&dir) {
        Ok(()) => driver.screenshot(&path).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match saved {
        Ok(()) => eprintln!("screenshot: {}", path.display()),
        Err(e) => eprintln!("no screenshot for {name}: {e}"),
    }
    if let Err(e) = driver.quit().await {
        eprintln!("quitting the browser of {name}: {e}");
    }
}
