//! A first sign-in that enrols the authenticator app, as a person does it.

use thirtyfour::By;

use crate::harness::{self, Browser};
use crate::support::{ORDINARY, PASSWORD, base32_decode};

const ALICE: &str = "alice@acme.example";

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_login_with_authenticator_and_recovery_code() {
    if !harness::available() {
        return;
    }
    let env = harness::gateway(ALICE).await;
    let b = Browser::open("first_login_with_authenticator_and_recovery_code", "en-US").await;

    // Storage without a session sends the browser to the login form, keeping the way back.
    b.goto(&env.url(ORDINARY, "/files")).await;
    b.wait_path("/auth/login?rd=").await;
    b.fill("#email", ALICE).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/auth/login'] button[type=submit]").await;

    // The tenant requires 2-step verification: the chooser, then the app's setup page.
    b.wait_path("/auth/2fa?rd=").await;
    b.click("a[href^='/auth/2fa/totp']").await;
    b.wait_path("/auth/2fa/totp").await;
    assert!(b.find(By::Css("main svg")).await.is_ok(), "a QR code to scan");
    let secret = base32_decode(&b.text("main p code").await);
    assert!(secret.len() >= 16, "an authenticator secret of at least 128 bits");
    let code = gateway::second_factor::code_at(&secret, unix_now());
    b.fill("#code", &code).await;
    b.click("form[action='/auth/2fa/totp'] button[type=submit]").await;

    // The recovery code is shown once and must be confirmed saved before storage opens.
    b.wait_path("/auth/recovery-code").await;
    let recovery = b.text("main p strong").await;
    assert_eq!(recovery.len(), 24, "recovery code format: {recovery}");
    b.click("input[name=saved]").await;
    b.click("form[action='/auth/recovery-code'] button[type=submit]").await;

    // The manual's "verification complete" screen, then on to where the user was going.
    b.wait_path("/auth/verified").await;
    b.click("main a[href='/files']").await;
    // Back where the user was going; the origin lists what the gateway told it.
    b.wait_path("/files").await;
    assert_eq!(origin_saw(&b, "x-auth-method").await, "password+totp");
    assert_eq!(origin_saw(&b, "x-auth-user").await, ALICE);
    b.close().await;
}

/// A header's value in the demo origin's HTML table of what it received.
async fn origin_saw(b: &Browser, header: &str) -> String {
    let cell = b.find(By::XPath(format!("//tr[th='{header}']/td"))).await;
    let cell = cell.unwrap_or_else(|e| panic!("the origin did not list {header}: {e}"));
    cell.text().await.expect("cell text")
}
