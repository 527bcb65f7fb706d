//! Handing a message to the file or webhook transport.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use config::{SmsSettings, SmsTransport};
use rand::RngCore;
use tokio::io::AsyncWriteExt;

use super::webhook::Webhook;
use super::{SmsError, SmsMessage};

pub(super) enum Transport {
    File { dir: PathBuf },
    // Boxed: the HTTPS client is large and the file variant is a path.
    Webhook(Box<Webhook>),
}

/// The development transport's record: exactly these three keys, which
/// scripts and end-to-end tests read.
#[derive(serde::Serialize)]
struct Record<'a> {
    to: &'a str,
    body: &'a str,
    code: &'a str,
}

impl Transport {
    pub(super) fn new(settings: &SmsSettings) -> Result<Transport, SmsError> {
        match settings.transport {
            SmsTransport::File => {
                create_dir(&settings.dir)?;
                Ok(Transport::File { dir: settings.dir.clone() })
            }
            SmsTransport::Webhook => {
                let hook = settings.webhook.as_ref().ok_or(SmsError::MissingWebhook)?;
                Ok(Transport::Webhook(Box::new(Webhook::new(hook)?)))
            }
        }
    }

    pub(super) fn name(&self) -> &'static str {
        match self {
            Transport::File { .. } => "file",
            Transport::Webhook(_) => "webhook",
        }
    }

    pub(super) async fn deliver(&self, msg: &SmsMessage) -> Result<(), SmsError> {
        match self {
            Transport::File { dir } => write_file(dir, msg).await,
            Transport::Webhook(hook) => hook.post(msg).await,
        }
    }
}

fn create_dir(path: &Path) -> Result<(), SmsError> {
    // 0700: the files hold live codes.
    crate::private_fs::create_dir_all(path).map_err(|source| SmsError::Directory { path: path.to_owned(), source })
}

/// Writes a hidden temporary file and renames it into place, so whoever
/// watches the directory never reads a half-written message.
async fn write_file(dir: &Path, msg: &SmsMessage) -> Result<(), SmsError> {
    // Again here: the directory may have been cleaned out since start.
    create_dir(dir)?;
    let json = serde_json::to_vec(&Record { to: &msg.to, body: &msg.body, code: &msg.code })
        .map_err(|e| SmsError::Write(std::io::Error::other(e)))?;
    let name = file_name();
    let temp = dir.join(format!(".{name}.tmp"));
    let result = write_new(&temp, &json).await;
    let result = match result {
        Ok(()) => tokio::fs::rename(&temp, dir.join(&name)).await,
        Err(e) => Err(e),
    };
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    result.map_err(SmsError::Write)
}

async fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    // create_new: two senders can never write into the same file. 0600: the
    // file holds a live code.
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(bytes).await?;
    file.flush().await
}

/// `<unix-millis>-<random>.json`: sorts by time, and the random part keeps two
/// messages of the same millisecond apart.
fn file_name() -> String {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    format!("{millis}-{:016x}.json", rand::rng().next_u64())
}
