//! Login-method changes through `web::handle`: the owner's own setting, the
//! emailed link's page, the admin console's link, the invitation's choices,
//! and the rule that a login-method change and an email change never run
//! at once. The providers here cannot be reached (nothing listens on their
//! issuer), so a start shows as the provider-unavailable page and its audit
//! line: the flow went to the provider chosen, and nobody was signed in.

use policy::{Factor, Role};

use crate::accounts::{Actor, DirectoryForm};
use crate::auth::testing::{World, call, location, post, request, world_with};
use crate::store::{FederatedIdentity, LinkPurpose, NewUser, Plan, now};
use crate::ui::lang::Lang;
use crate::web::Method;

const PROVIDERS: &str = "login:\n  providers:\n    - id: google\n      kind: oidc\n      issuer: \"http://127.0.0.1:9\"\n      client_id: gw\n      label: { en: \"Google\", ja: \"Google\" }\n    - id: carrier\n      kind: oidc\n      issuer: \"http://127.0.0.1:9/carrier\"\n      client_id: gw\n      label: { en: \"Carrier ID\", ja: \"キャリアID\" }\n";
const NEW_PASSWORD: &str = "Switched-pass9";

async fn w() -> World {
    world_with(PROVIDERS).await
}

async fn events(w: &World) -> Vec<String> {
    w.app.store.audit_entries(w.tenant, 0, 500).await.unwrap().into_iter().map(|e| e.event).collect()
}

fn google(subject: &str) -> FederatedIdentity {
    FederatedIdentity { provider: "google".into(), issuer: "http://127.0.0.1:9".into(), subject: subject.into() }
}

async fn user(w: &World, email: &str) -> crate::store::UserRow {
    w.app.store.user_by_email(email).await.unwrap().unwrap()
}

async fn live_session(w: &World, cookie: &str) -> bool {
    let id = crate::tokens::decode_token(cookie).unwrap();
    w.app.sessions.lookup(&w.app.store, &id, now()).await.unwrap().is_some()
}

/// The `ticket` of the last mail to `to` that carries one.
fn mailed_ticket(w: &World, to: &str) -> String {
    let mails = w.mails_to(to);
    let body = &mails.last().expect("a mail").1;
    let at = body.find("ticket=").expect("a link") + "ticket=".len();
    body[at..].split_whitespace().next().unwrap().to_owned()
}

async fn directory(w: &World) -> String {
    let owner = user(w, "owner@acme.example").await;
    let form = DirectoryForm { issuer: "https://adfs.acme.example/adfs", client_id: "gw", secret: "s" };
    w.accounts().save_directory(&Actor::cli(Lang::En), &owner, &form, &w.app.totp_key).await.unwrap();
    w.app.store.directory(w.tenant).await.unwrap().unwrap().connection_id
}

/// SPEC section 6: the owner of a basic plan only.
#[tokio::test]
async fn only_a_basic_plan_owner_has_the_setting() {
    let w = w().await;
    let admin = w.signed_in_as("adm@acme.example", Role::Admin).await;
    for session in [&admin, &w.user] {
        let r = call(&w, request(Method::Get, "/auth/settings/login-method", Some(session), None)).await;
        assert_eq!(r.status, 403);
        let r = call(&w, post("/auth/settings/login-method", Some(session), &[("method", "google")])).await;
        assert_eq!(r.status, 403);
    }
    let trial = w.app.store.create_tenant("trial", Plan::Trial).await.unwrap();
    let owner = w.signed_in(trial, "boss@trial.example", Role::Owner).await;
    let r = call(&w, request(Method::Get, "/auth/settings/login-method", Some(&owner), None)).await;
    assert_eq!(r.status, 403);
    assert!(r.body_text().contains("basic-plan"), "{}", r.body_text());

    let r = call(&w, request(Method::Get, "/auth/settings/login-method", Some(&w.owner), None)).await;
    assert_eq!(r.status, 200);
    let body = r.body_text();
    assert!(body.contains("name=\"method\" value=\"google\"") && body.contains("name=\"method\" value=\"carrier\""));
    assert!(!body.contains("value=\"ad\""), "the owner is never offered the directory");
    assert!(body.contains("sign out of the service first"), "the advice about signing out");
    let ja = call(&w, request(Method::Get, "/auth/settings/login-method?lang=ja", Some(&w.owner), None)).await;
    assert!(ja.body_text().contains("ログイン方法の変更") && ja.body_text().contains("キャリアID"));
}

#[tokio::test]
async fn the_owner_choosing_the_directory_is_refused_with_a_page_saying_why() {
    let w = w().await;
    directory(&w).await;
    let r = call(&w, post("/auth/settings/login-method", Some(&w.owner), &[("method", "ad"), ("connection_id", "x")]))
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body_text().contains("contract holder"), "{}", r.body_text());
    assert!(events(&w).await.contains(&"login_method_refused:ad:owner_directory".to_owned()));
    assert!(!events(&w).await.iter().any(|e| e.starts_with("federated_unavailable:")), "no trip to the directory");
}

#[tokio::test]
async fn the_owner_choosing_a_provider_goes_there_and_the_current_method_changes_nothing() {
    let w = w().await;
    let r = call(&w, post("/auth/settings/login-method", Some(&w.owner), &[("method", "password")])).await;
    assert_eq!(r.status, 200);
    assert!(r.body_text().contains("Nothing changes"));
    let r = call(&w, post("/auth/settings/login-method", Some(&w.owner), &[("method", "nope")])).await;
    assert_eq!(r.status, 400);
    let r = call(&w, post("/auth/settings/login-method", Some(&w.owner), &[("method", "google")])).await;
    assert_eq!(r.status, 502, "the provider cannot be reached: {}", r.body_text());
    assert!(events(&w).await.iter().any(|e| e.starts_with("federated_unavailable:google:")), "{:?}", events(&w).await);
    assert!(live_session(&w, &w.owner).await, "nothing changed yet");
    assert!(events(&w).await.contains(&"login_method_started:google:own-method".to_owned()));
}

#[tokio::test]
async fn the_owner_moves_from_a_provider_to_a_password() {
    let w = w().await;
    let owner = user(&w, "owner@acme.example").await;
    w.app.store.bind_identity(owner.id, &google("owner-sub")).await.unwrap();
    let r = call(&w, post("/auth/settings/login-method", Some(&w.owner), &[("method", "google")])).await;
    assert_eq!(r.status, 409, "already Google: another Google account only through another method");
    assert!(r.body_text().contains("same service"), "{}", r.body_text());
    let fields = [("method", "password"), ("password", NEW_PASSWORD), ("password_confirm", "other-Pass9")];
    let r = call(&w, post("/auth/settings/login-method", Some(&w.owner), &fields)).await;
    assert_eq!(r.status, 400);
    assert!(w.app.store.federated_identity(owner.id).await.unwrap().is_some(), "a mismatch changes nothing");

    let fields = [("method", "password"), ("password", NEW_PASSWORD), ("password_confirm", NEW_PASSWORD)];
    let r = call(&w, post("/auth/settings/login-method", Some(&w.owner), &fields)).await;
    assert_eq!(r.status, 200, "{}", r.body_text());
    assert!(r.body_text().contains("href=\"/auth/login\""));
    assert!(w.app.store.federated_identity(owner.id).await.unwrap().is_none(), "the provider account is gone");
    let now_row = user(&w, "owner@acme.example").await;
    assert!(w.app.hasher.verify(now_row.password_hash.clone(), NEW_PASSWORD.into()).await.unwrap());
    assert!(!live_session(&w, &w.owner).await, "every session ended");
    let mails = w.mails_to("owner@acme.example");
    assert!(mails.iter().any(|(s, b)| s.contains("sign-in method changed") && b.contains("email and password")));
    assert!(events(&w).await.contains(&"login_method_changed:password".to_owned()));
}

/// SPEC section 9: a login-method change and an email change never run at
/// once, in either order, from the console or the owner's own forms.
#[tokio::test]
async fn a_method_link_and_an_email_link_exclude_each_other() {
    let w = w().await;
    w.signed_in_as("taro@acme.example", Role::User).await;
    let taro = user(&w, "taro@acme.example").await;
    let act = |action: &'static str, new_email: &'static str| {
        post(
            "/auth/admin/users/action",
            Some(&w.owner),
            &[("user", "taro@acme.example"), ("action", action), ("new_email", new_email)],
        )
    };
    // An email change pending: no method link.
    let r = call(&w, act("email-change", "taro2@acme.example")).await;
    assert_eq!((r.status, location(&r)), (303, "/auth/admin/users?done=email-link"));
    let r = call(&w, act("login-method", "")).await;
    assert_eq!(r.status, 409);
    assert!(r.body_text().contains("email address change waits"), "{}", r.body_text());
    assert!(!w.app.store.has_live_link(taro.id, LinkPurpose::LoginMethod).await.unwrap());

    // The email link gone, the method link goes out; then no email link.
    w.app.store.void_links(taro.id, &[LinkPurpose::EmailChange]).await.unwrap();
    let r = call(&w, act("login-method", "")).await;
    assert_eq!((r.status, location(&r)), (303, "/auth/admin/users?done=method-link"));
    let mail = w.mails_to("taro@acme.example");
    assert!(mail.last().unwrap().1.contains("/auth/login-method?ticket="), "{mail:?}");
    let r = call(&w, act("email-change", "taro3@acme.example")).await;
    assert_eq!(r.status, 409);
    assert!(r.body_text().contains("sign-in method is pending"), "{}", r.body_text());
    assert!(!w.app.store.has_live_link(taro.id, LinkPurpose::EmailChange).await.unwrap());
    assert!(w.mails_to("taro3@acme.example").is_empty());
    let ev = events(&w).await;
    assert!(ev.contains(&"admin_login_method_link".to_owned()), "{ev:?}");
    assert!(ev.contains(&"login_method_link_refused:email_change_pending".to_owned()));
    assert!(ev.contains(&"email_change_refused:login_method_pending".to_owned()));

    // The owner's own: a live method link refuses an email change.
    let owner = user(&w, "owner@acme.example").await;
    w.accounts().send_login_method_link(&Actor::cli(Lang::En), &owner).await.unwrap();
    let r = call(
        &w,
        post(
            "/auth/email/change",
            Some(&w.owner),
            &[
                ("new_email", "boss@acme.example"),
                ("new_email_confirm", "boss@acme.example"),
                ("current_password", "x"),
            ],
        ),
    )
    .await;
    // The world's owner has no password: the password check answers first.
    assert_eq!(r.status, 400);
    let store = &w.app.store;
    let r = w.accounts().request_email_change(&Actor::cli(Lang::En), &owner, "boss@acme.example").await.unwrap();
    assert_eq!(r, crate::accounts::EmailRequest::MethodChangePending);
    assert!(!store.has_live_link(owner.id, LinkPurpose::EmailChange).await.unwrap());
    // And a live email change refuses the owner's own method change.
    store.void_links(owner.id, &[LinkPurpose::LoginMethod]).await.unwrap();
    w.accounts().request_email_change(&Actor::cli(Lang::En), &owner, "boss@acme.example").await.unwrap();
    let r = call(&w, post("/auth/settings/login-method", Some(&w.owner), &[("method", "google")])).await;
    assert_eq!(r.status, 409);
    assert!(r.body_text().contains("An email address change is waiting"), "{}", r.body_text());
}

#[tokio::test]
async fn the_email_form_with_the_address_unchanged_sends_the_method_link() {
    let w = w().await;
    w.signed_in_as("taro@acme.example", Role::User).await;
    let fields = [("user", "taro@acme.example"), ("action", "email-change"), ("new_email", "Taro@acme.example")];
    let r = call(&w, post("/auth/admin/users/action", Some(&w.owner), &fields)).await;
    assert_eq!((r.status, location(&r)), (303, "/auth/admin/users?done=method-link"));
    let taro = user(&w, "taro@acme.example").await;
    assert!(w.app.store.has_live_link(taro.id, LinkPurpose::LoginMethod).await.unwrap());
    assert!(!w.app.store.has_live_link(taro.id, LinkPurpose::EmailChange).await.unwrap());
    let (subject, body) = w.mails_to("taro@acme.example").pop().unwrap();
    assert!(subject.contains("sign-in method"), "{subject}");
    assert!(body.contains("/auth/login-method?ticket=") && body.contains("14 days"), "{body}");

    // The owner's own form: with a password that checks, the same.
    let hash = w.app.hasher.hash("Owner-pass9".into()).await.unwrap();
    let owner = user(&w, "owner@acme.example").await;
    w.app.store.set_password_hash(owner.id, &hash).await.unwrap();
    let fields = [
        ("new_email", "owner@acme.example"),
        ("new_email_confirm", "owner@acme.example"),
        ("current_password", "Owner-pass9"),
    ];
    let r = call(&w, post("/auth/email/change", Some(&w.owner), &fields)).await;
    assert_eq!(r.status, 200, "{}", r.body_text());
    assert!(r.body_text().contains("link to change your sign-in method was sent"));
    assert!(w.app.store.has_live_link(owner.id, LinkPurpose::LoginMethod).await.unwrap());
    assert!(events(&w).await.contains(&"login_method_link_requested".to_owned()));
}

#[tokio::test]
async fn the_console_does_not_send_the_owner_or_oneself_a_method_link() {
    let w = w().await;
    let admin = w.signed_in_as("adm@acme.example", Role::Admin).await;
    for (session, who) in [(&admin, "owner@acme.example"), (&admin, "adm@acme.example")] {
        let r = call(&w, post("/auth/admin/users/action", Some(session), &[("user", who), ("action", "login-method")]))
            .await;
        assert_eq!(r.status, 403, "{who}");
    }
    w.signed_in_as("taro@acme.example", Role::User).await;
    let page = call(&w, request(Method::Get, "/auth/admin/users", Some(&admin), None)).await;
    assert!(page.body_text().contains("value=\"login-method\""));
}

#[tokio::test]
async fn the_link_page_switches_to_a_password_once() {
    let w = w().await;
    let session = w.signed_in_as("taro@acme.example", Role::User).await;
    let taro = user(&w, "taro@acme.example").await;
    w.app.store.bind_identity(taro.id, &google("taro-sub")).await.unwrap();
    let session2 = w.session("taro@acme.example", Some(Factor::Totp), false).await;
    let r = call(&w, request(Method::Get, "/auth/login-method?ticket=nope", None, None)).await;
    assert_eq!(r.status, 410, "a dead link");
    assert!(r.body_text().contains("can no longer be used"));

    let r = call(
        &w,
        post("/auth/admin/users/action", Some(&w.owner), &[("user", "taro@acme.example"), ("action", "login-method")]),
    )
    .await;
    assert_eq!(r.status, 303);
    let ticket = mailed_ticket(&w, "taro@acme.example");
    let path = format!("/auth/login-method?ticket={ticket}");
    let page = call(&w, request(Method::Get, &path, None, None)).await;
    assert_eq!(page.status, 200);
    let body = page.body_text();
    assert!(body.contains("<strong id=\"current-method\">Google</strong>"), "{body}");
    assert!(body.contains("name=\"password_confirm\"") && body.contains("sign out of the service first"));
    assert!(!body.contains("value=\"ad\""), "no directory, no choice of it");

    let r =
        call(&w, post(&path, None, &[("method", "password"), ("password", "short"), ("password_confirm", "short")]))
            .await;
    assert_eq!(r.status, 400, "the password rules apply");
    let fields = [("method", "password"), ("password", NEW_PASSWORD), ("password_confirm", NEW_PASSWORD)];
    let r = call(&w, post(&path, None, &fields)).await;
    assert_eq!(r.status, 200, "{}", r.body_text());
    assert!(w.app.store.federated_identity(taro.id).await.unwrap().is_none(), "the old identity is gone");
    let row = user(&w, "taro@acme.example").await;
    assert!(w.app.hasher.verify(row.password_hash, NEW_PASSWORD.into()).await.unwrap());
    assert!(!live_session(&w, &session).await && !live_session(&w, &session2).await, "sessions ended");
    assert!(w.mails_to("taro@acme.example").iter().any(|(s, _)| s.contains("sign-in method changed")));
    let again = call(&w, post(&path, None, &fields)).await;
    assert_eq!(again.status, 410, "the link is used up");
    assert_eq!(call(&w, request(Method::Get, &path, None, None)).await.status, 410);
}

#[tokio::test]
async fn the_link_page_asks_the_directory_for_its_connection_id() {
    let w = w().await;
    w.signed_in_as("taro@acme.example", Role::User).await;
    let taro = user(&w, "taro@acme.example").await;
    let id = directory(&w).await;
    w.accounts().send_login_method_link(&Actor::cli(Lang::En), &taro).await.unwrap();
    let path = format!("/auth/login-method?ticket={}", mailed_ticket(&w, "taro@acme.example"));
    let page = call(&w, request(Method::Get, &path, None, None)).await;
    assert!(page.body_text().contains("name=\"connection_id\""));
    let r = call(&w, post(&path, None, &[("method", "ad"), ("connection_id", "adfs-000000000000000000")])).await;
    assert_eq!(r.status, 400);
    assert!(r.body_text().contains("id=\"connection_id-error\""), "{}", r.body_text());
    assert!(events(&w).await.contains(&"login_method_refused:ad:wrong_connection_id".to_owned()));
    let r = call(&w, post(&path, None, &[("method", "ad"), ("connection_id", &id)])).await;
    assert_eq!(r.status, 502, "to the directory, which cannot be reached here");
    assert!(events(&w).await.iter().any(|e| e.starts_with("federated_unavailable:ad:")));
    assert!(events(&w).await.contains(&"login_method_started:ad:method-link".to_owned()));
    let r = call(&w, post(&path, None, &[("method", "carrier")])).await;
    assert_eq!(r.status, 502);
    assert!(events(&w).await.iter().any(|e| e.starts_with("federated_unavailable:carrier:")));
    assert!(w.app.store.has_live_link(taro.id, LinkPurpose::LoginMethod).await.unwrap(), "still live");
}

/// The owner's invitation never offers the directory, and refuses it posted.
#[tokio::test]
async fn the_invitation_offers_the_methods_but_not_the_directory_to_the_owner() {
    let w = w().await;
    let id = directory(&w).await;
    let store = &w.app.store;
    let validity = std::time::Duration::from_secs(600);
    let owner = user(&w, "owner@acme.example").await;
    let ticket =
        crate::accounts::mailed_link::new_link(store, validity, owner.id, LinkPurpose::Invite, None).await.unwrap();
    let path = format!("/auth/invite?ticket={ticket}");
    let page = call(&w, request(Method::Get, &path, None, None)).await;
    assert_eq!(page.status, 200);
    let body = page.body_text();
    assert!(body.contains("value=\"google\"") && !body.contains("value=\"ad\""), "{body}");
    let r = call(&w, post(&path, None, &[("method", "ad"), ("connection_id", &id)])).await;
    assert_eq!(r.status, 403);
    assert!(r.body_text().contains("contract holder"));

    // Another invitee: the directory with its id, and each provider.
    let email = "newbie@acme.example";
    let uid =
        store.create_user(NewUser { tenant_id: w.tenant, email, role: Role::User, password_hash: None }).await.unwrap();
    store.record_invitation(w.tenant, email, Role::User, now() + 600).await.unwrap();
    let ticket = crate::accounts::mailed_link::new_link(store, validity, uid, LinkPurpose::Invite, None).await.unwrap();
    let path = format!("/auth/invite?ticket={ticket}");
    let body = call(&w, request(Method::Get, &path, None, None)).await.body_text().into_owned();
    assert!(body.contains("value=\"ad\"") && body.contains("name=\"password\""), "{body}");
    let r = call(&w, post(&path, None, &[("method", "ad"), ("connection_id", "adfs-wrongwrongwrong123")])).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body_text().contains("That is not your organisation&#x27;s connection ID")
            || r.body_text().contains("connection_id-error")
    );
    let r = call(&w, post(&path, None, &[("method", "google")])).await;
    assert_eq!(r.status, 502);
    let r = call(&w, post(&path, None, &[("method", "ad"), ("connection_id", &id)])).await;
    assert_eq!(r.status, 502);
    let ev = events(&w).await;
    assert!(ev.iter().any(|e| e.starts_with("federated_unavailable:google:")));
    assert!(ev.iter().any(|e| e.starts_with("federated_unavailable:ad:")));
    assert!(ev.contains(&"login_method_started:google:invite".to_owned()), "{ev:?}");
    assert!(!user(&w, email).await.registered(), "nobody registered without the provider");
}

/// What an owner types for their directory never makes the gateway call
/// itself or its network neighbours.
#[tokio::test]
async fn a_directory_on_an_internal_address_is_refused() {
    let w = w().await;
    let owner = user(&w, "owner@acme.example").await;
    for issuer in [
        "http://127.0.0.1:9100",
        "https://127.0.0.1/adfs",
        "https://localhost/adfs",
        "https://10.1.2.3/adfs",
        "https://169.254.169.254/latest",
        "https://[::1]/adfs",
        "http://adfs.acme.example/adfs",
    ] {
        let form = DirectoryForm { issuer, client_id: "gw", secret: "s" };
        let saved = w.accounts().save_directory(&Actor::cli(Lang::En), &owner, &form, &w.app.totp_key).await.unwrap();
        assert_eq!(saved, crate::accounts::DirectorySaved::BadIssuer, "{issuer}");
    }
    assert!(w.app.store.directory(w.tenant).await.unwrap().is_none());
}
