use policy::HostKind;

use super::mailed_link::new_link;
use super::{Accounts, Actor, Mailed, Result};
use crate::mail::Notice;
use crate::store::{LinkPurpose, UserRow, canonical_email, valid_email};

/// What sending a user an email-change link came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailLink {
    Sent(Mailed),
    BadAddress,
    /// The user already has this address.
    Unchanged,
}

impl Accounts<'_> {
    /// Sends a link to `new_email` that changes `user`'s address when they
    /// open it (and set their password again). Whether the new address is
    /// taken is checked only when the link is used, so this cannot be used
    /// to probe addresses. Audited once, whether or not the mail went out.
    pub async fn send_email_change_link(&self, by: &Actor<'_>, user: &UserRow, new_email: &str) -> Result<EmailLink> {
        let new_email = canonical_email(new_email);
        if !valid_email(&new_email) {
            return Ok(EmailLink::BadAddress);
        }
        if new_email == user.email {
            return Ok(EmailLink::Unchanged);
        }
        let token =
            new_link(self.store, self.cfg.links.validity, user.id, LinkPurpose::EmailChange, Some(&new_email)).await?;
        self.audit(by, Some(user.tenant_id), Some(&user.email), "admin_email_change_link").await;
        let base = self.cfg.public_url(by.host == Some(HostKind::LineAuth));
        let link = format!("{base}/auth/email/confirm?ticket={token}");
        let mailed =
            self.mail(by, &new_email, &Notice::EmailChangeConfirm { link: &link, new_email: &new_email }).await;
        Ok(EmailLink::Sent(mailed))
    }
}
