//! A route: method, path, guard, handler. The table itself is the pages'
//! (`auth::routes::ROUTES`); this module only knows its shape, so the web layer
//! depends on no page.

use std::future::Future;
use std::pin::Pin;

use super::{Outcome, Visit};

pub type Fut<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// A handler with its guard already wrapped around it (see the macros in
/// `auth::routes`): it cannot be reached without passing the guard.
pub type Handler = for<'a> fn(&'a Visit<'a>) -> Fut<'a>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET, and HEAD with the body left off.
    Get,
    /// POST, whose form and CSRF token the dispatcher checks first.
    Post,
}

/// Who may enter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    Anyone,
    /// Between the password and the second factor: a session on the ordinary
    /// hostname that still lacks its factor.
    SecondStep,
    /// Signed in and allowed here, before re-authenticating: the
    /// re-authentication page itself.
    SignedIn,
    /// Signed in, allowed here by policy, re-authenticated within the last
    /// minutes, and holding the permission (SPEC section 6's table).
    Settings(Permission),
}

/// The lines of SPEC section 6's table that pages check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Anyone who passed the settings gate (the menu; break-glass included).
    Menu,
    /// The user's own remembered browsers (not under break-glass).
    OwnDevices,
    /// The user's own registered phone and authenticator app, after a current
    /// factor (not under break-glass; password users only).
    OwnSecondFactor,
    ChangePassword,
    ChangeEmail,
    SetRoute,
    SetTwoFactor,
    /// Lines, networks, users and the audit log: an admin or the owner.
    Administer,
    /// The tenant's directory connection: the owner, on both plans.
    Directory,
    /// The owner's own login method: basic plan only.
    LoginMethod,
}

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub guard: Guard,
    pub handler: Handler,
}

impl Method {
    pub fn admits(self, m: &http::Method) -> bool {
        match self {
            Method::Get => m == http::Method::GET || m == http::Method::HEAD,
            Method::Post => m == http::Method::POST,
        }
    }
}

/// The route for this method and path; `Err(true)` when the path exists with
/// other methods only (405), `Err(false)` when it does not exist (404).
pub fn find<'t>(table: &'t [Route], method: &http::Method, path: &str) -> Result<&'t Route, bool> {
    let mut known = false;
    for r in table.iter().filter(|r| matches(r.path, path)) {
        if r.method.admits(method) {
            return Ok(r);
        }
        known = true;
    }
    Err(known)
}

/// The `Allow` header of a 405 for `path`: the methods its routes take.
pub fn allowed(table: &[Route], path: &str) -> String {
    let mut methods: Vec<&str> = Vec::new();
    for r in table.iter().filter(|r| matches(r.path, path)) {
        let names: &[&str] = match r.method {
            Method::Get => &["GET", "HEAD"],
            Method::Post => &["POST"],
        };
        for n in names {
            if !methods.contains(n) {
                methods.push(n);
            }
        }
    }
    methods.join(", ")
}

/// A route path ending in `/*` stands for one more non-empty segment (a
/// provider id, a connection id), which the handler reads with [`segment`].
fn matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty() && !rest.contains('/')),
        None => pattern == path,
    }
}

/// The segment a `/*` route matched: the path's last segment.
pub fn segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

#[cfg(test)]
mod pattern_tests {
    use super::matches;

    #[test]
    fn a_star_is_one_segment() {
        assert!(matches("/auth/oidc/*", "/auth/oidc/google"));
        assert!(!matches("/auth/oidc/*", "/auth/oidc/"));
        assert!(!matches("/auth/oidc/*", "/auth/oidc/a/b"));
        assert!(!matches("/auth/oidc/*", "/auth/oidcx"));
        assert!(matches("/auth/login", "/auth/login"));
        assert!(!matches("/auth/login", "/auth/login/x"));
    }
}
