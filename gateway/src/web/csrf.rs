//! CSRF: each form carries a token bound to the browser's session, plus a
//! same-origin check of `Origin` (or `Referer`) when the browser sends one.
//!
//! The token is SHA-256 over a label and the session id from the session cookie;
//! before sign-in, over the value of `gw_csrf`, a random pre-session cookie of
//! its own (host-only, `__Host-` with TLS). Only someone who holds the browser's
//! cookie can compute it, so a token copied from another session, or a cookie
//! and field pair planted by someone else, is refused. Nothing is stored, and
//! every gateway instance computes the same token.

use super::Request;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::session::{CookieFact, CookieSpec, cookie_value, read_cookie, set_cookie};
use crate::tokens;

pub const COOKIE: &str = "gw_csrf";

/// Keeps the token distinct from every other hash of the same id (the session
/// table stores plain SHA-256 of the id).
const LABEL: &[u8] = b"gateway form token v1\0";

fn cookies(req: &Request) -> impl Iterator<Item = &[u8]> {
    req.cookie_headers()
}

/// The secret a token is bound to: the session id when the browser presents a
/// well-formed session cookie, else its pre-session cookie.
fn binding(req: &Request, session_cookie: &str) -> Option<[u8; 32]> {
    if let CookieFact::Present(id) = read_cookie(cookies(req), session_cookie) {
        return Some(id);
    }
    cookie_value(cookies(req), COOKIE).and_then(|v| tokens::decode_token(&v))
}

fn bound_token(binding: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(LABEL);
    h.update(binding);
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// The token for a form, and a new pre-session cookie value to set when the
/// browser has neither a session nor one already.
pub fn token_for(req: &Request, session_cookie: &str) -> (String, Option<String>) {
    if let Some(b) = binding(req, session_cookie) {
        return (bound_token(&b), None);
    }
    let fresh = tokens::random_token();
    match tokens::decode_token(&fresh) {
        Some(b) => (bound_token(&b), Some(fresh)),
        // Unreachable (a fresh token always decodes); an empty token never verifies.
        None => (String::new(), None),
    }
}

pub fn cookie_header(token: &str, secure: bool) -> String {
    set_cookie(&CookieSpec { name: COOKIE, value: token, secure, http_only: true, max_age: None })
}

/// Whether a POST carries the token of the browser's own session (or pre-session
/// cookie) and, when the browser says where it comes from, comes from this very host.
pub fn verify(req: &Request, submitted: Option<&str>, session_cookie: &str) -> bool {
    let Some(binding) = binding(req, session_cookie) else { return false };
    let Some(submitted) = submitted else { return false };
    if !tokens::constant_time_eq(bound_token(&binding).as_bytes(), submitted.as_bytes()) {
        return false;
    }
    same_origin(req)
}

fn same_origin(req: &Request) -> bool {
    let host = req
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| req.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned));
    let Some(host) = host else { return false };
    let source = req
        .headers
        .get(http::header::ORIGIN)
        .or_else(|| req.headers.get(http::header::REFERER))
        .and_then(|v| v.to_str().ok());
    match source {
        None => true,
        Some(s) => {
            let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
            match rest {
                Some(rest) => {
                    let authority = rest.split('/').next().unwrap_or("");
                    authority.eq_ignore_ascii_case(&host)
                }
                None => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(cookie: &str) -> Request {
        let mut headers = http::HeaderMap::new();
        headers.insert("host", http::HeaderValue::from_static("storage.localhost"));
        if !cookie.is_empty() {
            headers.insert("cookie", http::HeaderValue::from_str(cookie).unwrap());
        }
        Request::new(http::Method::POST, http::Uri::from_static("/auth/logout"), headers)
    }

    #[test]
    fn tokens_are_bound_to_the_session_or_the_pre_session_cookie() {
        let (a, b, pre) = (tokens::random_token(), tokens::random_token(), tokens::random_token());
        let session_a = post(&format!("gw_session={a}; gw_csrf={pre}"));
        let (token_a, fresh) = token_for(&session_a, "gw_session");
        assert!(fresh.is_none());
        assert!(verify(&session_a, Some(&token_a), "gw_session"));
        // Session B with A's pre-session cookie and A's token: refused.
        let session_b = post(&format!("gw_session={b}; gw_csrf={pre}"));
        assert!(!verify(&session_b, Some(&token_a), "gw_session"));
        // The old double-submit pair (cookie value as the field) is no token.
        assert!(!verify(&session_b, Some(&pre), "gw_session"));
        assert!(!verify(&post(&format!("gw_csrf={pre}")), Some(&pre), "gw_session"));
        // Before sign-in: bound to the pre-session cookie, which is minted when missing.
        let (t, fresh) = token_for(&post(""), "gw_session");
        let fresh = fresh.unwrap();
        assert!(verify(&post(&format!("gw_csrf={fresh}")), Some(&t), "gw_session"));
        assert!(!verify(&post(""), Some(&t), "gw_session"));
        assert!(!verify(&post(&format!("gw_csrf={fresh}")), None, "gw_session"));
    }
}
