//! The route table walked against a real `App` on SQLite, with no proxy: every
//! POST refuses a forged form before its handler, every guard turns away who it
//! should, 404 and 405 come from the table.

use std::collections::BTreeSet;

use super::ROUTES;
use crate::auth::testing::{call, location, request, token, world};
use crate::tokens;
use crate::web::{Body, Guard, Method, Permission, csrf};

#[test]
fn each_method_and_path_once() {
    let pairs: BTreeSet<_> = ROUTES.iter().map(|r| (r.path, r.method == Method::Post)).collect();
    assert_eq!(pairs.len(), ROUTES.len());
}

/// Settings and admin pages are behind the settings guard with the permission
/// of SPEC section 6's table; nothing under them is open to anyone.
#[test]
fn settings_and_admin_pages_are_guarded() {
    for r in ROUTES {
        if r.path.starts_with("/auth/admin/") || r.path == "/auth/settings/lines" {
            assert_eq!(r.guard, Guard::Settings(Permission::Administer), "{}", r.path);
        } else if r.path.starts_with("/auth/settings") && r.path != "/auth/settings/login" {
            assert!(matches!(r.guard, Guard::Settings(_)), "{}", r.path);
        } else if r.path.starts_with("/auth/2fa") || r.path == "/auth/recovery-code" {
            assert_eq!(r.guard, Guard::SecondStep, "{}", r.path);
        }
    }
}

#[tokio::test]
async fn every_post_route_refuses_a_forged_form_before_its_handler() {
    let w = world().await;
    let other = tokens::random_token();
    for r in ROUTES.iter().filter(|r| r.method == Method::Post) {
        for forged in [None, Some(token(&other)), Some("x".to_owned())] {
            let reply = call(&w, request(Method::Post, r.path, Some(&w.owner), forged.as_deref())).await;
            assert_eq!(reply.status, 403, "{} with {forged:?}", r.path);
            assert!(reply.body_text().contains("The form has expired"), "{}: {}", r.path, reply.body_text());
        }
    }
}

#[tokio::test]
async fn every_guarded_route_turns_away_a_visitor_without_a_session() {
    let w = world().await;
    let stranger = tokens::random_token();
    for r in ROUTES.iter().filter(|r| r.guard != Guard::Anyone) {
        // A POST with a token good for the stranger's own (pre-session) cookie:
        // the guard, not the CSRF check, must be what refuses it.
        let reply = match r.method {
            Method::Get => call(&w, request(Method::Get, r.path, None, None)).await,
            Method::Post => {
                let mut req = request(Method::Post, r.path, None, None);
                req.headers.insert("cookie", format!("gw_csrf={stranger}").parse().unwrap());
                let t = csrf::token_for(&req, "gw_session").0;
                req.body = Body::Read(format!("csrf={t}").into_bytes());
                call(&w, req).await
            }
        };
        assert_eq!(reply.status, 303, "{} {:?}", r.path, r.method);
        assert!(location(&reply).starts_with("/auth/login?rd="), "{}: {}", r.path, location(&reply));
    }
}

#[tokio::test]
async fn settings_routes_ask_for_the_password_again_when_it_is_stale() {
    let w = world().await;
    for r in ROUTES.iter().filter(|r| matches!(r.guard, Guard::Settings(_))) {
        let t = token(&w.owner_stale);
        let reply = call(&w, request(r.method, r.path, Some(&w.owner_stale), Some(&t))).await;
        assert_eq!(reply.status, 303, "{}", r.path);
        assert!(location(&reply).starts_with("/auth/settings/login?rd="), "{}: {}", r.path, location(&reply));
    }
}

#[tokio::test]
async fn a_plain_user_is_refused_every_route_their_role_lacks() {
    let w = world().await;
    for r in ROUTES.iter() {
        let Guard::Settings(p) = r.guard else { continue };
        let t = token(&w.user);
        let reply = call(&w, request(r.method, r.path, Some(&w.user), Some(&t))).await;
        match p {
            Permission::Menu | Permission::OwnDevices | Permission::OwnSecondFactor | Permission::ChangePassword => {
                assert_ne!(reply.status, 403, "{} should be open to a user", r.path)
            }
            _ => assert_eq!(reply.status, 403, "{} must be refused to a user", r.path),
        }
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_come_from_the_table() {
    let w = world().await;
    let reply = call(&w, request(Method::Get, "/auth/nowhere", None, None)).await;
    assert_eq!(reply.status, 404);
    let paths: BTreeSet<_> = ROUTES.iter().map(|r| r.path).collect();
    for path in paths {
        for method in [Method::Get, Method::Post] {
            if ROUTES.iter().any(|r| r.path == path && r.method == method) {
                continue;
            }
            let reply = call(&w, request(method, path, Some(&w.owner), None)).await;
            assert_eq!(reply.status, 405, "{path} {method:?}");
        }
        // `Allow` names exactly the methods the table has for the path.
        let mut expected = Vec::new();
        if ROUTES.iter().any(|r| r.path == path && r.method == Method::Get) {
            expected.extend(["GET", "HEAD"]);
        }
        if ROUTES.iter().any(|r| r.path == path && r.method == Method::Post) {
            expected.push("POST");
        }
        let mut put = request(Method::Get, path, Some(&w.owner), None);
        put.method = http::Method::PUT;
        let reply = call(&w, put).await;
        assert_eq!(reply.status, 405, "{path} PUT");
        assert_eq!(reply.header_value("allow"), Some(expected.join(", ").as_str()), "{path}");
    }
}
