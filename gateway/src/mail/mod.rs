//! Outgoing mail: unlock, reset, invitation and email-change links, and the
//! notices that follow security changes.
//!
//! Nothing here logs a body, a link or a full address: a mail body carries a
//! single-use credential, so logs name the recipient's domain at most.

mod decode;
mod metrics;
mod templates;
mod transport;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use lettre::message::Mailbox;

pub use decode::decode_message;
pub use templates::{NetworkAdded, Notice, network_added, render};

use transport::Transport;

/// A plain-text mail, before addressing.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
}

// The body holds a live link; a stray `{:?}` must not put it in a log.
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("subject", &self.subject)
            .field("text", &format_args!("<{} bytes>", self.text.len()))
            .finish()
    }
}

/// Why a mail could not be built or handed over.
///
/// `Display` never shows an address, a body or the relay's reply text (which
/// may quote the recipient); the relay's full answer is kept as `source()` for
/// the operator's command line.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail.from is not a valid mail address")]
    InvalidSender(#[source] lettre::address::AddressError),
    #[error("the recipient is not a valid mail address")]
    InvalidRecipient(#[source] lettre::address::AddressError),
    #[error("mail.transport is smtp but the mail.smtp block is missing")]
    MissingSmtp,
    #[error("cannot prepare TLS towards the mail relay")]
    Tls(#[source] lettre::transport::smtp::Error),
    #[error("cannot create the mail directory {}", path.display())]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the message")]
    Build(#[source] lettre::error::Error),
    #[error("cannot write the mail file")]
    File(#[source] lettre::transport::file::Error),
    #[error("cannot move the mail file into place")]
    Publish(#[source] std::io::Error),
    #[error("the mail relay refused or failed: {kind}")]
    Smtp {
        kind: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
}

/// Sends mail through the configured transport. Share it in an `Arc`.
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl Mailer {
    /// From the config: `file` writes one .eml per message into `dir` (created
    /// when missing); `smtp` uses host/port/tls/username/password.
    pub fn new(settings: &config::MailSettings) -> Result<Mailer, MailError> {
        let from = settings.from.parse::<Mailbox>().map_err(MailError::InvalidSender)?;
        let transport = Transport::new(settings)?;
        metrics::init();
        Ok(Mailer { from, transport })
    }

    /// Sends now and returns the outcome (tests, the command line).
    pub async fn send(&self, to: &str, msg: &Message) -> Result<(), MailError> {
        let result = self.deliver(to, msg).await;
        metrics::count(result.is_ok());
        result
    }

    async fn deliver(&self, to: &str, msg: &Message) -> Result<(), MailError> {
        let email = transport::build(&self.from, to, msg)?;
        self.transport.deliver(email).await
    }

    /// Sends on a spawned task so that a slow relay never holds up an HTTP
    /// answer. The outcome is logged and counted, never returned.
    pub fn send_later(self: &Arc<Self>, to: String, msg: Message) {
        let domain = recipient_domain(&to);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Only reachable from synchronous code; dropping loudly beats panicking.
            metrics::count(false);
            tracing::error!(%domain, "mail not sent: no async runtime to send it on");
            return;
        };
        let mailer = Arc::clone(self);
        runtime.spawn(async move {
            match mailer.send(&to, &msg).await {
                Ok(()) => tracing::debug!(%domain, "mail sent"),
                Err(e) => tracing::warn!(%domain, error = %e, "mail not sent"),
            }
        });
    }
}

/// The part of an address that may appear in a log line.
fn recipient_domain(to: &str) -> String {
    match to.trim().parse::<Mailbox>() {
        Ok(m) => m.email.domain().to_owned(),
        Err(_) => "(invalid address)".to_owned(),
    }
}

#[cfg(test)]
mod tests;
