//! Identity headers: everything a client sends that the origin could mistake
//! for our word is removed; then ours are added.

use http::HeaderName;

/// Names compared with `_` read as `-`, because some servers treat `X_Auth_User`
/// as `X-Auth-User` (CGI-style environments do).
const EXACT: &[&str] = &[
    "remote-user",
    "remote-email",
    "remote-groups",
    "remote-name",
    "x-remote-user",
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-groups",
    "x-forwarded-preferred-username",
    "x-forwarded-access-token",
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
];
const PREFIXES: &[&str] = &["x-auth-"];

/// The configured carrier header names, in the same folded form.
#[derive(Debug, Clone, Default)]
pub struct StripList {
    extra: Vec<String>,
}

impl StripList {
    pub fn new(carrier_headers: &[&str]) -> Self {
        StripList { extra: carrier_headers.iter().map(|h| fold(h)).collect() }
    }

    pub fn should_strip(&self, name: &str) -> bool {
        EXACT.iter().any(|e| folded_eq(name, e))
            || PREFIXES.iter().any(|p| name.len() >= p.len() && folded_eq(&name[..p.len()], p))
            || self.extra.iter().any(|e| folded_eq(name, e))
    }

    /// The names among `names` to remove.
    pub fn select<'a>(&self, names: impl Iterator<Item = &'a HeaderName>) -> Vec<HeaderName> {
        names.filter(|n| self.should_strip(n.as_str())).cloned().collect()
    }
}

fn fold(s: &str) -> String {
    s.chars().map(|c| if c == '_' { '-' } else { c.to_ascii_lowercase() }).collect()
}

fn folded_eq(name: &str, folded: &str) -> bool {
    name.len() == folded.len()
        && name.bytes().zip(folded.bytes()).all(|(a, b)| {
            let a = if a == b'_' { b'-' } else { a.to_ascii_lowercase() };
            a == b
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_every_spelling() {
        let s = StripList::new(&["X-Line-Id", "X-Line-Region"]);
        for n in [
            "x-auth-user",
            "X_Auth_User",
            "x_auth_tenant",
            "x-auth-anything",
            "remote-user",
            "Remote_User",
            "x-forwarded-user",
            "x_forwarded_user",
            "x-line-id",
            "x_line_id",
            "x-line-region",
            "x-forwarded-for",
        ] {
            assert!(s.should_strip(n), "{n}");
        }
        for n in ["accept", "x-authority", "x-auth", "cookie", "x-line-idx", "host"] {
            assert!(!s.should_strip(n), "{n}");
        }
    }
}
