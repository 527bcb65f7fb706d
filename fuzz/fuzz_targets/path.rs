//! The path normaliser and the rule matcher (`policy::normalize_path`,
//! `already_normal`, `encode_path`, `PathRules::first_match`).
//!
//! Byte 0 even: the rest is a raw request path (lossy UTF-8) and the normal
//! form's properties are checked. Byte 0 odd: the rest builds a path that is
//! known to resolve to a given target (dot segments, doubled and encoded
//! slashes, backslashes, percent-escapes, a query) and the normaliser must
//! give that target or refuse: a deny rule on the target cannot be walked around.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy::{PathAction, PathMatch, PathRule, PathRules, Role, already_normal, encode_path, normalize_path};

fn rules() -> PathRules {
    let rule = |matcher, action| PathRule { matcher, action, origin: String::new() };
    PathRules::new(vec![
        rule(PathMatch::Exact("/healthz".into()), PathAction::Bypass),
        rule(PathMatch::Prefix("/public/".into()), PathAction::Bypass),
        rule(PathMatch::Prefix("/internal".into()), PathAction::Deny),
        rule(PathMatch::Prefix("/admin".into()), PathAction::RequireRole(Role::Admin)),
        rule(PathMatch::Exact("/".into()), PathAction::Deny),
    ])
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 { normal_form(&String::from_utf8_lossy(rest)) } else { walk(rest) }
});

fn normal_form(raw: &str) {
    let rules = rules();
    if already_normal(raw) {
        assert_eq!(normalize_path(raw).as_deref(), Ok(raw), "already_normal but changed by normalisation");
        assert_eq!(encode_path(raw), raw, "already_normal but changed by encoding");
    }
    let Ok(n) = normalize_path(raw) else { return };
    assert!(n.starts_with('/'), "{raw:?} -> {n:?} is not absolute");
    assert!(!n.contains('\\'), "{raw:?} -> {n:?} holds a backslash");
    assert!(!n.chars().any(char::is_control), "{raw:?} -> {n:?} holds a control character");
    let segments: Vec<&str> = n[1..].split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        assert!(*seg != "." && *seg != "..", "{raw:?} -> {n:?} holds a dot segment");
        assert!(!seg.is_empty() || i + 1 == segments.len(), "{raw:?} -> {n:?} holds an empty segment");
    }

    // What the origin gets (the encoded normal form) normalises back to the
    // very path the rules saw, so it matches the same rule.
    let sent = encode_path(&n);
    assert_eq!(normalize_path(&sent).as_deref(), Ok(n.as_str()), "{raw:?}: the origin's path reads differently");
    assert_eq!(already_normal(&sent), sent == n);
    // A literal `;` in the normal form came from `%3B` (sent on as `%3B`), so the
    // normal form is raw text again only without `%`, `?`, `#` or `;`.
    if !n.contains(['%', '?', '#', ';']) {
        assert_eq!(normalize_path(&n).as_deref(), Ok(n.as_str()), "normalisation is not idempotent");
    }

    // The first match is never later than the first exact match (deny and role
    // rules also match the spellings an origin may fold, so they can only come
    // earlier), and a rule matched only loosely is never a bypass: a look-alike
    // path must not skip the session.
    let first = rules.first_match(&n);
    let exact = rules.rules().iter().position(|r| r.matcher.matches(&n));
    match (first, exact) {
        (None, Some(e)) => panic!("{n:?} matches rule {e} exactly but first_match found none"),
        (Some((i, _)), Some(e)) => assert!(i <= e, "{n:?}: first_match {i} after the exact match {e}"),
        _ => {}
    }
    if let Some((i, rule)) = first
        && !rule.matcher.matches(&n)
    {
        assert!(rule.action != PathAction::Bypass, "{n:?} bypasses through a loose match of rule {i}");
    }
    // A prefix rule on any ancestor directory matches, one on a longer name does not.
    for (i, _) in n.match_indices('/').skip(1) {
        let dir = &n[..i];
        assert!(PathMatch::Prefix(dir.to_owned()).matches(&n), "prefix {dir:?} does not match {n:?}");
        assert!(PathMatch::Prefix(format!("{dir}/")).matches(&n), "prefix {dir:?}/ does not match {n:?}");
        assert!(!PathMatch::Prefix(format!("{dir}x")).matches(&n) || n[i..].starts_with("x"));
    }
    assert!(PathMatch::Exact(n.clone()).matches(&n) && PathMatch::Prefix(n.clone()).matches(&n));
}

const WORDS: [&str; 8] = ["internal", "public", "admin", "healthz", "a", "b0", "x-y_z", "~u"];
const SEPARATORS: [&str; 12] =
    ["/", "//", "\\", "/./", "/%2e/", "/%2E/", "%2F", "%2f", "%5C", "/j/../", "/j/%2e%2E/", "/j/.%2e/"];
const TRAILERS: [&str; 6] = ["", "/", "/.", "/./", "/j/..", "/j/%2e%2e"];
const QUERIES: [&str; 4] = ["", "?a=/../x", "#/../y", "?%2e%2e/..#f"];

/// Builds a raw path from the input, with the target it must resolve to.
fn walk(bytes: &[u8]) {
    let mut it = bytes.iter().copied();
    let mut next = || it.next().unwrap_or(0) as usize;
    let count = next() % 6;
    let mut raw = String::new();
    let mut target = String::new();
    for i in 0..count {
        let word = WORDS[next() % WORDS.len()];
        let sep = SEPARATORS[next() % SEPARATORS.len()];
        // The very first character must be a real slash.
        raw.push_str(if i == 0 && !sep.starts_with('/') { "/" } else { sep });
        if i == 0 && next() % 3 == 0 {
            raw.push_str("../");
        }
        let escapes = next();
        for (k, c) in word.chars().enumerate() {
            match (escapes >> (k % 8)) & 1 {
                0 => raw.push(c),
                _ if k % 2 == 0 => raw.push_str(&format!("%{:02X}", c as u32)),
                _ => raw.push_str(&format!("%{:02x}", c as u32)),
            }
        }
        target.push('/');
        target.push_str(word);
    }
    let trailer = TRAILERS[next() % TRAILERS.len()];
    if count == 0 {
        raw.push('/');
        raw.push_str(trailer.trim_start_matches('/'));
        target.push('/');
    } else {
        raw.push_str(trailer);
        if !trailer.is_empty() {
            target.push('/');
        }
    }
    raw.push_str(QUERIES[next() % QUERIES.len()]);

    // Refusing is fail-closed; resolving to anything but the target is not.
    let Ok(n) = normalize_path(&raw) else { return };
    assert_eq!(n, target, "{raw:?} resolves to {n:?}, not {target:?}");
    let rules = rules();
    let want = rules.first_match(&target).map(|(i, _)| i);
    assert_eq!(rules.first_match(&n).map(|(i, _)| i), want, "{raw:?} walks around rule {want:?}");
}
