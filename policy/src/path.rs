use crate::role::Role;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path does not start with '/'")]
    NotAbsolute,
    #[error("the path has a malformed percent-escape")]
    BadEscape,
    #[error("the decoded path is not UTF-8")]
    NotUtf8,
    #[error("the decoded path contains a control character")]
    Control,
}

/// Normalises a request path the one way every rule and the origin see it: the
/// query and fragment dropped, percent-decoding applied exactly once, `\` taken
/// as `/`, duplicate slashes merged and dot-segments resolved (never above the
/// root). A trailing slash is kept. Anything that cannot be decoded cleanly is an
/// error, never a guess.
pub fn normalize_path(raw: &str) -> Result<String, PathError> {
    let mut out = String::with_capacity(raw.len());
    normalize_path_into(raw, &mut out)?;
    Ok(out)
}

/// As [`normalize_path`], into a caller's buffer (cleared first) so that the hot
/// path can reuse one allocation.
pub fn normalize_path_into(raw: &str, out: &mut String) -> Result<(), PathError> {
    out.clear();
    let end = raw.find(['?', '#']).unwrap_or(raw.len());
    let raw = &raw.as_bytes()[..end];
    if raw.first() != Some(&b'/') {
        return Err(PathError::NotAbsolute);
    }
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'%' {
            let hi = raw.get(i + 1).and_then(|c| hex(*c));
            let lo = raw.get(i + 2).and_then(|c| hex(*c));
            match (hi, lo) {
                (Some(h), Some(l)) => decoded.push(h << 4 | l),
                _ => return Err(PathError::BadEscape),
            }
            i += 3;
        } else {
            decoded.push(b);
            i += 1;
        }
    }
    let decoded = String::from_utf8(decoded).map_err(|_| PathError::NotUtf8)?;
    if decoded.chars().any(|c| c.is_control()) {
        return Err(PathError::Control);
    }

    // Segments are resolved on a stack of byte ranges into `decoded`.
    let mut stack: Vec<&str> = Vec::new();
    let mut trailing = false;
    for seg in decoded.split(['/', '\\']) {
        trailing = false;
        match seg {
            "" => trailing = true,
            "." => trailing = true,
            ".." => {
                stack.pop();
                trailing = true;
            }
            s => stack.push(s),
        }
    }
    out.push('/');
    for (n, seg) in stack.iter().enumerate() {
        if n > 0 {
            out.push('/');
        }
        out.push_str(seg);
    }
    if trailing && !stack.is_empty() {
        out.push('/');
    }
    Ok(())
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Characters a path may contain and stay exactly as it is through
/// [`normalize_path`] and [`encode_path`].
const KEEP: &[u8] = b"-._~!$&'()*+,;=:@/";

/// Whether a raw request path is already in normal form, so that
/// `normalize_path(p) == p` and `encode_path(p) == p`: the hot path's way to
/// skip both (and their allocations) for the common, plain path.
pub fn already_normal(raw: &str) -> bool {
    let b = raw.as_bytes();
    if b.first() != Some(&b'/') {
        return false;
    }
    if !b.iter().all(|c| c.is_ascii_alphanumeric() || KEEP.contains(c)) {
        return false;
    }
    // No empty, "." or ".." segment anywhere (a trailing slash is fine).
    let mut segments = raw[1..].split('/').peekable();
    while let Some(seg) = segments.next() {
        let last = segments.peek().is_none();
        if seg == "." || seg == ".." || (seg.is_empty() && !last) {
            return false;
        }
    }
    true
}

/// Percent-encodes a normalised path for the origin, so the origin reads the
/// very path the rules were matched against (no second decoding can turn
/// `%2F` or `%2e%2e` into something the rules never saw).
pub fn encode_path(normalised: &str) -> String {
    let mut out = String::with_capacity(normalised.len());
    for &b in normalised.as_bytes() {
        if b.is_ascii_alphanumeric() || KEEP.contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[(b >> 4) as usize]));
            out.push(char::from(b"0123456789ABCDEF"[(b & 15) as usize]));
        }
    }
    out
}

/// How a rule matches a normalised path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// The whole path, exactly.
    Exact(String),
    /// A path prefix on segment boundaries: `/public` matches `/public` and
    /// `/public/x` but not `/publicity`; `/public/` matches `/public/x` only.
    Prefix(String),
}

impl PathMatch {
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Exact(p) => path == p,
            PathMatch::Prefix(p) => {
                if p.ends_with('/') {
                    path.starts_with(p.as_str())
                } else {
                    path.strip_prefix(p.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathAction {
    /// No session needed (health checks, public assets); still no identity injected.
    Bypass,
    /// Refused for everyone.
    Deny,
    /// A session whose role is at least this one.
    RequireRole(Role),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRule {
    pub matcher: PathMatch,
    pub action: PathAction,
    /// Where the rule was declared (e.g. `policy.yaml:12:5`), for explanations.
    pub origin: String,
}

/// The ops path rules; the first match wins.
#[derive(Debug, Clone, Default)]
pub struct PathRules {
    rules: Vec<PathRule>,
}

impl PathRules {
    pub fn new(rules: Vec<PathRule>) -> Self {
        PathRules { rules }
    }

    pub fn first_match(&self, path: &str) -> Option<(usize, &PathRule)> {
        self.rules.iter().enumerate().find(|(_, r)| r.matcher.matches(path))
    }

    pub fn rules(&self) -> &[PathRule] {
        &self.rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let cases = [
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a//b///c", "/a/b/c"),
            ("/a/./b/../c", "/a/c"),
            ("/../../etc/passwd", "/etc/passwd"),
            ("/a/b/", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/a/%2e%2e/b", "/b"),
            ("/public/..%2Fsecret", "/secret"),
            ("/public%5C..%5Csecret", "/secret"),
            ("/a%20b", "/a b"),
            ("/%2525", "/%25"),
            ("/x?y=/../z#f", "/x"),
            ("//", "/"),
            ("/%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB", "/ファイル"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_path(raw).as_deref(), Ok(want), "{raw}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_decode() {
        assert_eq!(normalize_path("a/b"), Err(PathError::NotAbsolute));
        assert_eq!(normalize_path("*"), Err(PathError::NotAbsolute));
        assert_eq!(normalize_path("/%zz"), Err(PathError::BadEscape));
        assert_eq!(normalize_path("/%4"), Err(PathError::BadEscape));
        assert_eq!(normalize_path("/%ff"), Err(PathError::NotUtf8));
        assert_eq!(normalize_path("/a%00b"), Err(PathError::Control));
        assert_eq!(normalize_path("/a%0Ab"), Err(PathError::Control));
    }

    #[test]
    fn encoding_round_trips_through_normalisation() {
        for p in ["/a b/ファイル", "/100%/x", "/a?b#c", "/%2F"] {
            let n = normalize_path(&encode_path(p)).unwrap();
            assert_eq!(n, normalize_path(&encode_path(&n)).unwrap());
        }
        assert_eq!(encode_path("/a b/%"), "/a%20b/%25");
        assert_eq!(encode_path("/a?b#c"), "/a%3Fb%23c");
    }

    #[test]
    fn already_normal_means_unchanged() {
        for p in ["/", "/a", "/a/b/", "/files/report.pdf", "/a-b_c~d/e.f", "/x;y=1/z@w"] {
            assert!(already_normal(p), "{p}");
            assert_eq!(normalize_path(p).as_deref(), Ok(p));
            assert_eq!(encode_path(p), p);
        }
        for p in
            ["", "a", "//", "/a//b", "/./a", "/a/.", "/a/..", "/a/../b", "/%2e", "/a b", "/a\\b", "/a?b", "/\u{e9}"]
        {
            assert!(!already_normal(p), "{p:?}");
        }
    }

    #[test]
    fn prefix_matches_on_segment_boundaries() {
        let m = PathMatch::Prefix("/public".into());
        assert!(m.matches("/public"));
        assert!(m.matches("/public/a.css"));
        assert!(!m.matches("/publicity"));
        let m = PathMatch::Prefix("/public/".into());
        assert!(!m.matches("/public"));
        assert!(m.matches("/public/a"));
        assert!(PathMatch::Exact("/healthz".into()).matches("/healthz"));
        assert!(!PathMatch::Exact("/healthz".into()).matches("/healthz/"));
    }
}
