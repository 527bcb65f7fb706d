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
    #[error("a path segment is only dots or spaces once its ';' parameters are removed")]
    DotSegment,
}

/// Normalises a request path the one way every rule and the origin see it: the
/// query and fragment dropped, segment parameters (a raw `;` up to the next raw
/// `/`) removed, percent-decoding applied exactly once, `\` taken as `/`,
/// duplicate slashes merged and dot-segments resolved (never above the root).
/// A trailing slash is kept. Anything that cannot be decoded cleanly is an
/// error, never a guess.
///
/// Origins disagree about what `..;`, `%2e%2e;x`, `...` or `.. ` mean (Tomcat
/// and Spring take `..;` for `..`, Windows drops trailing dots and spaces), so
/// a segment that is only dots and spaces once its parameters are removed,
/// other than a plain `.` or `..`, is refused rather than guessed at. An
/// encoded `;` (`%3B`) is part of a name: it stays in the path, and
/// [`encode_path`] sends it on encoded.
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
    // Each raw segment, parameters cut off, decoded and followed by a '/' (so a
    // UTF-8 sequence can never run across a raw separator); `parts` holds the
    // decoded segments (an encoded '/' or '\' splits one raw segment in
    // several) and whether their raw segment carried parameters.
    let mut decoded = Vec::with_capacity(raw.len());
    let mut parts: Vec<(usize, usize, bool)> = Vec::new();
    for raw_seg in raw[1..].split(|b| *b == b'/' || *b == b'\\') {
        let (name, params) = match raw_seg.iter().position(|b| *b == b';') {
            Some(i) => (&raw_seg[..i], true),
            None => (raw_seg, false),
        };
        let first = decoded.len();
        percent_decode_into(name, &mut decoded)?;
        let mut start = first;
        for (i, b) in decoded.iter().enumerate().skip(first) {
            if *b == b'/' || *b == b'\\' {
                parts.push((start, i, params));
                start = i + 1;
            }
        }
        parts.push((start, decoded.len(), params));
        decoded.push(b'/');
    }
    let decoded = String::from_utf8(decoded).map_err(|_| PathError::NotUtf8)?;
    if decoded.chars().any(|c| c.is_control()) {
        return Err(PathError::Control);
    }

    let mut stack: Vec<&str> = Vec::new();
    let mut trailing = false;
    for (a, b, params) in parts {
        let seg = decoded.get(a..b).ok_or(PathError::NotUtf8)?;
        trailing = false;
        match seg {
            "" => trailing = true,
            "." | ".." if params => return Err(PathError::DotSegment),
            "." => trailing = true,
            ".." => {
                stack.pop();
                trailing = true;
            }
            s if core(s, Looseness::RESTRICTIVE).is_empty() => return Err(PathError::DotSegment),
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

fn percent_decode_into(raw: &[u8], decoded: &mut Vec<u8>) -> Result<(), PathError> {
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
/// [`normalize_path`] and [`encode_path`]. Not `;`: raw, it starts segment
/// parameters, which normalisation removes.
const KEEP: &[u8] = b"-._~!$&'()*+,=:@/";

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
    // No empty segment (a trailing slash is fine), and none of dots only
    // ("." and ".." are resolved, longer ones refused).
    let mut segments = raw[1..].split('/').peekable();
    while let Some(seg) = segments.next() {
        let last = segments.peek().is_none();
        if (seg.is_empty() && !last) || (!seg.is_empty() && seg.bytes().all(|c| c == b'.')) {
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
    /// The strict match: byte for byte, on segment boundaries.
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

    fn matches_as(&self, path: &str, how: Looseness) -> bool {
        if how == Looseness::STRICT {
            return self.matches(path);
        }
        let (pattern, exact) = match self {
            PathMatch::Exact(p) => (p.as_str(), true),
            PathMatch::Prefix(p) => (p.as_str(), false),
        };
        let (Some(mut pat), Some(mut body)) = (pattern.strip_prefix('/'), path.strip_prefix('/')) else {
            return false;
        };
        // The common miss, decided on the first byte before any segment is cut out.
        if let (Some(&w), Some(&h)) = (pat.as_bytes().first(), body.as_bytes().first())
            && plain_first_bytes_differ(w, h, how.fold)
        {
            return false;
        }
        if how.any_slash {
            pat = pat.strip_suffix('/').unwrap_or(pat);
            body = body.strip_suffix('/').unwrap_or(body);
        }
        if pat.is_empty() {
            return !exact || body.is_empty();
        }
        // A prefix ending in '/' needs at least one more segment in the path.
        let dir = !exact && pat.ends_with('/');
        let pat = if dir { &pat[..pat.len() - 1] } else { pat };
        let (mut want, mut have) = (Some(pat), Some(body));
        loop {
            match (want, have) {
                (None, None) => return !dir,
                (None, Some(_)) => return !exact,
                (Some(_), None) => return false,
                (Some(w), Some(h)) => {
                    let ((w, w_rest), (h, h_rest)) = (first_segment(w), first_segment(h));
                    if !same_segment(w, h, how) {
                        return false;
                    }
                    (want, have) = (w_rest, h_rest);
                }
            }
        }
    }
}

/// What an origin does with a path, as far as the operator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// Not known: restrictive rules assume it does, bypass rules that it does not.
    #[default]
    Unknown,
    Yes,
    No,
}

/// How the origin reads paths (`origin_paths` in the policy file). Whatever
/// is set, a loose match never widens access: restrictive rules (deny, role
/// requirements) match every spelling the origin might take for their path,
/// and bypass rules only the spellings the origin is known to take for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PathOptions {
    /// `/Internal` is `/internal` at the origin.
    pub folds_case: Origin,
    /// `/internal.` and `/internal%20` are `/internal` at the origin (Windows, IIS).
    pub ignores_trailing_dots_and_spaces: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fold {
    None,
    /// The narrowest fold an origin that folds case does: bypass rules.
    Ascii,
    /// The widest (Java's `equalsIgnoreCase` takes `ı` for `i`): restrictive rules.
    Unicode,
}

/// How one kind of rule compares a path segment with its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Looseness {
    fold: Fold,
    /// Trailing dots and spaces of a segment ignored.
    trim: bool,
    /// Everything from a (decoded) `;` on ignored: an origin that decodes
    /// before it strips parameters reads `a%3Bx` as `a`.
    cut: bool,
    /// A trailing slash ignored, on the path and on the pattern.
    any_slash: bool,
}

impl Looseness {
    const STRICT: Looseness = Looseness { fold: Fold::None, trim: false, cut: false, any_slash: false };
    const RESTRICTIVE: Looseness = Looseness { fold: Fold::Unicode, trim: true, cut: true, any_slash: true };

    fn restrictive(o: PathOptions) -> Looseness {
        Looseness {
            fold: if o.folds_case == Origin::No { Fold::None } else { Fold::Unicode },
            trim: o.ignores_trailing_dots_and_spaces != Origin::No,
            ..Looseness::RESTRICTIVE
        }
    }

    fn bypass(o: PathOptions) -> Looseness {
        Looseness {
            fold: if o.folds_case == Origin::Yes { Fold::Ascii } else { Fold::None },
            trim: o.ignores_trailing_dots_and_spaces == Origin::Yes,
            ..Looseness::STRICT
        }
    }
}

/// The first segment of a path without its leading '/', and the rest after its '/'.
fn first_segment(s: &str) -> (&str, Option<&str>) {
    match s.as_bytes().iter().position(|c| *c == b'/') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

/// The part of a segment a loose comparison looks at. Byte-wise: '.', ' '
/// and ';' are ASCII, so cutting at them keeps UTF-8 whole.
fn core(seg: &str, how: Looseness) -> &str {
    let mut b = seg.as_bytes();
    if how.cut
        && let Some(i) = b.iter().position(|c| *c == b';')
    {
        b = &b[..i];
    }
    if how.trim {
        while let [rest @ .., b'.' | b' '] = b {
            b = rest;
        }
    }
    seg.get(..b.len()).unwrap_or(seg)
}

/// Whether two segments' first bytes alone show them different: both plain
/// ASCII (a non-ASCII byte may fold to ASCII; '.', ' ', ';', '/' may be cut or
/// trimmed away) and unequal as the comparison folds them.
#[inline]
fn plain_first_bytes_differ(w: u8, h: u8, fold: Fold) -> bool {
    let plain = |c: u8| c.is_ascii() && !matches!(c, b'.' | b' ' | b';' | b'/');
    plain(w) && plain(h) && if fold == Fold::None { w != h } else { !w.eq_ignore_ascii_case(&h) }
}

fn same_segment(want: &str, have: &str, how: Looseness) -> bool {
    // Most segments differ in their first byte: decide those without looking further.
    if let (Some(&w), Some(&h)) = (want.as_bytes().first(), have.as_bytes().first())
        && plain_first_bytes_differ(w, h, how.fold)
    {
        return false;
    }
    let (want, have) = (core(want, how), core(have, how));
    match how.fold {
        Fold::None => want == have,
        _ if want.eq_ignore_ascii_case(have) => true,
        Fold::Ascii => false,
        Fold::Unicode if want.is_ascii() && have.is_ascii() => false,
        Fold::Unicode => {
            let mut have = have.chars();
            want.chars().all(|w| have.next().is_some_and(|h| same_char_folded(w, h))) && have.next().is_none()
        }
    }
}

fn same_char_folded(a: char, b: char) -> bool {
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let c = it.next()?;
        if it.next().is_none() { Some(c) } else { None }
    }
    let lower = |c: char| single(c.to_lowercase());
    let upper = |c: char| single(c.to_uppercase());
    a == b || (lower(a).is_some() && lower(a) == lower(b)) || (upper(a).is_some() && upper(a) == upper(b))
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

/// The ops path rules; the first match wins. Bypass rules match strictly and
/// restrictive ones loosely, as [`PathOptions`] says.
#[derive(Debug, Clone)]
pub struct PathRules {
    rules: Vec<PathRule>,
    options: PathOptions,
    bypass: Looseness,
    restrictive: Looseness,
}

impl Default for PathRules {
    fn default() -> Self {
        PathRules::new(Vec::new())
    }
}

impl PathRules {
    pub fn new(rules: Vec<PathRule>) -> Self {
        Self::with_options(rules, PathOptions::default())
    }

    pub fn with_options(rules: Vec<PathRule>, options: PathOptions) -> Self {
        PathRules { rules, options, bypass: Looseness::bypass(options), restrictive: Looseness::restrictive(options) }
    }

    pub fn first_match(&self, path: &str) -> Option<(usize, &PathRule)> {
        self.rules.iter().enumerate().find(|(_, r)| {
            let how = if r.action == PathAction::Bypass { self.bypass } else { self.restrictive };
            r.matcher.matches_as(path, how)
        })
    }

    pub fn rules(&self) -> &[PathRule] {
        &self.rules
    }

    pub fn options(&self) -> PathOptions {
        self.options
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
        for p in ["/", "/a", "/a/b/", "/files/report.pdf", "/a-b_c~d/e.f", "/x=1/z@w", "/a../.b"] {
            assert!(already_normal(p), "{p}");
            assert_eq!(normalize_path(p).as_deref(), Ok(p));
            assert_eq!(encode_path(p), p);
        }
        for p in [
            "", "a", "//", "/a//b", "/./a", "/a/.", "/a/..", "/a/../b", "/%2e", "/a b", "/a\\b", "/a?b", "/\u{e9}",
            "/x;y=1", "/a/...",
        ] {
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
