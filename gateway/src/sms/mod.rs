//! Outgoing SMS: the one-time codes of 2-step verification.
//!
//! Nothing here logs a number, a body or a code: a message carries a live
//! credential and a phone number is personal data, so logs name the transport
//! and the outcome only.

mod code;
mod limits;
mod metrics;
mod phone;
mod transport;
mod webhook;

use std::fmt;
use std::path::PathBuf;

pub use code::new_code;
pub use limits::{count_refusal, country_allowed};
pub use phone::{PhoneError, mask_phone, normalize_phone};

use transport::Transport;

/// One text message. `to` is E.164 (see [`normalize_phone`]); `code` is the
/// one-time code that `body` quotes, kept apart so that the development
/// transport can hand it to tests and scripts without parsing the text.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsMessage {
    pub to: String,
    pub body: String,
    pub code: String,
}

// A stray `{:?}` must put neither the code nor the number in a log.
impl fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsMessage")
            .field("to", &mask_phone(&self.to))
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("code", &"***")
            .finish()
    }
}

/// Why an SMS could not be prepared or handed over.
///
/// `Display` never shows a number, a body, a header value or the provider's
/// answer (which may quote the message); the underlying error, when there is
/// one, is kept as `source()` for the operator.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("sms.transport is webhook but the sms.webhook block is missing")]
    MissingWebhook,
    #[error("sms.webhook.url is not a usable http or https URL")]
    Url,
    #[error("sms.webhook.headers: {name:?} is not a valid header name")]
    HeaderName { name: String },
    #[error("sms.webhook.headers: the value of {name:?} cannot be sent in an HTTP header")]
    HeaderValue { name: String },
    #[error("sms.webhook.body_template is not valid JSON once its placeholders are filled in")]
    Template(#[source] serde_json::Error),
    #[error("cannot prepare TLS towards the SMS webhook")]
    Tls(#[source] rustls::Error),
    #[error("cannot create the SMS directory {}", path.display())]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the SMS file")]
    Write(#[source] std::io::Error),
    #[error("cannot build the SMS webhook request")]
    Request(#[source] http::Error),
    #[error("the SMS webhook could not be reached")]
    Unreachable(#[source] hyper_util::client::legacy::Error),
    #[error("the SMS webhook did not answer within {0} seconds")]
    Timeout(u64),
    #[error("the SMS webhook answered HTTP {status}")]
    Status { status: u16 },
}

/// Sends SMS through the configured transport. Share it in an `Arc`.
pub struct SmsSender {
    transport: Transport,
}

impl SmsSender {
    /// From the config: `file` writes one JSON file per message into `dir`
    /// (created when missing); `webhook` POSTs to `sms.webhook.url`. Every
    /// setting is checked here, so that a bad one stops the start rather than
    /// the first login.
    pub fn new(settings: &config::SmsSettings) -> Result<SmsSender, SmsError> {
        let transport = Transport::new(settings)?;
        metrics::init();
        limits::init();
        Ok(SmsSender { transport })
    }

    /// Sends now and returns the outcome; counted in `gateway_sms_total`.
    ///
    /// file: writes `<dir>/<unix-millis>-<random>.json` atomically with exactly
    /// `{"to","body","code"}`. webhook: POSTs `body_template` with `{to}`,
    /// `{body}` and `{code}` replaced by JSON-escaped values and the configured
    /// headers; no answer within 10 s or a non-2xx status is an error.
    pub async fn send(&self, msg: &SmsMessage) -> Result<(), SmsError> {
        let result = self.transport.deliver(msg).await;
        metrics::count(result.is_ok());
        match &result {
            Ok(()) => tracing::debug!(transport = self.transport.name(), "SMS sent"),
            Err(e) => tracing::warn!(transport = self.transport.name(), error = %e, "SMS not sent"),
        }
        result
    }
}

#[cfg(test)]
mod tests;
