//! The login-method change link (SPEC section 9): mailed by an admin, or to
//! a user whose email-change form came back with the address unchanged. A
//! login-method change and an email change never run at once for one user.

use policy::HostKind;

use super::mailed_link::new_link;
use super::{Accounts, Actor, Mailed, Result};
use crate::mail::Notice;
use crate::store::{LinkPurpose, UserRow};

/// What sending a login-method change link came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodLink {
    Sent(Mailed),
    /// An email-change link of the user's is live: the two never run at once.
    EmailChangePending,
}

impl Accounts<'_> {
    /// Mails `user` a link to choose a new login method, valid
    /// `links.validity`; an older one dies.
    pub async fn send_login_method_link(&self, by: &Actor<'_>, user: &UserRow) -> Result<MethodLink> {
        if self.store.has_live_link(user.id, LinkPurpose::EmailChange).await? {
            let event = "login_method_link_refused:email_change_pending";
            self.audit(by, Some(user.tenant_id), Some(&user.email), event).await;
            return Ok(MethodLink::EmailChangePending);
        }
        let token = new_link(self.store, self.cfg.links.validity, user.id, LinkPurpose::LoginMethod, None).await?;
        // From `public_urls` only, never from a request's Host.
        let link =
            format!("{}/auth/login-method?ticket={token}", self.cfg.public_url(by.host == Some(HostKind::LineAuth)));
        let own = by.name == Some(user.email.as_str());
        let event = if own { "login_method_link_requested" } else { "admin_login_method_link" };
        self.audit(by, Some(user.tenant_id), Some(&user.email), event).await;
        Ok(MethodLink::Sent(self.mail(by, &user.email, &Notice::LoginMethodLink { link: &link }).await))
    }

    /// The user a live login-method link is for, and its hash; `None` for a
    /// dead one.
    pub async fn method_link_user(&self, ticket: &str) -> Result<Option<(String, UserRow)>> {
        let Some(hash) = crate::tokens::hash_token(ticket) else { return Ok(None) };
        let Some(user_id) = self.store.peek_link(&hash, LinkPurpose::LoginMethod).await? else { return Ok(None) };
        Ok(self.store.user_by_id(user_id).await?.filter(|u| u.registered()).map(|u| (hash, u)))
    }

    /// Whether an email change of the user waits for its confirmation.
    pub async fn email_change_pending(&self, user: &UserRow) -> Result<bool> {
        Ok(self.store.has_live_link(user.id, LinkPurpose::EmailChange).await?)
    }

    /// The user's login method now: a provider id, `ad`, or `password`.
    pub async fn current_method(&self, user: &UserRow) -> Result<String> {
        Ok(match self.store.federated_identity(user.id).await? {
            Some(id) => id.provider,
            None => "password".to_owned(),
        })
    }
}
