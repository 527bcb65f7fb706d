//! Addressing a message and handing it to the file or SMTP transport.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use config::{MailSettings, MailTransport, SmtpSettings, SmtpTls};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::{self, AsyncSmtpTransportBuilder};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{MailError, Message};

/// Files are written here first and renamed into the mail directory, so that
/// whoever watches that directory never reads a half-written `.eml`.
const STAGING: &str = ".partial";

/// Per SMTP command; lettre's default of a minute would pile up tasks behind a
/// dead relay.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) enum Transport {
    File {
        dir: PathBuf,
        staging: AsyncFileTransport<Tokio1Executor>,
    },
    Smtp {
        builder: AsyncSmtpTransportBuilder,
        // Built on first use: its connection pool spawns a task, which needs
        // the runtime that `Mailer::new` (synchronous) may not be running on.
        built: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    },
}

impl Transport {
    pub(super) fn new(settings: &MailSettings) -> Result<Transport, MailError> {
        match settings.transport {
            MailTransport::File => {
                let staging = settings.dir.join(STAGING);
                create_dir(&staging)?;
                Ok(Transport::File { dir: settings.dir.clone(), staging: AsyncFileTransport::new(staging) })
            }
            MailTransport::Smtp => {
                let smtp = settings.smtp.as_ref().ok_or(MailError::MissingSmtp)?;
                Ok(Transport::Smtp { builder: smtp_builder(smtp)?, built: OnceLock::new() })
            }
        }
    }

    pub(super) async fn deliver(&self, email: lettre::Message) -> Result<(), MailError> {
        match self {
            Transport::File { dir, staging } => {
                let staging_dir = dir.join(STAGING);
                // Again here: the directory may have been cleaned out since start.
                create_dir(&staging_dir)?;
                let id = staging.send(email).await.map_err(MailError::File)?;
                let name = format!("{id}.eml");
                // lettre writes with the umask's mode; the staging folder is 0700,
                // so nobody else sees the file before it is 0600.
                crate::private_fs::restrict(&staging_dir.join(&name)).map_err(MailError::Publish)?;
                tokio::fs::rename(staging_dir.join(&name), dir.join(&name)).await.map_err(MailError::Publish)
            }
            Transport::Smtp { builder, built } => {
                let smtp = built.get_or_init(|| builder.clone().build());
                smtp.send(email).await.map(|_| ()).map_err(smtp_error)
            }
        }
    }
}

fn create_dir(path: &Path) -> Result<(), MailError> {
    // 0700: mails hold live links.
    crate::private_fs::create_dir_all(path).map_err(|source| MailError::Directory { path: path.to_owned(), source })
}

fn smtp_builder(s: &SmtpSettings) -> Result<AsyncSmtpTransportBuilder, MailError> {
    let tls_params = || tls_parameters(s);
    let tls = match s.tls {
        SmtpTls::None => Tls::None,
        // Required, not opportunistic: a relay that drops STARTTLS must not
        // receive credentials or links in the clear.
        SmtpTls::Starttls => Tls::Required(tls_params()?),
        SmtpTls::Tls => Tls::Wrapper(tls_params()?),
    };
    // "dangerous" only means lettre leaves TLS to us; it is set explicitly above.
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.as_str())
        .port(s.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = &s.username {
        let password = s.password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder)
}

/// The relay's name checked against its certificate, by the public roots, or
/// with `mail.smtp.ca_file` by that file's authorities only.
fn tls_parameters(s: &SmtpSettings) -> Result<TlsParameters, MailError> {
    let Some(ca) = &s.ca_file else {
        return TlsParameters::new(s.host.clone()).map_err(MailError::Tls);
    };
    let mut builder = TlsParameters::builder(s.host.clone()).certificate_store(CertificateStore::None);
    for der in &ca.certs {
        builder = builder.add_root_certificate(Certificate::from_der(der.clone()).map_err(MailError::Tls)?);
    }
    builder.build_rustls().map_err(MailError::Tls)
}

/// Classifies without the relay's text, which may quote the recipient.
fn smtp_error(source: smtp::Error) -> MailError {
    let kind = match source.status() {
        Some(code) if source.is_permanent() => format!("permanent error {code}"),
        Some(code) => format!("transient error {code}"),
        None if source.is_timeout() => "timeout".to_owned(),
        None if source.is_tls() => "TLS failure".to_owned(),
        None if source.is_client() => "client error".to_owned(),
        None => "connection failure".to_owned(),
    };
    MailError::Smtp { kind, source }
}

/// The full RFC 5322 message: From, To, Subject, Date, Message-ID and a
/// UTF-8 plain-text body (lettre picks 7bit, quoted-printable or base64).
pub(super) fn build(from: &Mailbox, to: &str, msg: &Message) -> Result<lettre::Message, MailError> {
    let to = to.trim().parse::<Mailbox>().map_err(MailError::InvalidRecipient)?;
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(msg.subject.as_str())
        .date_now()
        .message_id(Some(message_id(from)))
        .header(ContentType::TEXT_PLAIN)
        .body(msg.text.clone())
        .map_err(MailError::Build)
}

// Our sender's domain rather than lettre's default (this machine's hostname),
// which would tell every recipient the name of an internal host.
fn message_id(from: &Mailbox) -> String {
    format!("<{:032x}@{}>", rand::random::<u128>(), from.email.domain())
}
