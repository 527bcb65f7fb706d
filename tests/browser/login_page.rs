//! The login page itself: its languages, its error, its layout on a phone.

use crate::harness::{self, Browser};
use crate::support::{ORDINARY, PASSWORD};

const ALICE: &str = "alice@acme.example";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn japanese_login_page() {
    if !harness::available() {
        return;
    }
    let env = harness::gateway(ALICE).await;
    // A browser set to Japanese gets Japanese pages without choosing anything.
    let b = Browser::open("japanese_login_page", "ja").await;
    b.goto(&env.url(ORDINARY, "/files")).await;
    b.wait_path("/auth/login?rd=").await;
    assert_eq!(b.el("html").await.attr("lang").await.expect("lang").as_deref(), Some("ja"));
    assert_eq!(b.text("h1").await, "ログイン");
    assert_eq!(b.text("label[for=email]").await, "メールアドレス");
    assert_eq!(b.text("label[for=password]").await, "パスワード");
    assert_eq!(b.text("nav.lang a").await, "English");

    // The switch link gives the same page in English, still on the way to /files.
    b.click("nav.lang a").await;
    b.wait_path_where("the English login page", |p| p.starts_with("/auth/login?") && p.contains("lang=en")).await;
    assert_eq!(b.text("h1").await, "Sign in");
    assert_eq!(b.text("label[for=email]").await, "Email address");
    assert_eq!(b.el("input[name=rd]").await.value().await.expect("rd").as_deref(), Some("/files"));

    // The choice is remembered over the browser's Japanese preference.
    b.goto(&env.url(ORDINARY, "/auth/login")).await;
    assert_eq!(b.text("label[for=email]").await, "Email address");
    assert_eq!(b.text("nav.lang a").await, "日本語");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_shows_the_error_next_to_the_form() {
    if !harness::available() {
        return;
    }
    let env = harness::gateway(ALICE).await;
    let b = Browser::open("wrong_password_shows_the_error_next_to_the_form", "en-US").await;
    b.goto(&env.url(ORDINARY, "/auth/login")).await;
    b.fill("#email", ALICE).await;
    b.fill("#password", &format!("{PASSWORD}x")).await;
    b.click("form[action='/auth/login'] button[type=submit]").await;

    // The one generic message, announced, right above the form; nothing is echoed back.
    let error = b.el("p.error[role=alert]").await;
    assert_eq!(error.text().await.expect("error text"), gateway::auth::REFUSED_EN);
    let form = b.el("form[action='/auth/login']").await;
    let (e, f) = (error.rect().await.expect("error box"), form.rect().await.expect("form"));
    assert!(e.y + e.height <= f.y && f.y - (e.y + e.height) < 60.0, "error {e:?} not just above the form {f:?}");
    assert_eq!(b.el("#email").await.prop("value").await.expect("email value").as_deref(), Some(""));
    assert_eq!(b.el("#password").await.prop("value").await.expect("password value").as_deref(), Some(""));

    // At a phone's width nothing sticks out sideways and the message is still in view.
    b.set_window_rect(0, 0, 390, 844).await.expect("resize");
    let inner: i64 = b.script("return window.innerWidth;").await;
    assert!(inner <= 400, "the window did not shrink to a phone's width: {inner}px");
    let scroll: i64 = b.script("return document.documentElement.scrollWidth;").await;
    assert!(scroll <= inner, "page is {scroll}px wide in a {inner}px window");
    assert!(error.is_displayed().await.expect("displayed"), "the error is visible on a phone");
    b.close().await;
}
