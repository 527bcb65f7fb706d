//! The 2-step pages issue 11 added or changed, clicked through in English and
//! in Japanese, each saved as a screenshot: the "verification complete"
//! screen after a first sign-in, then changing the registered phone (proved
//! with the authenticator app) and the authenticator app (proved with the
//! recovery code, which is replaced at once).

use crate::harness::{self, Browser};
use crate::support::{Env, ORDINARY, PASSWORD, base32_decode};

const ALICE: &str = "alice@acme.example";
const NEW_PHONE: &str = "+819087654321";

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

/// The key shown under the QR code, as bytes.
async fn shown_secret(b: &Browser) -> Vec<u8> {
    base32_decode(&b.text("main p code").await)
}

/// Signs in, sets up the app; returns its secret and the recovery code.
async fn first_sign_in(b: &Browser, env: &Env, lang: &str) -> (Vec<u8>, String) {
    b.goto(&env.url(ORDINARY, "/files")).await;
    b.wait_path("/auth/login?rd=").await;
    b.fill("#email", ALICE).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/auth/login'] button[type=submit]").await;
    b.wait_path("/auth/2fa?rd=").await;
    b.click("a[href^='/auth/2fa/totp']").await;
    b.wait_path("/auth/2fa/totp").await;
    let secret = shown_secret(b).await;
    b.fill("#code", &gateway::second_factor::code_at(&secret, unix_now())).await;
    b.click("form[action='/auth/2fa/totp'] button[type=submit]").await;
    b.wait_path("/auth/recovery-code").await;
    let recovery = b.text("main p strong").await;
    b.click("input[name=saved]").await;
    b.click("form[action='/auth/recovery-code'] button[type=submit]").await;
    b.wait_path("/auth/verified").await;
    b.snap(&format!("two_step_verified_{lang}")).await;
    b.click("main a[href='/files']").await;
    b.wait_path("/files").await;
    (secret, recovery)
}

/// Opens a settings page through the password asked again.
async fn settings_page(b: &Browser, env: &Env, path: &str) {
    b.goto(&env.url(ORDINARY, &format!("/auth/settings/login?rd={path}"))).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/auth/settings/login'] button[type=submit]").await;
    b.wait_path_where(path, |p| p == path).await;
}

async fn screens(lang: &'static str, accept_language: &str, name: &'static str) {
    let env = harness::gateway(ALICE).await;
    let b = Browser::open(name, accept_language).await;
    let (secret, recovery) = first_sign_in(&b, &env, lang).await;

    // The settings menu offers changing the app that is set up.
    settings_page(&b, &env, "/auth/settings").await;
    b.el("main a[href='/auth/settings/authenticator']").await;

    // A new phone, proved with the app's next code.
    b.goto(&env.url(ORDINARY, "/auth/settings/phone")).await;
    b.wait_path("/auth/settings/phone").await;
    b.snap(&format!("two_step_change_phone_{lang}")).await;
    b.click("input[name=method][value=totp]").await;
    b.fill("#code", &gateway::second_factor::code_at(&secret, unix_now() + 30)).await;
    b.fill("#phone", "090-8765-4321").await;
    b.click("form[action='/auth/settings/phone'] input[value=prove] ~ button").await;
    b.el("form input[name=ticket]").await;
    b.snap(&format!("two_step_change_phone_code_{lang}")).await;
    let code = env.sms_codes(NEW_PHONE).pop().expect("a code to the new number");
    b.fill("#code", &code).await;
    b.click("form input[value=confirm] ~ button").await;
    b.el("p.ok").await;
    b.snap(&format!("two_step_phone_changed_{lang}")).await;

    // A new app, proved with the recovery code; a new recovery code follows.
    b.goto(&env.url(ORDINARY, "/auth/settings")).await;
    b.click("main a[href='/auth/settings/authenticator']").await;
    b.wait_path("/auth/settings/authenticator").await;
    b.snap(&format!("two_step_change_app_{lang}")).await;
    b.click("input[name=method][value=recovery]").await;
    b.fill("#code", &recovery).await;
    b.click("form[action='/auth/settings/authenticator'] input[value=prove] ~ button").await;
    b.el("main svg").await;
    b.snap(&format!("two_step_change_app_setup_{lang}")).await;
    // The used recovery code was replaced at once; the new one is shown above the QR code.
    let fresh = b.text("main p strong").await;
    assert_eq!(fresh.len(), 24, "a new recovery code: {fresh}");
    assert_ne!(fresh, recovery);
    let new = shown_secret(&b).await;
    assert_ne!(new, secret);
    b.fill("#code", &gateway::second_factor::code_at(&new, unix_now())).await;
    b.click("form input[value=confirm] ~ button").await;
    b.el("p.ok").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_screens_in_english() {
    if !harness::available() {
        return;
    }
    screens("en", "en-US", "two_step_screens_in_english").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_screens_in_japanese() {
    if !harness::available() {
        return;
    }
    screens("ja", "ja", "two_step_screens_in_japanese").await;
}
