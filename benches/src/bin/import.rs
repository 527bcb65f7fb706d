//! Bulk import, measured: 100 000 lines imported into a tenant with
//! `gateway tenant lines import` (the real command, from a CSV file) on SQLite
//! and on PostgreSQL, and the hot path while it runs: signed-in requests
//! through a running gateway on the same database, p50/p99 without an import
//! and during one.
//!
//! `import --gateway target/release/gateway [--lines 100000] [--seconds 10]
//! [--clients 8]`; `make bench-import` runs it. Needs the PostgreSQL server
//! the tests use (127.0.0.1:5432, user postgres).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use benches::procs::{Proc, free_port, percentile};
use gateway::store::{NewSession, NewUser, Plan, Store, now};
use gateway::tokens;
use policy::{HostKind, Role};

const ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const HOST: &str = "storage.localhost";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

struct Args {
    gateway: PathBuf,
    lines: usize,
    seconds: u64,
    clients: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args { gateway: PathBuf::from("target/release/gateway"), lines: 100_000, seconds: 10, clients: 8 };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--gateway" => a.gateway = PathBuf::from(v),
            "--lines" => a.lines = v.parse()?,
            "--seconds" => a.seconds = v.parse()?,
            "--clients" => a.clients = v.parse()?,
            _ => bail!("unknown option {k}"),
        }
    }
    Ok(a)
}

/// Writes the configuration; the gateway and the command line share it.
fn config(dir: &Path, database: &str, origin: u16) -> anyhow::Result<(PathBuf, u16, u16)> {
    let (port, metrics) = (free_port()?, free_port()?);
    let path = dir.join("gateway.yaml");
    std::fs::write(
        &path,
        format!(
            "listen: \"127.0.0.1:{port}\"\nhosts:\n  ordinary: \"{HOST}\"\n  line_auth: \"line.{HOST}\"\n\
             origin: \"127.0.0.1:{origin}\"\ndatabase: \"{database}\"\nsession:\n  secure_cookies: false\n\
             mail:\n  transport: file\n  dir: mail\nsms:\n  transport: file\n  dir: sms\n\
             metrics:\n  listen: \"127.0.0.1:{metrics}\"\npolicy_file: null\nthreads: 1\n\
             secrets:\n  totp_key: \"{KEY}\"\n"
        ),
    )?;
    Ok((path, port, metrics))
}

async fn serve(bin: &Path, config: &Path, metrics: u16, log: &Path) -> anyhow::Result<Proc> {
    let child = Command::new(bin)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .env("GATEWAY_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()
        .with_context(|| format!("start {}", bin.display()))?;
    let proc = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !reqwest::get(format!("http://127.0.0.1:{metrics}/readyz")).await.is_ok_and(|r| r.status() == 200) {
        if Instant::now() > deadline {
            bail!("the gateway is not ready:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(proc)
}

fn csv(from: usize, n: usize) -> String {
    let mut text = String::with_capacity(16 * (n + 1));
    text.push_str("line\n");
    for i in from..from + n {
        text.push_str(&format!("CAF{i:010}\n"));
    }
    text
}

/// Runs the import command; its wall time.
fn import(bin: &Path, config: &Path, tenant: &str, file: &Path) -> anyhow::Result<Child> {
    Command::new(bin)
        .arg("--config")
        .arg(config)
        .args(["tenant", "lines", "import", tenant, "--file"])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("run the import")
}

fn finish(child: Child) -> anyhow::Result<String> {
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("import failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Signed-in requests from `clients` loops until `stop` says so; the sorted
/// latencies of those answered 200, and how many were not.
async fn load(
    port: u16,
    token: String,
    clients: usize,
    stop: tokio::sync::watch::Receiver<bool>,
) -> (Vec<Duration>, usize) {
    let c = reqwest::Client::builder()
        .resolve(HOST, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .expect("client");
    let url = format!("http://{HOST}:{port}/files/report.pdf");
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (c, url, cookie, stop) = (c.clone(), url.clone(), format!("gw_session={token}"), stop.clone());
            tokio::spawn(async move {
                let (mut took, mut failed) = (Vec::new(), 0);
                while !*stop.borrow() {
                    let t = Instant::now();
                    let ok = c.get(&url).header("cookie", &cookie).send().await.is_ok_and(|r| r.status() == 200);
                    if ok {
                        took.push(t.elapsed());
                    } else {
                        failed += 1;
                    }
                }
                (took, failed)
            })
        })
        .collect();
    let (mut all, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (took, f) = t.await.unwrap_or_default();
        all.extend(took);
        failed += f;
    }
    all.sort();
    (all, failed)
}

fn pct(sorted: &[Duration], p: f64) -> String {
    format!("{:.2} ms", percentile(sorted, p).as_secs_f64() * 1000.0)
}

async fn measure(args: &Args, dir: &Path, database: &str, origin: u16) -> anyhow::Result<()> {
    let store = Store::connect(database).await?;
    store.migrate().await?;
    let acme = store.create_tenant("acme", Plan::Basic).await?;
    store.set_two_factor(acme, false).await?;
    store.create_tenant("first", Plan::Basic).await?;
    store.create_tenant("second", Plan::Basic).await?;
    let user = store
        .create_user(NewUser { tenant_id: acme, email: "alice@acme.example", role: Role::User, password_hash: None })
        .await?;
    let token = tokens::random_token();
    let id_hash = tokens::hash_token(&token).context("hash")?;
    store
        .insert_session(NewSession {
            id_hash: &id_hash,
            user_id: user,
            host: HostKind::Ordinary,
            factor: None,
            line: None,
            client_ip: Some("127.0.0.1"),
            expires_at: now() + 86_400,
            pending_factor: None,
            pending_remember: false,
        })
        .await?;
    let (config, port, metrics) = config(dir, database, origin)?;
    let (first, second) = (dir.join("first.csv"), dir.join("second.csv"));
    std::fs::write(&first, csv(1, args.lines))?;
    std::fs::write(&second, csv(args.lines + 1, args.lines))?;

    // The import alone.
    let t = Instant::now();
    let report = finish(import(&args.gateway, &config, "first", &first)?)?;
    println!("  import of {} lines: {:.2} s  ({report})", args.lines, t.elapsed().as_secs_f64());

    let _gw = serve(&args.gateway, &config, metrics, &dir.join("serve.log")).await?;
    // Without an import.
    let (tx, rx) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(load(port, token.clone(), args.clients, rx));
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    tx.send(true)?;
    let (quiet, failed) = run.await?;
    println!(
        "  hot path, no import:     p50 {}  p99 {}  ({:.0} req/s, {failed} failed)",
        pct(&quiet, 0.5),
        pct(&quiet, 0.99),
        quiet.len() as f64 / args.seconds as f64
    );
    // During an import of as many more lines into another tenant.
    let (tx, rx) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(load(port, token.clone(), args.clients, rx));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let child = import(&args.gateway, &config, "second", &second)?;
    let report = tokio::task::spawn_blocking(move || finish(child)).await??;
    let secs = t.elapsed().as_secs_f64();
    tx.send(true)?;
    let (busy, failed) = run.await?;
    println!(
        "  hot path, during import: p50 {}  p99 {}  ({:.0} req/s, {failed} failed; import {secs:.2} s: {report})",
        pct(&busy, 0.5),
        pct(&busy, 0.99),
        busy.len() as f64 / (secs + 0.2)
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let origin = free_port()?;
    let _origin = Proc(
        Command::new(&args.gateway)
            .args(["demo-origin", "--listen", &format!("127.0.0.1:{origin}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start the demo origin")?,
    );

    let dir = tempfile::tempdir()?;
    println!("SQLite:");
    let sqlite = format!("sqlite://{}", dir.path().join("gw.db").display());
    measure(&args, dir.path(), &sqlite, origin).await?;

    let dir = tempfile::tempdir()?;
    println!("PostgreSQL:");
    let name = format!("gw_import_{}", std::process::id());
    let admin = sqlx::PgPool::connect(ADMIN).await.context("PostgreSQL at 127.0.0.1:5432")?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
    let result = measure(&args, dir.path(), &format!("postgres://postgres@127.0.0.1:5432/{name}"), origin).await;
    let _ =
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&admin).await;
    result
}
