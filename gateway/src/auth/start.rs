//! Starting and ending sessions: on login and on every privilege change.

use policy::{Factor, LineId, LoginMethod, Role};

use super::Visit;
use crate::session::{CookieFact, CookieSpec, read_cookie, set_cookie};
use crate::store::{NewSession, SessionRecord, StoreError, now};
use crate::tokens;

pub struct NewLogin<'a> {
    pub user_id: i64,
    pub tenant_id: i64,
    pub email: &'a str,
    pub role: Role,
    pub factor: Option<Factor>,
    pub line: Option<LineId>,
    /// Earned but held back until the recovery code is confirmed saved.
    pub pending_factor: Option<Factor>,
    pub pending_remember: bool,
    /// The provider id of a federated sign-in; `None` for a password.
    pub provider: Option<&'a str>,
}

/// Creates a session with a fresh id; returns the `Set-Cookie` value.
pub async fn start(v: &Visit<'_>, l: NewLogin<'_>) -> Result<String, StoreError> {
    let token = tokens::random_token();
    let id = tokens::decode_token(&token).ok_or_else(|| StoreError::Invalid("token generation failed".into()))?;
    let expires_at = now() + v.app.cfg.session.lifetime.as_secs() as i64;
    let line_text = l.line.map(|x| x.as_str().to_owned());
    let ip_text = v.facts.ip_text();
    v.app
        .store
        .insert_session(NewSession {
            id_hash: &tokens::hash_bytes(&id),
            user_id: l.user_id,
            host: v.facts.host,
            factor: l.factor,
            line: line_text.as_deref(),
            client_ip: ip_text.as_deref(),
            expires_at,
            pending_factor: l.pending_factor,
            pending_remember: l.pending_remember,
        })
        .await?;
    v.app.sessions.insert(
        &id,
        SessionRecord {
            user_id: l.user_id,
            tenant_id: l.tenant_id,
            email: l.email.to_owned(),
            role: l.role,
            method: if l.provider.is_some() { LoginMethod::Federated } else { LoginMethod::Password },
            provider: l.provider.map(str::to_owned),
            factor: l.factor,
            host: v.facts.host,
            expires_at,
            last_seen_at: now(),
            pending_factor: l.pending_factor,
            pending_remember: l.pending_remember,
            sudo_until: None,
        },
    );
    Ok(set_cookie(&CookieSpec {
        name: &v.app.cfg.session.cookie_name,
        value: &token,
        secure: v.app.cfg.session.secure_cookies,
        http_only: true,
        max_age: Some(v.app.cfg.session.lifetime.as_secs()),
    }))
}

/// Ends the session the browser presents, if any.
pub async fn end_current(v: &Visit<'_>) {
    let req = &v.req;
    let cookie =
        read_cookie(req.headers.get_all("cookie").iter().map(|h| h.as_bytes()), &v.app.cfg.session.cookie_name);
    if let CookieFact::Present(old) = cookie {
        v.app.sessions.remove(&old);
        if let Err(e) = v.app.store.delete_session(&tokens::hash_bytes(&old)).await {
            tracing::warn!(error = %e, "could not delete the previous session");
        }
    }
}

pub fn clear_cookie(v: &Visit<'_>) -> String {
    set_cookie(&CookieSpec {
        name: &v.app.cfg.session.cookie_name,
        value: "",
        secure: v.app.cfg.session.secure_cookies,
        http_only: true,
        max_age: Some(0),
    })
}
