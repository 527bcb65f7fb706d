//! A person registers with a provider from their invitation, then signs in
//! with the provider's button on the login page and lands on the storage.

use crate::fed::*;
use crate::harness::{self, Browser};
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_a_provider_button() {
    if !harness::available() {
        return;
    }
    let Some(mut fed) = fed_env(Db::Sqlite).await else { return };
    let out = fed.env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example", "--plan", "basic"]);
    fed.env.start().await;
    let env = &fed.env;
    let link = out.lines().find(|l| l.contains("/auth/invite?ticket=")).expect("invitation").trim().to_owned();
    let link = link_path(&link, "/auth/invite?ticket=");

    let b = Browser::open("sign_in_with_a_provider_button", "en-US").await;
    // Registration: choose the provider instead of a password.
    b.goto(&env.url(ORDINARY, &link)).await;
    b.click("form:has(input[name=method][value=google]) button[type=submit]").await;
    b.wait_path_where("the provider's login page", |p| p.starts_with("/interaction/")).await;
    b.fill("input[name=login]", "boss-at-google").await;
    b.fill("input[name=password]", "anything").await;
    b.click("button[type=submit]").await;
    b.wait_path_where("the storage", |p| p == "/").await;
    let body = b.text("body").await;
    let told = |body: &str, name: &str, value: &str| body.lines().any(|l| l.contains(name) && l.contains(value));
    assert!(told(&body, "x-auth-method", "google"), "the origin was told the provider: {body}");

    // Signed out, the login page's button signs in again; the provider asks
    // nothing more while its own session lasts.
    b.delete_all_cookies().await.expect("sign out here");
    b.goto(&env.url(ORDINARY, "/files/report.pdf")).await;
    b.wait_path("/auth/login?rd=").await;
    assert_eq!(b.text("a.provider[href^='/auth/oidc/google']").await, "Sign in with Google");
    b.click("a.provider[href^='/auth/oidc/google']").await;
    b.wait_path_where("the storage", |p| p == "/files/report.pdf").await;
    let body = b.text("body").await;
    assert!(told(&body, "x-auth-user", "boss@acme.example"), "{body}");
    assert!(told(&body, "x-auth-method", "google"), "{body}");
    b.close().await;
    fed.env.cleanup().await;
}
