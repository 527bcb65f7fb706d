//! The one place that knows which YAML library is in use. serde_yaml is archived
//! upstream; swapping it for a successor should only touch this file.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::ConfigError;

/// Deserializes `text` (the contents of `file`), turning the library's error into
/// a [`ConfigError`] with the library's line and column.
pub(crate) fn from_str<T: DeserializeOwned>(text: &str, file: &Path) -> Result<T, ConfigError> {
    // An empty or comment-only file is a valid "all defaults" document, but
    // YAML reads it as null, which a struct refuses.
    let text = if is_blank(text) { "{}" } else { text };
    serde_yaml::from_str(text).map_err(|err| convert(err, file))
}

fn is_blank(text: &str) -> bool {
    text.lines().map(str::trim).all(|l| l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
}

fn convert(err: serde_yaml::Error, file: &Path) -> ConfigError {
    let mut message = err.to_string();
    let place = err.location().map(|l| (l.line(), l.column()));
    if let Some((line, column)) = place {
        // The location goes in front, as `file:line:column:`; don't say it twice.
        message = message.replacen(&format!(" at line {line} column {column}"), "", 1);
    }
    ConfigError::at(file, place, message)
}
