//! Return paths after login: same host only.

/// Accepts a path on this host and nothing else; anything doubtful becomes `/`.
/// Refused: absolute and scheme-relative URLs (`//x`, `/\x`, also when
/// percent-encoded), backslashes, control characters, and the login page itself.
pub fn safe_return(rd: &str) -> String {
    fn ok(rd: &str) -> bool {
        if rd.len() > 2048 || !rd.starts_with('/') {
            return false;
        }
        if rd.contains('\\') || rd.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return false;
        }
        let decoded: String = percent_encoding::percent_decode_str(rd).decode_utf8_lossy().into_owned();
        let lowered = decoded.to_ascii_lowercase();
        if decoded.starts_with("//") || decoded.contains('\\') || lowered.starts_with("/%") {
            return false;
        }
        if decoded.chars().any(|c| c.is_control()) {
            return false;
        }
        !(decoded == "/auth/login" || decoded.starts_with("/auth/login?") || decoded.starts_with("/auth/logout"))
    }
    if ok(rd) { rd.to_owned() } else { "/".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::safe_return;

    #[test]
    fn only_same_host_paths() {
        for good in ["/", "/files/a.txt?x=1", "/a%20b", "/%E3%83%95"] {
            assert_eq!(safe_return(good), good);
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "http:/evil.example",
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "%2F%2Fevil.example",
            "javascript:alert(1)",
            "/a\nb",
            "",
            "/auth/login?rd=//evil",
            "/%252F%252Fevil",
        ] {
            assert_eq!(safe_return(bad), "/", "{bad}");
        }
    }
}
