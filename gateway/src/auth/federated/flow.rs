//! A sign-in's trip to the provider and back: the browser-bound cookie, the
//! stored flow, and the secrets derived from both.
//!
//! The flow cookie holds 32 random bytes; the database holds only their hash
//! and the state's. The nonce and the PKCE verifier are derived from the
//! cookie and the state, so neither is stored: a copy of the flows table, or a
//! callback URL seen in a log, finishes nobody's sign-in, and a callback in
//! another browser (no cookie, or another one) is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::federation::{FlowSecrets, ProviderSpec};
use crate::session::{CookieFact, CookieSpec, read_cookie, set_cookie};
use crate::store::{FlowPurpose, FlowRow, now};
use crate::tokens;
use crate::web::{Outcome, Reply, Visit};

/// The browser-binding cookie of sign-ins in progress.
pub const FLOW_COOKIE: &str = "gateway_fed";
/// How long a sign-in may stay at the provider.
pub const FLOW_SECS: i64 = 600;
/// The redirect URI registered at every provider and directory.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";

/// What a sign-in is for, besides the provider it goes to.
pub struct Begin {
    pub spec: ProviderSpec,
    /// A directory's tenant.
    pub tenant_id: Option<i64>,
    pub purpose: FlowPurpose,
    pub rd: Option<String>,
    pub user_id: Option<i64>,
    pub ticket_hash: Option<String>,
    pub session_hash: Option<String>,
}

pub fn derive(browser: &[u8; 32], state: &str) -> FlowSecrets {
    let part = |label: &[u8]| {
        let mut h = Sha256::new();
        h.update(label);
        h.update(browser);
        h.update(state.as_bytes());
        URL_SAFE_NO_PAD.encode(h.finalize())
    };
    FlowSecrets {
        state: state.to_owned(),
        nonce: part(b"gateway federation nonce v1\0"),
        pkce_verifier: part(b"gateway federation pkce v1\0"),
    }
}

/// The callback URL on the hostname this visit came to, from `public_urls`.
pub fn redirect_uri(v: &Visit<'_>) -> String {
    v.link(CALLBACK_PATH)
}

/// The flow cookie's bytes, when the browser sent a well-formed one.
pub fn browser_secret(v: &Visit<'_>) -> Option<[u8; 32]> {
    v.req.cookie(FLOW_COOKIE).and_then(|c| tokens::decode_token(&c))
}

/// For a flow started from a session (re-authentication, the owner's own
/// method): that session's id and its user, when this request still presents
/// the same session; `None` otherwise.
pub async fn starting_session(
    v: &Visit<'_>,
    flow: &FlowRow,
) -> Result<Option<([u8; 32], crate::store::UserRow)>, crate::store::StoreError> {
    let CookieFact::Present(session) = read_cookie(v.req.cookie_headers(), &v.app.cfg.session.cookie_name) else {
        return Ok(None);
    };
    let here = tokens::hash_bytes(&session);
    let same = flow.session_hash.as_deref().is_some_and(|h| tokens::constant_time_eq(h.as_bytes(), here.as_bytes()));
    let user = match flow.user_id.filter(|_| same) {
        Some(uid) => v.app.store.user_by_id(uid).await?,
        None => None,
    };
    Ok(user.map(|u| (session, u)))
}

/// Stores the flow and sends the browser to the provider. The browser keeps
/// its flow cookie when it has one, so two tabs can sign in at once. Every
/// start counts toward the per-address sign-in throttle: a stranger cannot
/// make the gateway store flows or call providers without limit.
pub async fn begin(v: &Visit<'_>, b: Begin) -> Outcome {
    if let Some(reply) = super::super::login::throttled(v).await {
        return Ok(reply);
    }
    let (browser, cookie_text) = match v.req.cookie(FLOW_COOKIE).and_then(|c| tokens::decode_token(&c).map(|b| (b, c)))
    {
        Some(found) => found,
        None => {
            let text = tokens::random_token();
            match tokens::decode_token(&text) {
                Some(bytes) => (bytes, text),
                None => return Ok(v.unavailable()),
            }
        }
    };
    let state = tokens::random_token();
    let secrets = derive(&browser, &state);
    let url = match v
        .app
        .federation
        .authorize_url(&b.spec, &redirect_uri(v), &secrets, b.purpose == FlowPurpose::Reauth)
        .await
    {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(provider = %b.spec.id, error = %e, "cannot start a sign-in at the provider");
            v.audit(b.tenant_id, None, None, &format!("federated_unavailable:{}:{}", b.spec.id, e.code())).await;
            return super::pages::provider_unavailable(v);
        }
    };
    let t = now();
    let Some(state_hash) = tokens::hash_token(&state) else { return Ok(v.unavailable()) };
    v.app
        .store
        .insert_flow(&FlowRow {
            state_hash,
            browser_hash: tokens::hash_bytes(&browser),
            provider: b.spec.id.clone(),
            tenant_id: b.tenant_id,
            purpose: b.purpose,
            host: v.facts.host,
            rd: b.rd,
            user_id: b.user_id,
            ticket_hash: b.ticket_hash,
            session_hash: b.session_hash,
            created_at: t,
            expires_at: t + FLOW_SECS,
        })
        .await?;
    let cookie = set_cookie(&CookieSpec {
        name: FLOW_COOKIE,
        value: &cookie_text,
        secure: v.app.cfg.session.secure_cookies,
        http_only: true,
        max_age: Some(FLOW_SECS as u64),
    });
    // A form's answer may not redirect off the site (the pages' CSP says
    // `form-action 'self'`, which browsers apply to redirects): after a POST
    // a page takes the browser on instead.
    let reply = if v.req.method == http::Method::POST {
        let title = v.t("On to the sign-in service", "認証サービスへ移動");
        crate::web::page(200, &super::super::views::federated::ContinueToProvider { ui: v.ui(), title, url: &url })?
    } else {
        Reply::redirect(303, url)
    };
    Ok(reply.header("set-cookie", cookie))
}

#[cfg(test)]
mod tests {
    use super::derive;

    #[test]
    fn secrets_depend_on_browser_and_state() {
        let a = derive(&[1; 32], "s1");
        assert_eq!(a.nonce, derive(&[1; 32], "s1").nonce);
        assert_ne!(a.nonce, derive(&[2; 32], "s1").nonce);
        assert_ne!(a.nonce, derive(&[1; 32], "s2").nonce);
        assert_ne!(a.nonce, a.pkce_verifier);
        // RFC 7636: 43 to 128 unreserved characters.
        assert_eq!(a.pkce_verifier.len(), 43);
        assert!(a.pkce_verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}
