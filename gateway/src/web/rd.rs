//! Return paths after login: same host only. One name for the thing: a
//! [`ReturnPath`], carried in the query parameter and form field `rd` (links
//! and mails already out there use that name).

use super::Request;
use super::form::Form;

/// Where to go after signing in: a path on this host, checked once when read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPath(String);

impl ReturnPath {
    /// The query parameter and form field that carry it.
    pub const PARAM: &'static str = "rd";

    pub fn checked(raw: &str) -> ReturnPath {
        ReturnPath(safe_return(raw))
    }

    /// The request's `?rd=`, or `default` when it has none.
    pub fn from_query(req: &Request, default: &str) -> ReturnPath {
        ReturnPath::checked(&req.query(Self::PARAM).unwrap_or_else(|| default.to_owned()))
    }

    /// A form's `rd` field, or `default` when it has none.
    pub fn from_form(form: &Form, default: &str) -> ReturnPath {
        ReturnPath::checked(form.get(Self::PARAM).unwrap_or(default))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Percent-encoded, for the `rd` parameter of another URL.
    pub fn encoded(&self) -> String {
        percent_encoding::utf8_percent_encode(&self.0, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    /// `page` with this return path in its query: `/auth/2fa?rd=%2Ffiles`.
    pub fn on(&self, page: &str) -> String {
        format!("{page}?{}={}", Self::PARAM, self.encoded())
    }
}

impl std::fmt::Display for ReturnPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

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
