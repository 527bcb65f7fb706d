//! Every path of the auth UI and the methods it answers. `handle` answers 404
//! and 405 from this table and checks every POST's form and CSRF token before
//! any handler runs, so a new POST route cannot forget the check. A test below
//! holds the table and `handle`'s dispatch to the same paths.

pub struct Route {
    pub path: &'static str,
    pub get: bool,
    pub post: bool,
}

const fn route(path: &'static str, get: bool, post: bool) -> Route {
    Route { path, get, post }
}

pub const ROUTES: &[Route] = &[
    route("/auth/login", true, true),
    route("/auth/logout", false, true),
    route("/auth/2fa", true, false),
    route("/auth/2fa/sms", false, true),
    route("/auth/2fa/totp", true, true),
    route("/auth/2fa/recovery", true, true),
    route("/auth/recovery-code", true, true),
    route("/auth/devices", true, true),
    route("/auth/line-consent", false, true),
    route("/auth/invite", true, true),
    route("/auth/unlock", true, false),
    route("/auth/password/forgot", true, true),
    route("/auth/password/reset", true, true),
    route("/auth/password/change", true, true),
    route("/auth/email/change", true, true),
    route("/auth/email/confirm", true, true),
    route("/auth/settings", true, false),
    route("/auth/settings/login", true, true),
    route("/auth/settings/route", true, true),
    route("/auth/settings/2fa", true, true),
    route("/auth/settings/lines", true, true),
    route("/auth/admin/users", true, true),
    route("/auth/admin/users/action", false, true),
    route("/auth/admin/audit", true, false),
];

pub fn find(path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.path == path)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::ROUTES;

    /// The dispatch `match` in `auth/mod.rs`, read from its source: every arm
    /// `"/auth/…" if get|post =>` must be in the table with that method, and
    /// every method in the table must have an arm, so the CSRF check and the
    /// 404/405 answers cover exactly the routes that exist.
    #[test]
    fn table_matches_dispatch() {
        let source = include_str!("mod.rs");
        let mut dispatched = BTreeSet::new();
        for line in source.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix('"') else { continue };
            let Some((path, tail)) = rest.split_once('"') else { continue };
            if !path.starts_with("/auth/") {
                continue;
            }
            let tail = tail.trim_start();
            if let Some(m) = tail.strip_prefix("if ").and_then(|t| t.split_whitespace().next()) {
                dispatched.insert((path.to_owned(), m.to_owned()));
            }
        }
        let mut table = BTreeSet::new();
        for r in ROUTES {
            if r.get {
                table.insert((r.path.to_owned(), "get".to_owned()));
            }
            if r.post {
                table.insert((r.path.to_owned(), "post".to_owned()));
            }
        }
        assert!(dispatched.len() > 20, "the dispatch arms were not found in mod.rs: {dispatched:?}");
        assert_eq!(dispatched, table, "auth::routes::ROUTES and the dispatch in auth/mod.rs disagree");
    }

    #[test]
    fn paths_are_unique() {
        let paths: BTreeSet<_> = ROUTES.iter().map(|r| r.path).collect();
        assert_eq!(paths.len(), ROUTES.len());
    }
}
