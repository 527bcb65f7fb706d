//! The account operations themselves, with no HTTP in them. The auth pages
//! and the command line call the same function, and each operation writes its
//! own audit event, once: who did it comes in an [`Actor`], never from a
//! request. Pages reach the store for account changes only through here.

mod bulk;
mod directory;
mod email;
mod email_link;
mod factor_change;
mod invite;
mod lines;
mod lock;
mod login_method;
pub(crate) mod mailed_link;
mod method_link;
mod networks;
mod opened_links;
mod password;
mod registration;
mod removal;
mod role;
mod route;
mod second_factor;
mod sessions;
mod sign_in;
mod tenant;
mod two_factor_switch;
mod two_step;
mod unlock;

pub use directory::{DirectoryForm, DirectorySaved, directory_url, new_connection_id, valid_issuer};
pub use factor_change::{CHANGE_SECS, Changed, Changing, Proved};
pub use lock::LOCK_AFTER;
pub use login_method::{DIRECTORY, MethodChange, subject_hash, valid_connection_id};
pub use method_link::MethodLink;
pub use opened_links::Reset;
pub use sign_in::{PasswordCheck, SignIn};
pub use two_step::{Checked, Proof, Purpose, REMEMBER_SECS, sms_hash};

#[cfg(test)]
mod invite_tests;
#[cfg(test)]
mod login_method_tests;
#[cfg(test)]
mod sign_in_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod two_step_tests;

#[cfg(test)]
mod own_account_tests;

#[cfg(test)]
mod tenant_settings_tests;
pub use email_link::EmailLink;
pub use invite::Invited;
pub use registration::{NewPassword, Registration, staged_digest};

use std::sync::Arc;

pub use bulk::{BulkOptions, BulkReport, BulkRow, Imported, Refusal, read_rows, write_rows};
pub use email::{EmailConfirm, EmailRequest};
pub use lines::{LinesAdded, LinesRemoved};
pub use networks::{NetworksAdded, NetworksRemoved};
pub use removal::{TenantRemoved, UserRemoved};
pub use route::RouteSet;
pub use tenant::TenantRef;
pub use two_factor_switch::SwitchSet;

use policy::HostKind;

use crate::mail::{MailError, Mailer, Notice, render};
use crate::session::SessionCache;
use crate::store::{Store, StoreError};
use crate::ui::lang::Lang;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored authenticator secret does not decrypt: the key file changed.
    #[error("a stored authenticator secret cannot be decrypted (wrong key?)")]
    UnreadableSecret,
}

pub type Result<T> = std::result::Result<T, AccountError>;

/// What the operations need: the store, the mailer, the settings, and (in a
/// gateway, not in the command line) the session cache to drop entries from
/// at once. Other gateways see every change through the store's change log.
pub struct Accounts<'a> {
    pub store: &'a Store,
    pub cfg: &'a config::GatewayConfig,
    pub mailer: &'a Arc<Mailer>,
    pub sessions: Option<&'a SessionCache>,
}

/// Who is acting, as the audit log records it, and the language of the mails
/// the action sends.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The acting user's email; `None` for the user themselves through a
    /// mailed link, `Some("cli")` for the command line.
    pub name: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    pub host: Option<HostKind>,
    pub lang: Lang,
}

impl<'a> Actor<'a> {
    /// The operator at the command line; mails go out in the service's default language.
    pub fn cli(lang: Lang) -> Actor<'static> {
        Actor { name: Some("cli"), client_ip: None, host: None, lang }
    }
}

/// Whether the mail an operation sends went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailed {
    Sent,
    Failed,
}

impl Accounts<'_> {
    /// Records an event. A failure is logged, never returned: the action it
    /// records has already happened.
    async fn audit(&self, by: &Actor<'_>, tenant: Option<i64>, subject: Option<&str>, event: &str) {
        let host = by.host.map(|h| h.as_str());
        if let Err(e) = self.store.audit(tenant, by.name, subject, event, by.client_ip, host).await {
            tracing::warn!(error = %e, event, "could not write an audit entry");
        }
    }

    /// Sends a notice and waits for the transport's answer, so the caller can
    /// say whether it went out. The address never reaches the log.
    async fn mail(&self, by: &Actor<'_>, to: &str, notice: &Notice<'_>) -> Mailed {
        let days = self.cfg.links.validity.as_secs() / 86400;
        let msg = render(notice, by.lang, &self.cfg.ui.product_name, days);
        match self.mailer.send(to, &msg).await {
            Ok(()) => Mailed::Sent,
            Err(e) => {
                let e: MailError = e;
                tracing::warn!(error = %e, "a notice could not be sent");
                Mailed::Failed
            }
        }
    }
}
