//! A tenant with an owner and two finished sessions, one per hostname, written
//! through the store: what `gateway demo` prints for a first look, and what the
//! benches measure. Run again, it refreshes the owner's password and adds new
//! sessions, so that what it returns always works.

use policy::{Factor, HostKind, LineId, Role, Route};

use crate::store::{NewSession, NewUser, Store, now};
use crate::tokens;

pub struct SeedSpec<'a> {
    pub tenant: &'a str,
    pub email: &'a str,
    pub two_factor: bool,
    /// Registered to the tenant; the line-auth session was made from it.
    pub line: &'a str,
    /// The second factor the ordinary-hostname session has passed.
    pub ordinary_factor: Option<Factor>,
    pub session_lifetime_secs: i64,
}

pub struct Seeded {
    pub email: String,
    pub password: String,
    pub ordinary_session: String,
    pub line_session: String,
}

pub async fn seed(store: &Store, spec: &SeedSpec<'_>) -> anyhow::Result<Seeded> {
    let tenant_id = match store.tenant_by_name(spec.tenant).await? {
        Some(t) => t.id,
        None => store.create_tenant(spec.tenant, crate::store::Plan::Basic).await?,
    };
    store.set_route(tenant_id, Route::LineAndInternet).await?;
    store.set_two_factor(tenant_id, spec.two_factor).await?;
    store.add_lines(tenant_id, &[LineId::parse(spec.line)?]).await?;
    let password = format!("Seed-{}", &tokens::random_token()[..12]);
    let hash = crate::password::hash_blocking(&password)?;
    let user_id = match store.user_by_email(spec.email).await? {
        Some(u) => {
            store.set_password_hash(u.id, &hash).await?;
            u.id
        }
        None => {
            let user = NewUser { tenant_id, email: spec.email, role: Role::Owner, password_hash: Some(&hash) };
            store.create_user(user).await?
        }
    };
    store.unlock_user(spec.email).await?;
    let session = async |host, factor, line| -> anyhow::Result<String> {
        let token = tokens::random_token();
        let id_hash = tokens::hash_token(&token).ok_or_else(|| anyhow::anyhow!("token hash"))?;
        store
            .insert_session(NewSession {
                id_hash: &id_hash,
                user_id,
                host,
                factor,
                line,
                client_ip: Some("127.0.0.1"),
                expires_at: now() + spec.session_lifetime_secs,
                pending_factor: None,
                pending_remember: false,
            })
            .await?;
        Ok(token)
    };
    let ordinary_session = session(HostKind::Ordinary, spec.ordinary_factor, None).await?;
    let line_session = session(HostKind::LineAuth, Some(Factor::Line), Some(spec.line)).await?;
    Ok(Seeded { email: spec.email.to_owned(), password, ordinary_session, line_session })
}
