//! CSRF: a random token in a cookie that each form repeats in a hidden field,
//! plus a same-origin check of `Origin` (or `Referer`) when the browser sends one.

use pingora::prelude::*;

use crate::session::{CookieSpec, cookie_value, set_cookie};
use crate::tokens;

pub const COOKIE: &str = "gw_csrf";

/// The token for a form: the browser's existing one, or a new one to set.
pub fn token_for(req: &RequestHeader) -> (String, Option<String>) {
    let existing = cookie_value(req.headers.get_all("cookie").iter().map(|v| v.as_bytes()), COOKIE)
        .filter(|v| tokens::decode_token(v).is_some());
    match existing {
        Some(t) => (t, None),
        None => {
            let t = tokens::random_token();
            (t.clone(), Some(t))
        }
    }
}

pub fn cookie_header(token: &str, secure: bool) -> String {
    set_cookie(&CookieSpec { name: COOKIE, value: token, secure, http_only: true, max_age: None })
}

pub fn hidden_field(token: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", crate::ui::html::escape(token))
}

/// Whether a POST carries the matching token and, when the browser says where it
/// comes from, comes from this very host.
pub fn verify(req: &RequestHeader, submitted: Option<&str>) -> bool {
    let Some(cookie) = cookie_value(req.headers.get_all("cookie").iter().map(|v| v.as_bytes()), COOKIE) else {
        return false;
    };
    let Some(submitted) = submitted else { return false };
    if tokens::decode_token(&cookie).is_none() || !tokens::constant_time_eq(cookie.as_bytes(), submitted.as_bytes()) {
        return false;
    }
    same_origin(req)
}

fn same_origin(req: &RequestHeader) -> bool {
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
