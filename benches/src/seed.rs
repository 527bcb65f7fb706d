//! The tenant the load harness and the whole-request bench measure, written
//! through the gateway's own store API: tenant `bench` with 2-step verification
//! ON and route `line-and-internet`, one registered line, an owner with a
//! password, and two sessions as a finished login leaves them:
//! - ordinary hostname, second factor `totp` done;
//! - line-auth hostname, second factor `line` (the registered line).

use gateway::store::{NewSession, NewUser, Store, now};
use gateway::tokens;
use policy::{Factor, HostKind, LineId, Role, Route};

pub struct Seeded {
    pub ordinary_session: String,
    pub line_session: String,
    pub email: String,
    pub password: String,
}

pub async fn seed(store: &Store, line_text: &str) -> anyhow::Result<Seeded> {
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
    let mut sessions = Vec::new();
    for (host, factor, line, client_ip) in [
        (HostKind::Ordinary, Factor::Totp, None, "127.0.0.1"),
        (HostKind::LineAuth, Factor::Line, Some(line_text), "127.0.0.1"),
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
                client_ip: Some(client_ip),
                expires_at: now() + 12 * 3600,
                pending_factor: None,
                pending_remember: false,
            })
            .await?;
        sessions.push(token);
    }
    let line_session = sessions.pop().unwrap_or_default();
    let ordinary_session = sessions.pop().unwrap_or_default();
    Ok(Seeded { ordinary_session, line_session, email: email.to_owned(), password })
}
