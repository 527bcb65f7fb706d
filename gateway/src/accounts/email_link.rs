use super::{Accounts, Actor, EmailRequest, Mailed, Result};
use crate::store::UserRow;

/// What sending a user an email-change link came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailLink {
    Sent(Mailed),
    BadAddress,
    /// The user already has this address.
    Unchanged,
    /// A login-method change link of the user's is live.
    MethodChangePending,
}

impl Accounts<'_> {
    /// Sends a link to `new_email` that changes `user`'s address when they
    /// open it (and set their password again). Whether the new address is
    /// taken is checked only when the link is used, so this cannot be used
    /// to probe addresses. Audited once, whether or not the mail went out:
    /// the same operation as the user's own request, named for the console.
    pub async fn send_email_change_link(&self, by: &Actor<'_>, user: &UserRow, new_email: &str) -> Result<EmailLink> {
        Ok(match self.request_email_change(by, user, new_email).await? {
            EmailRequest::Sent { mailed, .. } => EmailLink::Sent(mailed),
            EmailRequest::NotAnAddress => EmailLink::BadAddress,
            EmailRequest::Unchanged => EmailLink::Unchanged,
            EmailRequest::MethodChangePending => EmailLink::MethodChangePending,
        })
    }
}
