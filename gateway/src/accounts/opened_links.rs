//! What the mailed links do once opened: unlock an account, set a new
//! password. A link's ticket (its `ticket` URL parameter; only the hash is
//! stored) is used up by one conditional UPDATE, so it works once.

use super::{Accounts, Actor, Result};
use crate::mail::Notice;
use crate::password::Hasher;
use crate::store::{LinkPurpose, UserRow};
use crate::tokens;

#[derive(Debug)]
pub enum Reset {
    Done(UserRow),
    /// Unknown, used, replaced or expired: one answer for all.
    DeadLink,
    /// No hashing thread within the wait: the link is still good.
    Busy,
}

impl Accounts<'_> {
    /// The user whose ticket of `purpose` is live, without using it up.
    pub async fn live_ticket(&self, ticket: &str, purpose: LinkPurpose) -> Result<Option<i64>> {
        let Some(hash) = tokens::hash_token(ticket) else { return Ok(None) };
        Ok(self.store.peek_link(&hash, purpose).await?)
    }

    /// The unlock link: uses the ticket up and lifts the password lock (and
    /// the second-factor lock, which mails the same link). `None`: a dead link.
    pub async fn unlock_by_link(&self, by: &Actor<'_>, ticket: &str) -> Result<Option<UserRow>> {
        let Some(hash) = tokens::hash_token(ticket) else { return Ok(None) };
        let Some(user_id) = self.store.consume_link(&hash, LinkPurpose::Unlock).await? else { return Ok(None) };
        let Some(user) = self.store.user_by_id(user_id).await? else { return Ok(None) };
        let by = Actor { name: Some(&user.email), ..*by };
        self.unlock(&by, &user).await?;
        Ok(Some(user))
    }

    /// The reset link: a new password, which also unlocks the account, ends
    /// every session and forgets 2-step verification. The link is checked
    /// live first (a dead one costs no argon2 run), then the password hashed,
    /// then the link used up, so a failure never burns it.
    pub async fn reset_password_by_link(
        &self,
        by: &Actor<'_>,
        hasher: &Hasher,
        ticket: &str,
        password: &str,
    ) -> Result<Reset> {
        if self.live_ticket(ticket, LinkPurpose::Reset).await?.is_none() {
            return Ok(Reset::DeadLink);
        }
        let hashed = match hasher.hash(password.to_owned()).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "hashing unavailable");
                return Ok(Reset::Busy);
            }
        };
        let Some(hash) = tokens::hash_token(ticket) else { return Ok(Reset::DeadLink) };
        let Some(user_id) = self.store.consume_link(&hash, LinkPurpose::Reset).await? else {
            return Ok(Reset::DeadLink);
        };
        let Some(user) = self.store.user_by_id(user_id).await? else { return Ok(Reset::DeadLink) };
        let had_second_factor = self.store.enrolment(user.id).await?.any();
        self.store.set_password_hash(user.id, &hashed).await?;
        self.store.unlock_user_id(user.id).await?;
        self.store.reset_second_factors(user.id).await?;
        self.store.delete_user_sessions(user.id).await?;
        if let Some(cache) = self.sessions {
            cache.clear();
        }
        let by = Actor { name: Some(&user.email), ..*by };
        self.audit(&by, Some(user.tenant_id), Some(&user.email), "password_reset").await;
        self.mail_later(&by, &user.email, &Notice::PasswordChanged);
        if had_second_factor {
            self.mail_later(&by, &user.email, &Notice::SecondFactorReset);
        }
        Ok(Reset::Done(user))
    }
}
