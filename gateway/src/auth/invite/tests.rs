//! The invitation link's pages through `web::handle`, without a proxy: the
//! address shown, the confirmation screen, and the one-post interface.

use policy::Role;

use crate::auth::testing::{World, call, request, world};
use crate::store::{LinkPurpose, NewUser, now};
use crate::web::{Body, Method, Request};

const INVITEE: &str = "newbie@acme.example";
const PASSWORD: &str = "Invitee-pass9";

/// An invitee of acme with a live link; returns the link's path.
async fn invited(w: &World, email: &str) -> String {
    let store = &w.app.store;
    let id =
        store.create_user(NewUser { tenant_id: w.tenant, email, role: Role::User, password_hash: None }).await.unwrap();
    store.record_invitation(w.tenant, email, Role::User, now() + 600).await.unwrap();
    let validity = std::time::Duration::from_secs(600);
    let ticket = crate::accounts::mailed_link::new_link(store, validity, id, LinkPurpose::Invite, None).await.unwrap();
    format!("/auth/invite?ticket={ticket}")
}

/// A browser without a session: the pre-session CSRF cookie and its token.
fn stranger() -> (String, String) {
    let (token, fresh) = crate::web::csrf::token_for(&request(Method::Get, "/", None, None), "gw_session");
    (token, fresh.expect("a new pre-session cookie"))
}

fn form_post(path: &str, (token, cookie): &(String, String), fields: &[(&str, &str)]) -> Request {
    let mut req = request(Method::Post, path, None, None);
    let cookie = format!("{}={cookie}", crate::web::csrf::COOKIE);
    req.headers.insert("cookie", http::HeaderValue::from_str(&cookie).unwrap());
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.append_pair("csrf", token);
    body.extend_pairs(fields);
    req.body = Body::Read(body.finish().into_bytes());
    req
}

async fn registered(w: &World, email: &str) -> bool {
    w.app.store.user_by_email(email).await.unwrap().is_some_and(|u| u.password_hash.is_some())
}

#[tokio::test]
async fn the_page_shows_the_address_and_asks_to_confirm_before_registering() {
    let w = world().await;
    let link = invited(&w, INVITEE).await;
    let page = call(&w, request(Method::Get, &link, None, None)).await;
    assert_eq!(page.status, 200);
    let body = page.body_text();
    assert!(body.contains(&format!("<dd id=\"invitee\">{INVITEE}</dd>")), "the address being registered: {body}");
    assert!(body.contains("name=\"step\" value=\"review\""));
    let me = stranger();

    // The password: a mismatch is explained next to its field, nothing done.
    let r =
        call(&w, form_post(&link, &me, &[("step", "review"), ("password", PASSWORD), ("password_confirm", "x")])).await;
    assert_eq!(r.status, 400);
    assert!(r.body_text().contains("id=\"password_confirm-error\""));

    // The confirmation screen shows the address; nothing is registered yet.
    let fields = [("step", "review"), ("password", PASSWORD), ("password_confirm", PASSWORD)];
    let r = call(&w, form_post(&link, &me, &fields)).await;
    assert_eq!(r.status, 200);
    let body = r.body_text();
    assert!(body.contains(&format!("<dd id=\"invitee\">{INVITEE}</dd>")) && body.contains("value=\"confirm\""));
    assert!(!body.contains(PASSWORD), "the password is not carried in the page");
    assert!(!registered(&w, INVITEE).await, "not before the confirmation");

    // The confirmation names what was staged; without that it registers nothing.
    let staged = body.split("name=\"staged\" value=\"").nth(1).and_then(|t| t.split('"').next()).unwrap().to_owned();
    let r = call(&w, form_post(&link, &me, &[("step", "confirm")])).await;
    assert_eq!(r.status, 400, "a confirmation that names no staged password");
    assert!(!registered(&w, INVITEE).await);

    // Confirmed: registered with the password chosen before, and done.
    let r = call(&w, form_post(&link, &me, &[("step", "confirm"), ("staged", &staged)])).await;
    assert_eq!(r.status, 200);
    assert!(r.body_text().contains("href=\"/auth/login\"") && r.body_text().contains(INVITEE));
    let user = w.app.store.user_by_email(INVITEE).await.unwrap().unwrap();
    let ok = w.app.hasher.verify(user.password_hash, PASSWORD.to_owned()).await.unwrap();
    assert!(ok, "the password chosen before the confirmation");
    assert!(w.app.store.invitation(w.tenant, INVITEE).await.unwrap().is_none());
    assert_eq!(call(&w, request(Method::Get, &link, None, None)).await.status, 410, "used up");
    let r = call(&w, form_post(&link, &me, &[("step", "confirm"), ("staged", &staged)])).await;
    assert_eq!(r.status, 410, "and cannot be confirmed twice");
}

#[tokio::test]
async fn a_confirmation_without_a_chosen_password_keeps_the_link() {
    let w = world().await;
    let link = invited(&w, INVITEE).await;
    let me = stranger();
    let r = call(&w, form_post(&link, &me, &[("step", "confirm")])).await;
    assert_eq!(r.status, 400);
    assert!(r.body_text().contains("id=\"password-error\""));
    assert_eq!(call(&w, request(Method::Get, &link, None, None)).await.status, 200, "still live");
}

#[tokio::test]
async fn one_post_without_a_step_registers_at_once() {
    let w = world().await;
    let link = invited(&w, INVITEE).await;
    let r = call(&w, form_post(&link, &stranger(), &[("password", PASSWORD), ("password_confirm", PASSWORD)])).await;
    assert_eq!(r.status, 200, "SPEC section 8: password and password_confirm register");
    assert!(registered(&w, INVITEE).await);
    let events = w.app.store.audit_entries(w.tenant, 0, 100).await.unwrap();
    let accepted: Vec<_> = events.iter().filter(|e| e.event == "invitation_accepted").collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].actor.as_deref(), Some(INVITEE));
}

#[tokio::test]
async fn a_withdrawn_invitation_link_is_dead_on_every_step() {
    let w = world().await;
    let link = invited(&w, INVITEE).await;
    let me = stranger();
    let fields = [("step", "review"), ("password", PASSWORD), ("password_confirm", PASSWORD)];
    assert_eq!(call(&w, form_post(&link, &me, &fields)).await.status, 200);
    assert!(w.app.store.withdraw_invitation(w.tenant, INVITEE).await.unwrap());
    assert_eq!(call(&w, request(Method::Get, &link, None, None)).await.status, 410);
    assert_eq!(call(&w, form_post(&link, &me, &[("step", "confirm")])).await.status, 410);
    let one_post = [("password", PASSWORD), ("password_confirm", PASSWORD)];
    assert_eq!(call(&w, form_post(&link, &me, &one_post)).await.status, 410);
    assert!(!registered(&w, INVITEE).await);
}

/// A review keeps the link alive, so reviews are counted: one invitee's link
/// cannot keep the password hashers busy.
#[tokio::test]
async fn reviews_of_one_link_are_limited() {
    let w = world().await;
    let link = invited(&w, INVITEE).await;
    let me = stranger();
    let mut refused = 0;
    for _ in 0..12 {
        let r = call(
            &w,
            form_post(&link, &me, &[("step", "review"), ("password", PASSWORD), ("password_confirm", PASSWORD)]),
        )
        .await;
        if r.status == 429 {
            refused += 1;
        } else {
            assert_eq!(r.status, 200, "{}", r.body_text());
        }
    }
    assert!(refused >= 2, "ten reviews a minute per invitee, then 429: {refused} refused");
}
