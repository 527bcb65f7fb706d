//! The owner's directory connection page through `web::handle`: who may
//! reach it, the connection id it makes and mails, the secret stored sealed,
//! and an edit that keeps the id.

use policy::Role;

use crate::auth::testing::{call, location, post, request, world};
use crate::store::Plan;
use crate::web::Method;

const SECRET: &str = "dir-Secret-4711";

fn fields<'a>(issuer: &'a str, secret: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![("issuer", issuer), ("client_id", "gateway-app"), ("client_secret", secret)]
}

#[tokio::test]
async fn creating_the_connection_makes_an_id_mails_it_and_seals_the_secret() {
    let w = world().await;
    let page = call(&w, request(Method::Get, "/auth/settings/directory", Some(&w.owner), None)).await;
    assert_eq!(page.status, 200);
    assert!(!page.body_text().contains("id=\"connection-id\""), "nothing to show before it exists");

    let r =
        call(&w, post("/auth/settings/directory", Some(&w.owner), &fields("https://adfs.acme.example/adfs", SECRET)))
            .await;
    assert_eq!((r.status, location(&r)), (303, "/auth/settings/directory?done=created"));
    let dir = w.app.store.directory(w.tenant).await.unwrap().expect("created");
    let id = dir.connection_id.clone();
    assert!(crate::accounts::valid_connection_id(&id), "{id}");
    assert_eq!(id.len(), 23);
    assert!(!dir.sealed_secret.contains(SECRET), "the secret is not stored as typed");
    assert_eq!(w.app.totp_key.open_directory_secret(w.tenant, &dir.sealed_secret).as_deref(), Some(SECRET));
    assert_eq!(w.app.totp_key.open_directory_secret(w.tenant + 1, &dir.sealed_secret), None, "sealed to its tenant");

    let mails = w.mails_to("owner@acme.example");
    assert_eq!(mails.len(), 1, "{mails:?}");
    let (subject, body) = &mails[0];
    assert!(subject.contains("Active Directory"), "{subject}");
    for url in [w.app.cfg.public_url(false), w.app.cfg.public_url(true)] {
        let line = format!("{url}/auth/ad/{id}");
        assert!(body.lines().any(|l| l.trim() == line), "{line} in:\n{body}");
    }
    assert!(body.contains(&format!("Connection ID: {id}")), "{body}");
    assert!(!body.contains(SECRET));

    let shown = call(&w, request(Method::Get, "/auth/settings/directory?done=created", Some(&w.owner), None)).await;
    let shown = shown.body_text();
    assert!(shown.contains(&format!("<td id=\"connection-id\">{id}</td>")), "{shown}");
    assert!(shown.contains(&format!("/auth/ad/{id}")) && shown.contains("mailed to you"));
    assert!(!shown.contains(SECRET), "the secret is never shown again");
    let ja = call(&w, request(Method::Get, "/auth/settings/directory?lang=ja", Some(&w.owner), None)).await;
    assert!(ja.body_text().contains("接続ID") && ja.body_text().contains("ログイン用URL（回線認証）"));

    // An edit keeps the id; an empty secret keeps the stored one; no new mail.
    let r = call(&w, post("/auth/settings/directory", Some(&w.owner), &fields("https://login.acme.example/v2.0", "")))
        .await;
    assert_eq!((r.status, location(&r)), (303, "/auth/settings/directory?done=updated"));
    let edited = w.app.store.directory(w.tenant).await.unwrap().unwrap();
    assert_eq!(edited.connection_id, id);
    assert_eq!(edited.issuer, "https://login.acme.example/v2.0");
    assert_eq!(w.app.totp_key.open_directory_secret(w.tenant, &edited.sealed_secret).as_deref(), Some(SECRET));
    let r =
        call(&w, post("/auth/settings/directory", Some(&w.owner), &fields("https://login.acme.example/v2.0", "new-1")))
            .await;
    assert_eq!(r.status, 303);
    let edited = w.app.store.directory(w.tenant).await.unwrap().unwrap();
    assert_eq!(edited.connection_id, id);
    assert_eq!(w.app.totp_key.open_directory_secret(w.tenant, &edited.sealed_secret).as_deref(), Some("new-1"));
    assert_eq!(w.mails_to("owner@acme.example").len(), 1);

    let events: Vec<String> =
        w.app.store.audit_entries(w.tenant, 0, 100).await.unwrap().into_iter().map(|e| e.event).collect();
    assert_eq!(events.iter().filter(|e| *e == "directory_created").count(), 1, "{events:?}");
    assert_eq!(events.iter().filter(|e| *e == "directory_updated").count(), 2, "{events:?}");
}

#[tokio::test]
async fn a_bad_issuer_or_a_missing_secret_is_refused_at_its_field() {
    let w = world().await;
    for (issuer, secret, field) in [
        ("http://adfs.acme.example/adfs", SECRET, "issuer-error"),
        ("https://adfs.acme.example/?x=1", SECRET, "issuer-error"),
        ("https://adfs.acme.example/adfs", "", "client_secret-error"),
    ] {
        let r = call(&w, post("/auth/settings/directory", Some(&w.owner), &fields(issuer, secret))).await;
        assert_eq!(r.status, 400, "{issuer}");
        assert!(r.body_text().contains(&format!("id=\"{field}\"")), "{issuer}: {}", r.body_text());
    }
    assert!(w.app.store.directory(w.tenant).await.unwrap().is_none());
    assert!(w.mails_to("owner@acme.example").is_empty());
}

/// SPEC section 6: the owner on both plans, nobody else.
#[tokio::test]
async fn only_the_owner_reaches_it_on_either_plan() {
    let w = world().await;
    let admin = w.signed_in_as("adm@acme.example", Role::Admin).await;
    for session in [&admin, &w.user] {
        let r = call(&w, request(Method::Get, "/auth/settings/directory", Some(session), None)).await;
        assert_eq!(r.status, 403);
        let r = call(&w, post("/auth/settings/directory", Some(session), &fields("https://a.example", SECRET))).await;
        assert_eq!(r.status, 403);
    }
    assert!(w.app.store.directory(w.tenant).await.unwrap().is_none());
    let trial = w.app.store.create_tenant("trial", Plan::Trial).await.unwrap();
    let owner = w.signed_in(trial, "boss@trial.example", Role::Owner).await;
    let r = call(&w, request(Method::Get, "/auth/settings/directory", Some(&owner), None)).await;
    assert_eq!(r.status, 200);
    let menu = call(&w, request(Method::Get, "/auth/settings", Some(&owner), None)).await.body_text().into_owned();
    assert!(menu.contains("/auth/settings/directory"), "{menu}");
    assert!(!menu.contains("/auth/settings/login-method"), "not on the trial plan");
}
