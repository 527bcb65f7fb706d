//! `state_dir`: where the gateway writes (the SQLite database, the generated
//! TOTP key, the file transports' mail and SMS folders), kept apart from the
//! configuration so that `/etc/gateway` can be read-only.
//!
//! It is read before the rest of the file because other values (the database
//! URL) are resolved against it while they are deserialized.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use crate::error::ConfigError;
use crate::yaml;

/// Only `state_dir`; every other key is skipped here and checked by the full read.
#[derive(Deserialize)]
struct Prepass {
    #[serde(default, deserialize_with = "written")]
    state_dir: Option<PathBuf>,
}

/// `deserialize_with` for `state_dir` (also used by the full read, so both agree).
pub(crate) fn written<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    crate::scalar::parse_str(d, "a folder path", |s| {
        if s.trim().is_empty() {
            return Err("an empty path; write a folder such as /var/lib/gateway, or leave state_dir out".to_owned());
        }
        if s.contains('\0') {
            return Err("a path with a NUL character".to_owned());
        }
        Ok(PathBuf::from(s))
    })
    .map(Some)
}

/// The state folder of the configuration `text` (read from `file`, whose folder
/// is `base_dir`): `state_dir` as written (relative to `base_dir`); else the
/// first folder of `$STATE_DIRECTORY` (`state_directory`, set by systemd's
/// `StateDirectory=`) when it is absolute; else `base_dir`, which is where the
/// state files were before this setting existed.
pub(crate) fn resolve(
    text: &str,
    file: &Path,
    base_dir: &Path,
    state_directory: Option<&OsStr>,
) -> Result<PathBuf, ConfigError> {
    let pre: Prepass = yaml::from_str(text, file)?;
    if let Some(dir) = pre.state_dir {
        return Ok(if dir.is_absolute() { dir } else { base_dir.join(dir) });
    }
    // systemd joins several StateDirectory= entries with ':'; the first is ours.
    let from_systemd = state_directory
        .and_then(|v| v.to_str())
        .and_then(|v| v.split(':').next())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    Ok(from_systemd.unwrap_or_else(|| base_dir.to_path_buf()))
}
