use std::time::Duration;

use crate::store::{LinkPurpose, NewLink, Store, StoreError, now};
use crate::tokens;

/// A new single-use link token of a purpose for a user, valid `validity`;
/// the user's older links of that purpose die. Only its hash is stored.
pub(crate) async fn new_link(
    store: &Store,
    validity: Duration,
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
            expires_at: now() + validity.as_secs() as i64,
        })
        .await?;
    Ok(token)
}
