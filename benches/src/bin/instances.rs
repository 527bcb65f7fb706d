//! Two gateway instances on one PostgreSQL (SPEC section 10), measured:
//!
//! 1. a session ended on A, refused on B after how long (p50/p99), with
//!    notifications and with them blocked (B started with
//!    `GATEWAY_CHANGES_NO_LISTEN=1`, so only the periodic read carries changes);
//! 2. 1 000 000 registered lines and sessions ending on A at a steady rate
//!    while B serves signed-in requests: B's whole reloads and its session
//!    cache hit ratio, read from B's metrics.
//!
//! `instances --gateway target/release/gateway [--lines 1000000] [--rate 100]
//! [--seconds 20] [--rounds 200]`; `make bench-instances` runs it. Needs the
//! PostgreSQL server the tests use (127.0.0.1:5432, user postgres).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use benches::procs::{Proc, free_port, percentile};
use gateway::store::{NewSession, NewUser, Plan, Store, now};
use gateway::tokens;
use policy::{HostKind, Role};

const ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const HOST: &str = "storage.localhost";
static ORIGIN_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

struct Args {
    gateway: PathBuf,
    lines: i64,
    rate: u32,
    seconds: u64,
    rounds: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        gateway: PathBuf::from("target/release/gateway"),
        lines: 1_000_000,
        rate: 100,
        seconds: 20,
        rounds: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--gateway" => a.gateway = PathBuf::from(v),
            "--lines" => a.lines = v.parse()?,
            "--rate" => a.rate = v.parse()?,
            "--seconds" => a.seconds = v.parse()?,
            "--rounds" => a.rounds = v.parse()?,
            _ => bail!("unknown option {k}"),
        }
    }
    Ok(a)
}

struct Instance {
    port: u16,
    metrics: u16,
    _proc: Proc,
}

async fn start(bin: &Path, dir: &Path, name: &str, database: &str, env: &[(&str, &str)]) -> anyhow::Result<Instance> {
    let (port, metrics) = (free_port()?, free_port()?);
    let origin = ORIGIN_PORT.load(std::sync::atomic::Ordering::Relaxed);
    let config = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &config,
        format!(
            "listen: \"127.0.0.1:{port}\"\nhosts:\n  ordinary: \"{HOST}\"\n  line_auth: \"line.{HOST}\"\n\
             origin: \"127.0.0.1:{origin}\"\ndatabase: \"{database}\"\nsession:\n  secure_cookies: false\n\
             mail:\n  transport: file\n  dir: mail\nsms:\n  transport: file\n  dir: sms\n\
             metrics:\n  listen: \"127.0.0.1:{metrics}\"\npolicy_file: null\nthreads: 1\n\
             secrets:\n  totp_key: \"{KEY}\"\n"
        ),
    )?;
    let log = std::fs::File::create(dir.join(format!("{name}.log")))?;
    let child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .envs(env.iter().copied())
        .env("GATEWAY_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("start {}", bin.display()))?;
    let inst = Instance { port, metrics, _proc: Proc(child) };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let ok = reqwest::get(format!("http://127.0.0.1:{metrics}/readyz")).await.is_ok_and(|r| r.status() == 200);
        if ok {
            return Ok(inst);
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
            bail!("{name} not ready:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Instance {
    fn url(&self, path: &str) -> String {
        format!("http://{HOST}:{}{path}", self.port)
    }

    async fn metric(&self, name: &str) -> f64 {
        let Ok(r) = reqwest::get(format!("http://127.0.0.1:{}/metrics", self.metrics)).await else { return f64::NAN };
        let text = r.text().await.unwrap_or_default();
        text.lines().filter_map(|l| l.strip_prefix(name)).filter_map(|rest| rest.trim().parse::<f64>().ok()).sum()
    }
}

/// Both instances answer the same name; each URL's port picks one.
fn client(a: &Instance) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(HOST, std::net::SocketAddr::from(([127, 0, 0, 1], a.port)))
        .pool_max_idle_per_host(8)
        .build()?)
}

async fn new_session(store: &Store, user_id: i64) -> anyhow::Result<String> {
    let token = tokens::random_token();
    let id_hash = tokens::hash_token(&token).context("hash")?;
    store
        .insert_session(NewSession {
            id_hash: &id_hash,
            user_id,
            host: HostKind::Ordinary,
            factor: None,
            line: None,
            client_ip: Some("127.0.0.1"),
            expires_at: now() + 86_400,
            pending_factor: None,
            pending_remember: false,
        })
        .await?;
    Ok(token)
}

async fn get(c: &reqwest::Client, url: &str, token: &str) -> u16 {
    c.get(url).header("cookie", format!("gw_session={token}")).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

/// Ends a session through A's logout form (CSRF token first, as a browser would).
async fn logout(c: &reqwest::Client, a: &Instance, token: &str) -> anyhow::Result<()> {
    let page = c.get(a.url("/auth/login")).header("cookie", format!("gw_session={token}")).send().await?;
    let csrf_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gw_csrf="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let html = page.text().await?;
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).context("no csrf field")? + marker.len();
    let csrf = html[start..].split('"').next().unwrap_or_default().to_owned();
    let mut cookie = format!("gw_session={token}");
    if let Some(c) = csrf_cookie {
        cookie.push_str("; ");
        cookie.push_str(&c);
    }
    let r = c.post(a.url("/auth/logout")).header("cookie", cookie).form(&[("csrf", csrf)]).send().await?;
    if !(r.status().is_redirection() || r.status().is_success()) {
        bail!("logout answered {}", r.status());
    }
    Ok(())
}

/// Ends `rounds` sessions on A; each is first used on B (so B holds it in its
/// cache), then polled on B until refused.
async fn revocations(
    store: &Store,
    user: i64,
    a: &Instance,
    b: &Instance,
    rounds: usize,
) -> anyhow::Result<Vec<Duration>> {
    let ca = client(a)?;
    let mut took = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let token = new_session(store, user).await?;
        let on_b = b.url("/files/report.pdf");
        if get(&ca, &on_b, &token).await != 200 {
            bail!("a fresh session was refused on B");
        }
        logout(&ca, a, &token).await?;
        let start = Instant::now();
        while get(&ca, &on_b, &token).await != 401 {
            if start.elapsed() > Duration::from_secs(10) {
                bail!("B still accepts a session ended 10 s ago");
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        took.push(start.elapsed());
    }
    took.sort();
    Ok(took)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let dir = tempfile::tempdir()?;
    let name = format!("gw_bench_{:016x}", rand_u64());
    let admin = sqlx::PgPool::connect(ADMIN).await.context("PostgreSQL at 127.0.0.1:5432")?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
    let database = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let result = run(&args, dir.path(), &database).await;
    let _ =
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&admin).await;
    result
}

fn rand_u64() -> u64 {
    let t = tokens::random_token();
    t.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
}

async fn run(args: &Args, dir: &Path, database: &str) -> anyhow::Result<()> {
    let store = Store::connect(database).await?;
    store.migrate().await?;
    let acme = store.create_tenant("acme", Plan::Basic).await?;
    store.set_two_factor(acme, false).await?;
    let bulk = store.create_tenant("bulk", Plan::Basic).await?;
    let t0 = Instant::now();
    let pool = sqlx::PgPool::connect(database).await?;
    sqlx::query(
        "INSERT INTO tenant_lines (line, tenant_id, created_at) \
         SELECT 'CAF' || lpad(g::text, 10, '0'), $1, 0 FROM generate_series(1, $2) g",
    )
    .bind(bulk)
    .bind(args.lines)
    .execute(&pool)
    .await?;
    println!("seeded {} lines in {:.1} s", args.lines, t0.elapsed().as_secs_f64());
    let user = store
        .create_user(NewUser {
            tenant_id: acme,
            email: "alice@acme.example",
            role: Role::User,
            password_hash: Some("$argon2id$x"),
        })
        .await?;

    let origin = free_port()?;
    ORIGIN_PORT.store(origin, std::sync::atomic::Ordering::Relaxed);
    let _origin = Proc(
        Command::new(&args.gateway)
            .args(["demo-origin", "--listen", &format!("127.0.0.1:{origin}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start the demo origin")?,
    );
    let a = start(&args.gateway, dir, "a", database, &[]).await?;
    let b = start(&args.gateway, dir, "b", database, &[]).await?;
    let t = revocations(&store, user, &a, &b, args.rounds).await?;
    println!(
        "revocation on A refused on B, notified:       p50 {}  p99 {}  max {}  ({} rounds)",
        ms(percentile(&t, 0.5)),
        ms(percentile(&t, 0.99)),
        ms(percentile(&t, 1.0)),
        t.len()
    );
    drop(b);
    let b = start(&args.gateway, dir, "b-blocked", database, &[("GATEWAY_CHANGES_NO_LISTEN", "1")]).await?;
    let rounds = (args.rounds / 4).max(10);
    let t = revocations(&store, user, &a, &b, rounds).await?;
    println!(
        "revocation on A refused on B, no notification: p50 {}  p99 {}  max {}  ({} rounds)",
        ms(percentile(&t, 0.5)),
        ms(percentile(&t, 0.99)),
        ms(percentile(&t, 1.0)),
        t.len()
    );
    drop(b);

    // Steady churn on A, readers on B.
    let b = start(&args.gateway, dir, "b", database, &[]).await?;
    let total = args.rate as usize * args.seconds as usize;
    let mut ending = Vec::with_capacity(total);
    for _ in 0..total {
        ending.push(new_session(&store, user).await?);
    }
    let mut readers = Vec::new();
    for _ in 0..50 {
        readers.push(new_session(&store, user).await?);
    }
    let hits0 = b.metric("gateway_session_cache_lookups_total{result=\"hit\"}").await;
    let miss0 = b.metric("gateway_session_cache_lookups_total{result=\"miss\"}").await;
    let reloads0 = b.metric("gateway_full_reloads_total").await;
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let cb = client(&b)?;
    let on_b = b.url("/files/report.pdf");
    let reader_tasks: Vec<_> = (0..4)
        .map(|k| {
            let (cb, on_b, readers) = (cb.clone(), on_b.clone(), readers.clone());
            tokio::spawn(async move {
                let (mut n, mut refused) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let t = &readers[(n as usize * 4 + k) % readers.len()];
                    if get(&cb, &on_b, t).await != 200 {
                        refused += 1;
                    }
                    n += 1;
                }
                (n, refused)
            })
        })
        .collect();
    let ca = client(&a)?;
    let every = Duration::from_secs(1) / args.rate;
    let churn_start = Instant::now();
    let mut ended = 0usize;
    for (i, token) in ending.iter().enumerate() {
        let due = churn_start + every * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
        if Instant::now() > deadline {
            break;
        }
        logout(&ca, &a, token).await?;
        ended += 1;
    }
    let (mut reads, mut refused) = (0, 0);
    for t in reader_tasks {
        let (n, r) = t.await?;
        reads += n;
        refused += r;
    }
    let secs = churn_start.elapsed().as_secs_f64();
    let hits = b.metric("gateway_session_cache_lookups_total{result=\"hit\"}").await - hits0;
    let misses = b.metric("gateway_session_cache_lookups_total{result=\"miss\"}").await - miss0;
    let reloads = b.metric("gateway_full_reloads_total").await - reloads0;
    println!(
        "churn: {ended} sessions ended on A in {secs:.1} s ({:.0}/s) beside {} lines; B served {reads} requests ({refused} refused)",
        ended as f64 / secs,
        args.lines
    );
    println!(
        "B: whole reloads {reloads}, session cache hit ratio {:.2} % ({hits} hits, {misses} misses)",
        100.0 * hits / (hits + misses).max(1.0)
    );
    Ok(())
}
