//! Encryption of TOTP secrets at rest, so that a copy of the database alone
//! does not let anyone generate a user's codes.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore;

/// The stored format's version, so that a later algorithm can be told apart.
const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Binds a ciphertext to its purpose as well as to its user.
const AAD_LABEL: &[u8] = b"gateway totp secret v1\0";
/// A tenant directory's client secret: another purpose, so neither kind of
/// ciphertext opens as the other.
const DIRECTORY_LABEL: &[u8] = b"gateway directory secret v1\0";

/// Why the TOTP key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("secrets.totp_key must be set when the database is PostgreSQL: every instance must use the same key")]
    Required,
    #[error("secrets.totp_key must be 32 bytes written as base64 (44 characters) or as 64 hexadecimal characters")]
    Format,
    #[error("{} does not hold a key (32 bytes written as base64); fix or remove it", path.display())]
    Stored { path: PathBuf },
    #[error("cannot read the TOTP key file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the TOTP key file {}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The 256-bit key that encrypts TOTP secrets.
#[derive(Clone)]
pub struct TotpKey([u8; 32]);

impl fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpKey(***)")
    }
}

impl TotpKey {
    /// From `secrets.totp_key` (32 bytes as base64 or 64 hex characters).
    /// Without one: reads or creates `<state_dir>/data/totp.key` (32 random
    /// bytes, base64, mode 0600) and warns, since several gateways on one
    /// database must then be given the same file by hand.
    pub fn load_or_create(cfg: &config::GatewayConfig) -> Result<TotpKey, KeyError> {
        if let Some(secret) = &cfg.secrets.totp_key {
            return parse_key(secret.expose()).map(TotpKey).ok_or(KeyError::Format);
        }
        if cfg.database.starts_with("postgres") {
            return Err(KeyError::Required);
        }
        let path = cfg.state_dir.join("data").join("totp.key");
        let key = read_or_create(&path)?;
        tracing::warn!(
            path = %path.display(),
            "secrets.totp_key is not set: using a generated key; set it when several gateways share a database"
        );
        Ok(key)
    }

    pub fn from_bytes(key: [u8; 32]) -> TotpKey {
        TotpKey(key)
    }

    /// XChaCha20-Poly1305 with a random 192-bit nonce (never reused in
    /// practice, unlike 96 bits) and the user id as associated data, so a
    /// ciphertext copied into another user's row fails to decrypt.
    /// Output: `v1:` + base64(nonce ‖ ciphertext ‖ tag).
    pub fn encrypt(&self, user_id: i64, plaintext: &[u8]) -> String {
        self.seal(&aad(AAD_LABEL, user_id), plaintext)
    }

    /// A directory's client secret, bound to its tenant.
    pub fn seal_directory_secret(&self, tenant_id: i64, secret: &str) -> String {
        self.seal(&aad(DIRECTORY_LABEL, tenant_id), secret.as_bytes())
    }

    pub fn open_directory_secret(&self, tenant_id: i64, stored: &str) -> Option<String> {
        self.open(&aad(DIRECTORY_LABEL, tenant_id), stored).and_then(|b| String::from_utf8(b).ok())
    }

    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        // Fails only above 256 GiB of plaintext. Should it ever fail, the
        // nonce alone is stored, which decrypts to nothing: fail closed.
        let sealed = self.cipher().encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad }).unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// The plaintext, or `None` for anything not sealed by this key for this
    /// user (wrong key, other user, tampered or malformed).
    pub fn decrypt(&self, user_id: i64, stored: &str) -> Option<Vec<u8>> {
        self.open(&aad(AAD_LABEL, user_id), stored)
    }

    fn open(&self, aad: &[u8], stored: &str) -> Option<Vec<u8>> {
        let bytes = STANDARD.decode(stored.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher().decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad }).ok()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(self.0))
    }
}

fn aad(label: &[u8], id: i64) -> Vec<u8> {
    [label, &id.to_be_bytes()].concat()
}

/// 64 hex characters, or base64 in any common alphabet, with or without
/// padding; exactly 32 bytes either way.
fn parse_key(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut key = [0u8; 32];
        for (i, pair) in text.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(pair).ok()?;
            key[i] = u8::from_str_radix(hex, 16).ok()?;
        }
        return Some(key);
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
}

fn read_or_create(path: &Path) -> Result<TotpKey, KeyError> {
    if let Some(key) = read_existing(path)? {
        return Ok(key);
    }
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    match publish(path, STANDARD.encode(key).as_bytes()) {
        Ok(()) => Ok(TotpKey(key)),
        // Another gateway sharing this directory won the race: use its key.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_existing(path)?.ok_or_else(|| KeyError::Stored { path: path.to_owned() })
        }
        Err(source) => Err(KeyError::Create { path: path.to_owned(), source }),
    }
}

/// `None` when there is no file yet.
fn read_existing(path: &Path) -> Result<Option<TotpKey>, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            parse_key(&text).map(|k| Some(TotpKey(k))).ok_or_else(|| KeyError::Stored { path: path.to_owned() })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::Read { path: path.to_owned(), source }),
    }
}

/// Writes a complete temporary file (mode 0600) and hard-links it into place:
/// the key appears whole or not at all, and an existing key is never
/// replaced (losing it would make every stored TOTP secret unreadable).
fn publish(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temp = dir.join(format!(".totp.key.{:016x}.tmp", rand::rng().next_u64()));
    let result = write_private(&temp, contents).and_then(|()| std::fs::hard_link(&temp, path));
    let _ = std::fs::remove_file(&temp);
    result
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests;
