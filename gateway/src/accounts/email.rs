//! Changing a user's email address: a link mailed to the new address, and the
//! change itself when that link is used (SPEC section 5).

use policy::HostKind;

use super::mailed_link::new_link;
use super::{Accounts, Actor, Mailed, Result};
use crate::mail::Notice;
use crate::store::{LinkPurpose, StoreError, UserRow, canonical_email, valid_email};
use crate::tokens;

/// What became of a request to change an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailRequest {
    /// A confirmation link went (or failed to go) to `new_email`.
    Sent {
        new_email: String,
        mailed: Mailed,
    },
    NotAnAddress,
    /// The address is the user's already: the caller sends the login-method
    /// change link instead (SPEC section 9).
    Unchanged,
    /// A login-method change link of the user's is live: the two never run at once.
    MethodChangePending,
}

/// What became of using a confirmation link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailConfirm {
    Changed {
        old_email: String,
        new_email: String,
    },
    /// Unknown, used, expired or replaced: one answer for all.
    DeadLink,
    /// The new address has an account of its own now; the link is used up.
    Taken,
}

impl Accounts<'_> {
    /// Mails a confirmation link to the new address; nothing changes before it
    /// is used. Whether the address is taken is found out only then, so the
    /// answer here tells nobody which addresses have accounts.
    pub async fn request_email_change(&self, by: &Actor<'_>, user: &UserRow, new_email: &str) -> Result<EmailRequest> {
        let new_email = canonical_email(new_email);
        if !valid_email(&new_email) {
            return Ok(EmailRequest::NotAnAddress);
        }
        if new_email == user.email {
            return Ok(EmailRequest::Unchanged);
        }
        if self.store.has_live_link(user.id, LinkPurpose::LoginMethod).await? {
            let event = "email_change_refused:login_method_pending";
            self.audit(by, Some(user.tenant_id), Some(&user.email), event).await;
            return Ok(EmailRequest::MethodChangePending);
        }
        let token =
            new_link(self.store, self.cfg.links.validity, user.id, LinkPurpose::EmailChange, Some(&new_email)).await?;
        // From `public_urls` only, never from a request's Host.
        let link =
            format!("{}/auth/email/confirm?ticket={token}", self.cfg.public_url(by.host == Some(HostKind::LineAuth)));
        let own = by.name == Some(user.email.as_str());
        let event = if own { "email_change_requested" } else { "admin_email_change_link" };
        self.audit(by, Some(user.tenant_id), Some(&user.email), event).await;
        let mailed =
            self.mail(by, &new_email, &Notice::EmailChangeConfirm { link: &link, new_email: &new_email }).await;
        Ok(EmailRequest::Sent { new_email, mailed })
    }

    /// The new address a live confirmation link would set, for its page;
    /// `None` for any link that cannot be used.
    pub async fn pending_email_change(&self, ticket: &str) -> Result<Option<String>> {
        let Some(hash) = tokens::hash_token(ticket) else { return Ok(None) };
        Ok(self.store.peek_link_with_payload(&hash, LinkPurpose::EmailChange).await?.and_then(|(_, email)| email))
    }

    /// Uses the link: the address changes, the password becomes the one the
    /// user just chose (hashed by the caller after `pending_email_change`, so a
    /// failure there never burns the link), 2-step verification is reset and
    /// every session ends. The old address is told; the new one hears of the
    /// reset when there was something to reset.
    /// Whether confirming this link sets a password: for a password user it
    /// does; a federated user has none to set.
    pub async fn email_change_sets_password(&self, ticket: &str) -> Result<bool> {
        let Some(hash) = tokens::hash_token(ticket) else { return Ok(true) };
        let Some((user_id, _)) = self.store.peek_link_with_payload(&hash, LinkPurpose::EmailChange).await? else {
            return Ok(true);
        };
        let user = self.store.user_by_id(user_id).await?;
        Ok(user.is_none_or(|u| u.login_method == policy::LoginMethod::Password))
    }

    pub async fn confirm_email_change(
        &self,
        by: &Actor<'_>,
        ticket: &str,
        password_hash: Option<&str>,
    ) -> Result<EmailConfirm> {
        // A password user without a new password: nothing is used up.
        if password_hash.is_none() && self.email_change_sets_password(ticket).await? {
            return Ok(EmailConfirm::DeadLink);
        }
        let Some(hash) = tokens::hash_token(ticket) else { return Ok(EmailConfirm::DeadLink) };
        let (user_id, new_email) = match self.store.consume_link_with_payload(&hash, LinkPurpose::EmailChange).await? {
            Some((id, Some(email))) => (id, email),
            _ => return Ok(EmailConfirm::DeadLink),
        };
        let Some(user) = self.store.user_by_id(user_id).await? else { return Ok(EmailConfirm::DeadLink) };
        match self.store.set_email(user_id, &new_email).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(EmailConfirm::Taken),
            Err(e) => return Err(e.into()),
        }
        let had_second_factor = self.store.enrolment(user_id).await?.any();
        if let (policy::LoginMethod::Password, Some(password_hash)) = (user.login_method, password_hash) {
            self.store.set_password_hash(user_id, password_hash).await?;
        }
        self.store.reset_second_factors(user_id).await?;
        // Links mailed to the old address die with it: a reset link there
        // would otherwise let whoever reads the old mailbox take the account.
        self.store.void_links(user_id, &[LinkPurpose::Reset, LinkPurpose::Unlock, LinkPurpose::EmailChange]).await?;
        self.store.delete_user_sessions(user_id).await?;
        if let Some(cache) = self.sessions {
            cache.clear();
        }
        // The one holding the link acts as the new address.
        let as_new = Actor { name: by.name.or(Some(new_email.as_str())), ..*by };
        self.audit(&as_new, Some(user.tenant_id), Some(&user.email), "email_changed").await;
        self.mail(by, &user.email, &Notice::EmailChanged { new_email: &new_email }).await;
        if had_second_factor {
            self.mail(by, &new_email, &Notice::SecondFactorReset).await;
        }
        Ok(EmailConfirm::Changed { old_email: user.email, new_email })
    }
}
