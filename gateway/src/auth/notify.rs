//! Emailed links and notices.

use crate::mail::{Notice, render};
use crate::store::{LinkPurpose, NewLink, Store, StoreError, now};
use crate::tokens;

use super::Visit;

/// Where emailed links point: the configured public URL, else the host the
/// user is on (https unless cookies are configured for plain HTTP).
pub fn base_url(cfg: &config::GatewayConfig, host: Option<&str>) -> String {
    if let Some(base) = &cfg.links.public_base_url {
        return base.trim_end_matches('/').to_owned();
    }
    let scheme = if cfg.session.secure_cookies { "https" } else { "http" };
    match host {
        Some(h) if !h.is_empty() => format!("{scheme}://{h}"),
        _ => format!("{scheme}://{}:{}", cfg.hosts.ordinary, cfg.listen.port()),
    }
}

/// A new single-use link token of a purpose; older ones of that purpose die.
pub async fn new_link(
    cfg: &config::GatewayConfig,
    store: &Store,
    user_id: i64,
    purpose: LinkPurpose,
    payload: Option<&str>,
) -> Result<String, StoreError> {
    let token = tokens::random_token();
    let hash = tokens::hash_token(&token).ok_or_else(|| StoreError::Invalid("token generation failed".into()))?;
    store
        .create_link(NewLink {
            token_hash: &hash,
            purpose,
            user_id,
            payload,
            expires_at: now() + cfg.links.validity.as_secs() as i64,
        })
        .await?;
    Ok(token)
}

/// Sends a notice in the visitor's language, without holding up the answer.
pub fn mail(v: &Visit<'_>, to: &str, notice: &Notice<'_>) {
    let days = v.app.cfg.links.validity.as_secs() / 86400;
    let msg = render(notice, v.lang, &v.app.cfg.ui.product_name, days);
    v.app.mailer.send_later(to.to_owned(), msg);
}
