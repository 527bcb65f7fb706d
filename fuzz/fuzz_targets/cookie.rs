//! The cookie reader (`gateway::session`): `read_cookie`, `cookie_value`,
//! `without_cookies` and `without_own_cookies` on arbitrary `Cookie` headers
//! (one header per input line).
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gateway::session::{CookieFact, cookie_value, read_cookie, without_cookies, without_own_cookies};
use gateway_fuzz::{cookie_pairs, lines, split_pair};
use libfuzzer_sys::fuzz_target;

const SESSION: &str = "gw_session";
const CSRF: &str = "gw_csrf";
const OURS: [&str; 2] = [SESSION, CSRF];

/// Ours in either spelling: the plain name, or with the `__Host-` prefix used
/// when `secure_cookies` is on (the origin gets neither).
fn is_ours(name: &[u8]) -> bool {
    let bare = name.strip_prefix(b"__Host-").unwrap_or(name);
    OURS.iter().any(|n| n.as_bytes() == bare)
}

fuzz_target!(|data: &[u8]| {
    let headers = lines(data);
    let pairs = cookie_pairs(&headers);
    let named = |name: &str| -> Vec<Option<&[u8]>> {
        pairs
            .iter()
            .map(|p| split_pair(p))
            .filter(|(n, v)| *n == name.as_bytes() && v.is_some())
            .map(|(_, v)| v)
            .collect()
    };

    // The session cookie: only an exact name match counts; exactly one, in
    // canonical base64url, or it is not a session.
    let exact = named(SESSION);
    match read_cookie(headers.iter().copied(), SESSION) {
        CookieFact::Missing => assert!(exact.is_empty(), "Missing although {SESSION}= is present: {exact:?}"),
        CookieFact::Malformed => assert!(!exact.is_empty(), "Malformed without any {SESSION}= pair"),
        CookieFact::Present(id) => {
            assert_eq!(exact.len(), 1, "a session read from {} {SESSION} cookies", exact.len());
            let written = exact[0].unwrap_or_default();
            assert_eq!(URL_SAFE_NO_PAD.encode(id).as_bytes(), written, "a non-canonical value accepted as a session");
            let raw = cookie_value(headers.iter().copied(), SESSION);
            assert_eq!(raw.as_deref().map(str::as_bytes), Some(written), "the two readers disagree");
        }
    }

    // Any named cookie's raw value: only for exactly one exact match.
    let exact = named(CSRF);
    if let Some(v) = cookie_value(headers.iter().copied(), CSRF) {
        assert_eq!(exact, vec![Some(v.as_bytes())], "cookie_value returned {v:?} for {exact:?}");
    } else {
        assert!(exact.len() != 1 || std::str::from_utf8(exact[0].unwrap_or_default()).is_err());
    }

    // Removing our cookies: nothing of ours survives, not even under a name an
    // origin might read leniently (white space around it); everything else does,
    // in order.
    let out = without_cookies(headers.iter().copied(), &OURS);
    let out_pairs = cookie_pairs(&[out.as_bytes()]);
    for pair in &out_pairs {
        let name = split_pair(pair).0.trim_ascii();
        assert!(!is_ours(name), "{:?} reaches the origin", String::from_utf8_lossy(pair));
    }
    assert_eq!(read_cookie([out.as_bytes()].into_iter(), SESSION), CookieFact::Missing);
    assert_eq!(cookie_value([out.as_bytes()].into_iter(), CSRF), None);
    let kept: Vec<&[u8]> = pairs
        .iter()
        .copied()
        .filter(|p| !is_ours(split_pair(p).0.trim_ascii()))
        .filter(|p| std::str::from_utf8(p).is_ok())
        .collect();
    assert_eq!(out_pairs, kept, "origin cookies lost or reordered");

    // The proxy's entry point agrees, and leaves the header alone when none of ours is there.
    let mut map = http::HeaderMap::new();
    for h in &headers {
        let Ok(v) = http::HeaderValue::from_bytes(h) else { return };
        map.append(http::header::COOKIE, v);
    }
    match without_own_cookies(&map, &OURS) {
        Some(rebuilt) => assert_eq!(rebuilt, out),
        None => assert!(
            pairs.iter().all(|p| !is_ours(split_pair(p).0.trim_ascii())),
            "a cookie of ours left in place"
        ),
    }
});
