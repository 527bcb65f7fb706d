//! Emailed links and notices.

use crate::mail::{Notice, render};
use crate::store::{LinkPurpose, NewLink, Store, StoreError, now};
use crate::tokens;

use super::Visit;

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
