//! Helpers shared by the fuzz targets: none of this is product code.

/// Splits raw fuzz input into header values, one per line, so that the fuzzer
/// mutates readable text and seeds can be written as plain files.
pub fn lines(data: &[u8]) -> Vec<&[u8]> {
    data.split(|b| *b == b'\n').collect()
}

/// The `name=value` pairs of `Cookie` headers as every reader in the gateway
/// sees them: split on `;`, trimmed of ASCII white space, empty pairs dropped.
pub fn cookie_pairs<'a>(headers: &[&'a [u8]]) -> Vec<&'a [u8]> {
    headers.iter().flat_map(|h| h.split(|b| *b == b';')).map(|p| p.trim_ascii()).filter(|p| !p.is_empty()).collect()
}

/// A pair's name (everything before the first `=`, or the whole pair) and value.
pub fn split_pair(pair: &[u8]) -> (&[u8], Option<&[u8]>) {
    match pair.iter().position(|b| *b == b'=') {
        Some(eq) => (&pair[..eq], Some(&pair[eq + 1..])),
        None => (pair, None),
    }
}

/// Checks that a configuration error names the file and, when it has a
/// position, one that lies inside `text` (1-based line and column; one past the
/// end is where "unexpected end of input" is reported).
pub fn check_error_position(err: &config::ConfigError, text: &str, file: &std::path::Path) {
    assert_eq!(err.file, file, "{err}");
    assert!(!err.message.trim().is_empty(), "an error without a message");
    assert!(err.to_string().starts_with(&file.display().to_string()), "{err}");
    assert_eq!(err.line.is_some(), err.column.is_some(), "a line without a column or back: {err:?}");
    let (Some(line), Some(column)) = (err.line, err.column) else { return };
    assert!(line >= 1 && column >= 1, "positions are 1-based: {err:?}");
    // YAML also breaks lines at CR, NEL, LS and PS; count every break to stay sound.
    let breaks = text.chars().filter(|c| matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')).count();
    assert!(line <= breaks + 1, "line {line} of a text with {} lines: {err}", breaks + 1);
    if !text.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        let here = text.split('\n').nth(line - 1).unwrap_or("");
        assert!(column <= here.chars().count() + 1, "column {column} of a line {:?}: {err}", here);
    } else {
        assert!(column <= text.chars().count() + 1, "column {column} past the text: {err}");
    }
}

/// Whether a configuration text would make the loader read a device or a
/// kernel file as a `{ file: … }` secret (which can block or never end): such
/// inputs are skipped, they say nothing about the parser.
pub fn reads_special_files(text: &str) -> bool {
    ["/dev", "/proc", "/sys", "/run"].iter().any(|p| text.contains(p)) || text.contains('\\')
}
