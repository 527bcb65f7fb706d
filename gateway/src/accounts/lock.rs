//! The two locks that wrong entries put on an account: ten wrong passwords in
//! a row lock the account, and wrong second-factor codes (counted per user,
//! across sessions) lock its 2-step verification. Either lock is mailed with
//! a link that lifts it.

use super::{Accounts, Actor, Result};
use crate::mail::{Notice, render};
use crate::store::{LinkPurpose, UserRow};

/// Consecutive wrong passwords that lock an account.
pub const LOCK_AFTER: i64 = 10;

impl Accounts<'_> {
    /// Counts a wrong password. The tenth in a row locks the account, ends its
    /// sessions and mails the unlock link; true when the account is locked now.
    pub async fn count_password_failure(&self, by: &Actor<'_>, user: &UserRow) -> Result<bool> {
        if self.store.record_failed_login(user.id).await? < LOCK_AFTER {
            return Ok(false);
        }
        // Of two racing tenth attempts, one locks and mails.
        if !self.store.lock_user(user.id).await? {
            return Ok(true);
        }
        self.store.delete_user_sessions(user.id).await?;
        if let Some(cache) = self.sessions {
            cache.clear();
        }
        self.audit(by, Some(user.tenant_id), Some(&user.email), "lock").await;
        let ticket = self.new_ticket(user.id, LinkPurpose::Unlock, None, self.link_secs()).await?;
        let link = self.mailed_link(by, &format!("/auth/unlock?ticket={ticket}"));
        self.mail_later(by, &user.email, &Notice::Locked { unlock_link: &link });
        Ok(true)
    }

    /// Counts a wrong second-factor code against the user, whatever the
    /// session or page. At `login.second_factor_lock_after` the second factor
    /// is locked and the unlock link mailed; true when it is locked now.
    pub async fn count_second_factor_failure(&self, by: &Actor<'_>, user: &UserRow) -> Result<bool> {
        let n = self.store.record_user_factor_failure(user.id).await?;
        if n < i64::from(self.cfg.login.second_factor_lock_after) {
            return Ok(false);
        }
        if !self.store.lock_second_factor(user.id).await? {
            return Ok(true);
        }
        self.audit(by, Some(user.tenant_id), Some(&user.email), "second_factor_locked").await;
        let ticket = self.new_ticket(user.id, LinkPurpose::Unlock, None, self.link_secs()).await?;
        let link = self.mailed_link(by, &format!("/auth/unlock?ticket={ticket}"));
        self.mail_later(by, &user.email, &Notice::SecondFactorLocked { unlock_link: &link });
        Ok(true)
    }

    /// How long a mailed link works (`links.validity`).
    pub(super) fn link_secs(&self) -> i64 {
        self.cfg.links.validity.as_secs() as i64
    }

    /// A new single-use ticket of a purpose, live for `secs` (only its hash is
    /// stored); older ones of that purpose for the user die.
    pub(super) async fn new_ticket(
        &self,
        user_id: i64,
        purpose: LinkPurpose,
        payload: Option<&str>,
        secs: i64,
    ) -> Result<String> {
        let validity = std::time::Duration::from_secs(secs.max(0) as u64);
        Ok(super::mailed_link::new_link(self.store, validity, user_id, purpose, payload).await?)
    }

    /// An absolute URL for a mail, on the hostname the actor is on: from
    /// `public_urls`, never from a request's `Host`.
    pub(super) fn mailed_link(&self, by: &Actor<'_>, path_and_query: &str) -> String {
        self.cfg.public_url(by.host == Some(policy::HostKind::LineAuth)) + path_and_query
    }

    /// Sends a notice without waiting for the relay: a sign-in that locks an
    /// account must take no longer than one that does not.
    pub(super) fn mail_later(&self, by: &Actor<'_>, to: &str, notice: &Notice<'_>) {
        let days = self.cfg.links.validity.as_secs() / 86400;
        let msg = render(notice, by.lang, &self.cfg.ui.product_name, days);
        self.mailer.send_later(to.to_owned(), msg);
    }
}
