//! SPEC 11: "Emailed-link forms check the link before hashing a password."
//!
//! A set-password form (reset, invitation, email confirmation) posted with a
//! ticket that is unknown, used up or made for another purpose answers the
//! dead-link page without running argon2: otherwise a flood of such posts, which
//! costs a stranger nothing, fills the hashing pool that real logins wait for.
//! Counted by `gateway_password_hashes_total`, which moves for every argon2 run.

use crate::support::*;

const ALICE: &str = "alice@acme.example";
const NEW: &str = "N3w-Passw0rd!";
const HASHES: &str = "gateway_password_hashes_total{kind=\"hash\"}";

/// Posts a strong, matching password to a set-password form with a valid CSRF token.
async fn post_password(c: &reqwest::Client, env: &Env, path_and_query: &str) -> reqwest::Response {
    let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    c.post(env.url(ORDINARY, path_and_query))
        .form(&[("password", NEW), ("password_confirm", NEW), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap()
}

async fn fake_tickets(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.seed_tenant("acme", ALICE, "user");
    env.start().await;
    let c = env.client(INTERNET);

    // A live reset ticket, to be posted where it does not belong and later replayed.
    let page = c.get(env.url(ORDINARY, "/auth/password/forgot")).send().await.unwrap().text().await.unwrap();
    let r = c
        .post(env.url(ORDINARY, "/auth/password/forgot"))
        .form(&[("email", ALICE), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let reset =
        link_path(&env.wait_mail(ALICE, "/auth/password/reset?ticket=", 1).await, "/auth/password/reset?ticket=");
    let reset_ticket = reset.split("ticket=").nth(1).unwrap().to_owned();
    let random = gateway::tokens::random_token();

    let wrong_purpose: Vec<(&str, String)> = vec![
        ("unknown ticket, reset form", format!("/auth/password/reset?ticket={random}")),
        ("unknown ticket, invitation form", format!("/auth/invite?ticket={random}")),
        ("unknown ticket, email confirmation form", format!("/auth/email/confirm?ticket={random}")),
        ("malformed ticket, reset form", "/auth/password/reset?ticket=not-a-ticket".to_owned()),
        ("reset ticket on the invitation form", format!("/auth/invite?ticket={reset_ticket}")),
        ("reset ticket on the email confirmation form", format!("/auth/email/confirm?ticket={reset_ticket}")),
    ];
    for (case, path) in &wrong_purpose {
        let before = env.metric(HASHES).await;
        let r = post_password(&c, &env, path).await;
        assert_eq!(r.status(), 410, "{case}: the dead-link page");
        assert_eq!(env.metric(HASHES).await, before, "{case}: no password was hashed");
    }

    // The real use still hashes (the counter counts), and the link still worked
    // after all those wrong posts.
    let before = env.metric(HASHES).await;
    assert_eq!(post_password(&c, &env, &reset).await.status(), 200, "the live link still works");
    assert_eq!(env.metric(HASHES).await, before + 1.0, "a real reset hashes once");

    // Used up: replaying it costs no hash either.
    let before = env.metric(HASHES).await;
    assert_eq!(post_password(&c, &env, &reset).await.status(), 410, "used ticket: the dead-link page");
    assert_eq!(env.metric(HASHES).await, before, "used ticket: no password was hashed");
    env.cleanup().await;
}
on_both_databases!(fake_tickets);
