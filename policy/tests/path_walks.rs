//! SPEC section 11: path rules cannot be walked around with segment
//! parameters, dot-segments hidden behind them, case, or trailing dots and
//! spaces (what Tomcat/Spring, Windows and case-folding origins make of them).

mod common;

use policy::{
    HostKind, LineFact, Origin, PathFact, PathOptions, PathRules, PolicySnapshot, Request, SessionFact, decide,
    normalize_path,
};

fn outcome(snap: &PolicySnapshot, raw: &str) -> &'static str {
    let norm = normalize_path(raw);
    let path = match &norm {
        Ok(p) => PathFact::Normalised(p.as_str()),
        Err(_) => PathFact::Malformed,
    };
    let req = Request {
        host: Some(HostKind::Ordinary),
        client_ip: None,
        line: LineFact::Absent,
        path,
        session: SessionFact::Missing,
    };
    decide(snap, &req).outcome.label()
}

fn with_options(options: PathOptions) -> PolicySnapshot {
    let rules = PathRules::with_options(common::rules().rules().to_vec(), options);
    PolicySnapshot::new(rules, [])
}

/// Each walk-around of the demo rules (bypass /public, deny /internal) and what
/// the default options make of it: never "bypass", never a "login" that would
/// let a signed-in user through to /internal.
const WALKS: &[(&str, &str)] = &[
    ("/public/..;/internal", "bad_request"),
    ("/public/%2e%2e;/internal", "bad_request"),
    ("/public/%2E%2E;x=1/internal", "bad_request"),
    ("/public/.;/../internal", "bad_request"),
    ("/public/..;x/..;y/internal", "bad_request"),
    ("/public/..%3B/internal", "bad_request"),
    ("/public/.../internal", "bad_request"),
    ("/public/..%20/internal", "bad_request"),
    ("/public/.%20./internal", "bad_request"),
    ("/internal;x=1", "deny_path"),
    ("/internal;x=1/y", "deny_path"),
    ("/internal%3Bx", "deny_path"),
    ("/Internal", "deny_path"),
    ("/INTERNAL/x", "deny_path"),
    ("/iNtErNaL/", "deny_path"),
    ("/internal.", "deny_path"),
    ("/internal..", "deny_path"),
    ("/internal%20", "deny_path"),
    ("/internal.%20.", "deny_path"),
    ("/internal./x", "deny_path"),
    ("/Internal.%20/x", "deny_path"),
    ("/a/../Internal;p/x", "deny_path"),
    // Java's equalsIgnoreCase takes the dotless ı for i.
    ("/%C4%B1nternal", "deny_path"),
    // Role rules are restrictive too: they match loosely.
    ("/ADMIN/users", "login"),
    ("/admin./users", "login"),
    // Bypass rules match strictly: a look-alike of /public needs a session.
    ("/PUBLIC/x.css", "login"),
    ("/public./x.css", "login"),
    ("/public%3Bx/x.css", "login"),
];

#[test]
fn walk_arounds_are_refused_by_default() {
    let snap = with_options(PathOptions::default());
    for (raw, want) in WALKS {
        assert_eq!(outcome(&snap, raw), *want, "{raw}");
    }
}

#[test]
fn legitimate_paths_keep_their_meaning() {
    let snap = with_options(PathOptions::default());
    for (raw, want) in [
        ("/public/a.css", "bypass"),
        ("/public/", "bypass"),
        ("/public/a;v=2", "bypass"),
        ("/public/../files/x", "login"),
        ("/files/report.pdf", "login"),
        ("/files/a.b/c", "login"),
        ("/files/.hidden", "login"),
        ("/internals", "login"),
        ("/internal-docs", "login"),
        ("/healthz", "bypass"),
        ("/app/;jsessionid=abc", "login"),
    ] {
        assert_eq!(outcome(&snap, raw), want, "{raw}");
    }
}

#[test]
fn segment_parameters_are_removed_from_what_the_origin_gets() {
    assert_eq!(normalize_path("/internal;x=1").as_deref(), Ok("/internal"));
    assert_eq!(normalize_path("/a;x/b;y=1;z/c").as_deref(), Ok("/a/b/c"));
    assert_eq!(normalize_path("/app/;jsessionid=abc").as_deref(), Ok("/app/"));
    // A parameter ends at the next raw separator, never at an encoded one.
    assert_eq!(normalize_path("/public;%2F..%2F/internal").as_deref(), Ok("/public/internal"));
    // An encoded ';' is part of the name, and goes to the origin encoded.
    assert_eq!(normalize_path("/a%3Bb").as_deref(), Ok("/a;b"));
    assert_eq!(policy::encode_path("/a;b"), "/a%3Bb");
}

#[test]
fn an_origin_declared_exact_gets_exact_restrictive_rules() {
    let exact = PathOptions { folds_case: Origin::No, ignores_trailing_dots_and_spaces: Origin::No };
    let snap = with_options(exact);
    assert_eq!(outcome(&snap, "/Internal"), "login");
    assert_eq!(outcome(&snap, "/internal."), "login");
    // Parameters and dot-segments behind them stay closed whatever the origin.
    assert_eq!(outcome(&snap, "/internal;x"), "deny_path");
    assert_eq!(outcome(&snap, "/public/..;/internal"), "bad_request");
}

#[test]
fn an_origin_declared_loose_gets_loose_bypass_rules() {
    let loose = PathOptions { folds_case: Origin::Yes, ignores_trailing_dots_and_spaces: Origin::Yes };
    let snap = with_options(loose);
    assert_eq!(outcome(&snap, "/PUBLIC/x.css"), "bypass");
    assert_eq!(outcome(&snap, "/public./x.css"), "bypass");
    // Bypass folds ASCII only: an origin that folds case may still tell ı from i.
    assert_eq!(outcome(&snap, "/publ%C4%B1c/x.css"), "login");
    assert_eq!(outcome(&snap, "/Internal"), "deny_path");
    assert_eq!(outcome(&snap, "/internal%20"), "deny_path");
}
