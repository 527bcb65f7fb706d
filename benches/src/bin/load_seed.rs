//! Seeds the load harness's gateway database through the gateway's own store API:
//! a tenant `bench` with 2-step verification ON and route `line-and-internet`,
//! one registered line, an owner with a password, and two sessions as the login
//! flow would leave them once it is finished:
//! - ordinary hostname, second factor `totp` done;
//! - line-auth hostname, second factor `line` (the registered line).
//!
//! `load_seed DATABASE_URL LINE` prints `ORDINARY_SESSION=…`, `LINE_SESSION=…`,
//! `EMAIL=…`, `PASSWORD=…` lines for the shell to read.

use gateway::store::{NewSession, NewUser, Store, now};
use gateway::tokens;
use policy::{Factor, HostKind, LineId, Role, Route};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(line)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: load_seed DATABASE_URL LINE");
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(seed(&url, &line))
}

async fn seed(url: &str, line_text: &str) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let tenant_id = match store.tenant_by_name("bench").await? {
        Some(t) => t.id,
        None => store.create_tenant("bench", "basic").await?,
    };
    store.set_route(tenant_id, Route::LineAndInternet).await?;
    store.set_two_factor(tenant_id, true).await?;
    let line = LineId::parse(line_text)?;
    store.add_lines(tenant_id, &[line]).await?;
    let email = "owner@bench.example";
    let password = format!("Bench-{}", &tokens::random_token()[..12]);
    let hash = gateway::password::hash_blocking(&password)?;
    let user_id = match store.user_by_email(email).await? {
        Some(u) => {
            store.set_password_hash(u.id, &hash).await?;
            u.id
        }
        None => store.create_user(NewUser { tenant_id, email, role: Role::Owner, password_hash: Some(&hash) }).await?,
    };
    let mut out = Vec::new();
    for (name, host, factor, line) in [
        ("ORDINARY_SESSION", HostKind::Ordinary, Factor::Totp, None),
        ("LINE_SESSION", HostKind::LineAuth, Factor::Line, Some(line_text)),
    ] {
        let token = tokens::random_token();
        let id_hash = tokens::hash_token(&token).ok_or_else(|| anyhow::anyhow!("token hash"))?;
        store
            .insert_session(NewSession {
                id_hash: &id_hash,
                user_id,
                host,
                factor: Some(factor),
                line,
                client_ip: Some("127.0.0.1"),
                expires_at: now() + 12 * 3600,
                pending_factor: None,
                pending_remember: false,
            })
            .await?;
        out.push(format!("{name}={token}"));
    }
    out.push(format!("EMAIL={email}"));
    out.push(format!("PASSWORD={password}"));
    println!("{}", out.join("\n"));
    Ok(())
}
