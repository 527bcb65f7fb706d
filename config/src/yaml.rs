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
    serde_yaml::from_str(text).map_err(|err| convert(err, file, text))
}

fn is_blank(text: &str) -> bool {
    text.lines().map(str::trim).all(|l| l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
}

fn convert(err: serde_yaml::Error, file: &Path, text: &str) -> ConfigError {
    let mut message = err.to_string();
    let place = err.location().map(|l| (l.line(), l.column()));
    if let Some((line, column)) = place {
        // The location goes in front, as `file:line:column:`; don't say it twice.
        message = message.replacen(&format!(" at line {line} column {column}"), "", 1);
    }
    ConfigError::at(file, place.map(|(line, column)| within(text, line, column)), message)
}

/// libyaml reports an error at the end of a file without a final newline one
/// line past it; point at the end of the last line instead.
fn within(text: &str, line: usize, column: usize) -> (usize, usize) {
    let lines = text.split('\n').count();
    if line <= lines {
        return (line, column);
    }
    let last = text.rsplit('\n').next().unwrap_or("");
    (lines, last.chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_at_the_end_points_inside_the_text() {
        // Found by the gateway_yaml fuzz target: libyaml reported this one
        // line past the end of the file (3:1 for a file of two lines).
        let err = from_str::<serde_yaml::Value>("a: 1\nlinee_", Path::new("g.yaml")).unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(7)), "{err}");
    }
}
