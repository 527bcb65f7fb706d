//! The sign-in page through `web::handle`, without a proxy.

use crate::auth::REFUSED_EN;
use crate::auth::testing::{World, call, location, request, session_set, world};
use crate::tokens;
use crate::web::{Body, Method, Request, csrf};

const PASSWORD: &str = "Correct-Horse1";

/// A sign-in form sent from a browser holding the pre-session cookie `pre`.
fn sign_in(pre: &str, email: &str, password: &str, rd: &str) -> Request {
    let mut req = request(Method::Post, "/auth/login", None, None);
    req.headers.insert("cookie", format!("gw_csrf={pre}").parse().unwrap());
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.append_pair("csrf", &csrf::token_for(&req, "gw_session").0);
    body.append_pair("email", email);
    body.append_pair("password", password);
    body.append_pair("rd", rd);
    req.body = Body::Read(body.finish().into_bytes());
    req
}

async fn with_password(w: &World) {
    let user = w.app.store.user_by_email("user@acme.example").await.unwrap().unwrap();
    let hash = w.app.hasher.hash(PASSWORD.to_owned()).await.unwrap();
    w.app.store.set_password_hash(user.id, &hash).await.unwrap();
}

#[tokio::test]
async fn unknown_email_wrong_password_and_locked_account_get_the_same_bytes() {
    let w = world().await;
    with_password(&w).await;
    let pre = tokens::random_token();
    let unknown = call(&w, sign_in(&pre, "nobody@acme.example", PASSWORD, "/files")).await;
    let wrong = call(&w, sign_in(&pre, "user@acme.example", "Wrong-pass1", "/files")).await;
    let user = w.app.store.user_by_email("user@acme.example").await.unwrap().unwrap();
    w.app.store.lock_user(user.id).await.unwrap();
    let locked = call(&w, sign_in(&pre, "user@acme.example", PASSWORD, "/files")).await;
    for r in [&unknown, &wrong, &locked] {
        assert_eq!(r.status, 401);
        assert!(r.body_text().contains(REFUSED_EN));
    }
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(wrong.body, locked.body);
}

#[tokio::test]
async fn a_right_password_starts_a_session_and_goes_back_on_this_host_only() {
    let w = world().await;
    with_password(&w).await;
    let pre = tokens::random_token();
    let r = call(&w, sign_in(&pre, "user@acme.example", PASSWORD, "/files/a.txt?x=1")).await;
    assert_eq!((r.status, location(&r)), (303, "/files/a.txt?x=1"));
    assert!(session_set(&r).is_some());
    let r = call(&w, sign_in(&pre, "user@acme.example", PASSWORD, "//evil.example/")).await;
    assert_eq!((r.status, location(&r)), (303, "/"));
}
