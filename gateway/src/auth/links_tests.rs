//! The mailed links' pages through `web::handle`, without a proxy.

use crate::auth::testing::{World, call, post, request, world};
use crate::store::{LinkPurpose, NewLink, now};
use crate::tokens;
use crate::web::{Method, Request};

/// A live ticket of `purpose` for the world's user.
async fn ticket(w: &World, purpose: LinkPurpose) -> String {
    let user = w.app.store.user_by_email("user@acme.example").await.unwrap().unwrap();
    let ticket = tokens::random_token();
    let hash = tokens::hash_token(&ticket).unwrap();
    let link = NewLink { token_hash: &hash, purpose, user_id: user.id, payload: None, expires_at: now() + 600 };
    w.app.store.create_link(link).await.unwrap();
    ticket
}

/// A form posted before sign-in: the token is bound to a pre-session cookie.
fn anonymous_post(path: &str, fields: &[(&str, &str)]) -> Request {
    post(path, None, fields)
}

#[tokio::test]
async fn a_dead_link_is_one_page_whatever_the_reason() {
    let w = world().await;
    let used = ticket(&w, LinkPurpose::Unlock).await;
    let r = call(&w, request(Method::Get, &format!("/auth/unlock?ticket={used}"), None, None)).await;
    assert_eq!(r.status, 200);
    assert!(r.body_text().contains("Your account is unlocked"));
    for path in [
        format!("/auth/unlock?ticket={used}"),
        "/auth/unlock?ticket=made-up".to_owned(),
        "/auth/unlock".to_owned(),
        "/auth/password/reset?ticket=made-up".to_owned(),
        // A ticket opens only the flow it was made for.
        format!("/auth/password/reset?ticket={}", ticket(&w, LinkPurpose::Unlock).await),
    ] {
        let r = call(&w, request(Method::Get, &path, None, None)).await;
        assert_eq!(r.status, 410, "{path}");
        assert!(r.body_text().contains("This link can no longer be used"), "{path}");
    }
}

#[tokio::test]
async fn the_reset_form_puts_each_error_next_to_its_field() {
    let w = world().await;
    let t = ticket(&w, LinkPurpose::Reset).await;
    let path = format!("/auth/password/reset?ticket={t}");
    let r = call(&w, request(Method::Get, &path, None, None)).await;
    assert_eq!(r.status, 200);
    assert!(r.body_text().contains("id=\"password-hint\""), "the rule under the field");
    let r =
        call(&w, anonymous_post(&path, &[("password", "Correct-Horse1"), ("password_confirm", "Other-Horse1")])).await;
    assert_eq!(r.status, 400);
    assert!(r.body_text().contains("id=\"password_confirm-error\" class=\"field-error\""), "{}", r.body_text());
    let r = call(&w, anonymous_post(&path, &[("password", "Correct-Horse1"), ("password_confirm", "Correct-Horse1")]))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body_text().contains("Your new password is set"));
    let r = call(&w, anonymous_post(&path, &[("password", "Correct-Horse1"), ("password_confirm", "Correct-Horse1")]))
        .await;
    assert_eq!(r.status, 410, "the link worked once");
}

#[tokio::test]
async fn forgot_answers_alike_for_every_well_formed_address() {
    let w = world().await;
    let r = call(&w, anonymous_post("/auth/password/forgot", &[("email", "not an address")])).await;
    assert_eq!(r.status, 400);
    assert!(r.body_text().contains("id=\"email-error\""), "{}", r.body_text());
    assert!(r.body_text().contains("value=\"not an address\""), "what was typed stays");
    let known = call(&w, anonymous_post("/auth/password/forgot", &[("email", "user@acme.example")])).await;
    let unknown = call(&w, anonymous_post("/auth/password/forgot", &[("email", "nobody@acme.example")])).await;
    assert_eq!((known.status, unknown.status), (200, 200));
    let same = known.body_text().replace("user@acme.example", "X");
    assert_eq!(same, unknown.body_text().replace("nobody@acme.example", "X"));
}
