//! 2-step verification on the ordinary hostname, remembered browsers,
//! changing the registered phone, and the line as the second factor on the
//! line-auth hostname. A finished second step goes through the manual's
//! "verification complete" screen (`/auth/verified`) on its way back.

use crate::on_both_databases;
use crate::support::*;

const ALICE: &str = "alice@acme.example";
const PHONE: &str = "+819012345678";

async fn started(db: Db) -> Option<Env> {
    let mut env = Env::new(db).await?;
    env.tweak_config("  hash_concurrency: 2\n", "  hash_concurrency: 2\n  throttle_per_minute: 0\n");
    env.seed_tenant("acme", ALICE, "user");
    env.start().await;
    Some(env)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn form(c: &reqwest::Client, env: &Env, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.push(("csrf", &csrf));
    c.post(env.url(ORDINARY, path)).form(&all).send().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Where a finished second step leads first: the completion screen.
const VERIFIED: &str = "/auth/verified?rd=%2Ffiles";

/// The completion screen, and its way on to where the user was going.
async fn verified(c: &reqwest::Client, env: &Env) {
    let page = c.get(env.url(ORDINARY, VERIFIED)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("2-step verification is complete") && page.contains("href=\"/files\""), "{page}");
}

/// Shows the recovery code, confirms it saved; returns the code shown.
async fn save_recovery_code(c: &reqwest::Client, env: &Env) -> String {
    let page = c.get(env.url(ORDINARY, "/auth/recovery-code?rd=/files")).send().await.unwrap().text().await.unwrap();
    let code = between(&page, "letter-spacing:.05em\"><strong>", "</strong>").to_owned();
    assert_eq!(code.len(), 24, "recovery code format: {code}");
    let r = form(c, env, "/auth/recovery-code", &[("saved", "1"), ("rd", "/files")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), VERIFIED);
    verified(c, env).await;
    code
}

/// Enrols the authenticator app for a signed-in, pending user; returns the secret.
async fn enrol_totp(c: &reqwest::Client, env: &Env, remember: bool) -> Vec<u8> {
    let page = c.get(env.url(ORDINARY, "/auth/2fa/totp?rd=/files")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<svg"), "QR code shown");
    let secret = base32_decode(between(&page, "word-break:break-all\">", "</code>"));
    let code = gateway::second_factor::code_at(&secret, unix_now());
    let mut fields = vec![("code", code.as_str()), ("rd", "/files")];
    if remember {
        fields.push(("remember", "1"));
    }
    let r = form(c, env, "/auth/2fa/totp", &fields).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/auth/recovery-code"), "{}", location(&r));
    // Until the recovery code is saved, storage stays closed.
    assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 401);
    secret
}

async fn sms_enrolment(db: Db) {
    let Some(env) = started(db).await else { return };
    let c = env.client(INTERNET);
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    let r = c.get(env.url(ORDINARY, "/files")).header("accept", "text/html").send().await.unwrap();
    assert!(location(&r).starts_with("/auth/2fa?rd="));
    let chooser = c.get(env.url(ORDINARY, "/auth/2fa?rd=/files")).send().await.unwrap().text().await.unwrap();
    let (sms, app) = (chooser.find("name=\"phone\"").unwrap(), chooser.find("/auth/2fa/totp").unwrap());
    assert!(sms < app, "SMS is offered first");

    let r = form(&c, &env, "/auth/2fa/sms", &[("phone", "090-1234-5678"), ("rd", "/files")]).await;
    assert_eq!(r.status(), 200);
    let codes = env.sms_codes(PHONE);
    assert_eq!(codes.len(), 1, "one SMS to the normalised number");
    let wrong = if codes[0] == "000000" { "111111" } else { "000000" };
    assert_eq!(form(&c, &env, "/auth/2fa/sms", &[("code", wrong), ("rd", "/files")]).await.status(), 400);
    let r = form(&c, &env, "/auth/2fa/sms", &[("code", &codes[0]), ("rd", "/files")]).await;
    assert_eq!(r.status(), 303);
    save_recovery_code(&c, &env).await;
    let echo = Echo::from(c.get(env.url(ORDINARY, "/files")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-method"), Some("password+sms"));
    env.wait_mail(ALICE, "SMS", 1).await;

    // Next sign-in: the enrolled phone gets a code; no new enrolment.
    let c2 = env.client("127.0.0.5");
    assert_eq!(login(&c2, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    assert_eq!(form(&c2, &env, "/auth/2fa/sms", &[("send", "1"), ("rd", "/files")]).await.status(), 200);
    let code = env.sms_codes(PHONE).pop().unwrap();
    let r = form(&c2, &env, "/auth/2fa/sms", &[("code", &code), ("rd", "/files")]).await;
    assert_eq!(location(&r), VERIFIED, "an enrolled user goes back through the completion screen");
    verified(&c2, &env).await;
    assert_eq!(c2.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200);
    env.cleanup().await;
}
on_both_databases!(sms_enrolment);

async fn totp_and_recovery(db: Db) {
    let Some(env) = started(db).await else { return };
    let c = env.client(INTERNET);
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    let secret = enrol_totp(&c, &env, false).await;
    let recovery = save_recovery_code(&c, &env).await;
    let echo = Echo::from(c.get(env.url(ORDINARY, "/files")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-method"), Some("password+totp"));

    // The enrolment code cannot be replayed; nor can a code from 3 steps ago; the next step works.
    let c2 = env.client("127.0.0.5");
    assert_eq!(login(&c2, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    let now = unix_now();
    let same = gateway::second_factor::code_at(&secret, now);
    assert_eq!(form(&c2, &env, "/auth/2fa/totp", &[("code", &same)]).await.status(), 400, "replayed code");
    let old = gateway::second_factor::code_at(&secret, now - 90);
    assert_eq!(form(&c2, &env, "/auth/2fa/totp", &[("code", &old)]).await.status(), 400, "code from 3 steps ago");
    let next = gateway::second_factor::code_at(&secret, now + 30);
    let r = form(&c2, &env, "/auth/2fa/totp", &[("code", &next), ("rd", "/files")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), VERIFIED);

    // The recovery code as a person pastes it: lower case, spaces, hyphens.
    let c3 = env.client("127.0.0.6");
    assert_eq!(login(&c3, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    let pasted = format!(" {} ", recovery.to_lowercase().replace('-', " - "));
    let r = form(&c3, &env, "/auth/2fa/recovery", &[("code", &pasted), ("rd", "/files")]).await;
    assert_eq!(r.status(), 303);
    let fresh = save_recovery_code(&c3, &env).await;
    assert_ne!(fresh, recovery, "a new code replaces the used one");
    let echo = Echo::from(c3.get(env.url(ORDINARY, "/files")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-method"), Some("password+recovery"));
    env.wait_mail(ALICE, "recovery", 1).await;

    // The old code is dead; of two racing uses of the new one exactly one wins.
    let (a, b) = (env.client("127.0.0.7"), env.client("127.0.0.8"));
    assert_eq!(login(&a, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    assert_eq!(login(&b, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    assert_eq!(form(&a, &env, "/auth/2fa/recovery", &[("code", &recovery)]).await.status(), 400);
    let fields = [("code", fresh.as_str())];
    let (ra, rb) =
        tokio::join!(form(&a, &env, "/auth/2fa/recovery", &fields), form(&b, &env, "/auth/2fa/recovery", &fields));
    let wins = [ra.status(), rb.status()].iter().filter(|s| s.as_u16() == 303).count();
    assert_eq!(wins, 1, "exactly one concurrent use succeeds: {} {}", ra.status(), rb.status());

    // Too many wrong codes end the pending login (a fresh user: Alice has used up
    // her per-user allowance of code entries for this minute, which is also a limit).
    let out = env.cli(
        &["user", "add", "dave@acme.example", "--tenant", "acme", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success());
    let d = env.client("127.0.0.9");
    assert_eq!(login(&d, &env, ORDINARY, "dave@acme.example", PASSWORD, &[]).await.status(), 303);
    let mut last = 0;
    for _ in 0..5 {
        last = form(&d, &env, "/auth/2fa/totp", &[("code", "12345")]).await.status().as_u16();
    }
    assert_eq!(last, 401);
    assert_eq!(d.get(env.url(ORDINARY, "/auth/2fa")).send().await.unwrap().status(), 303, "back to the login form");
    env.cleanup().await;
}
on_both_databases!(totp_and_recovery);

async fn remembered_browser(db: Db) {
    let Some(mut env) = started(db).await else { return };
    let c = env.client(INTERNET);
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    enrol_totp(&c, &env, true).await;
    save_recovery_code(&c, &env).await;
    assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200);

    // Signed out and in again in the same browser: no second step.
    let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    c.post(env.url(ORDINARY, "/auth/logout")).form(&[("csrf", csrf_from(&page))]).send().await.unwrap();
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    let echo = Echo::from(c.get(env.url(ORDINARY, "/files")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-method"), Some("password+remembered"));
    // Another browser is asked.
    let other = env.client("127.0.0.5");
    assert_eq!(login(&other, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    assert_eq!(other.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 401);
    sudo(&c, &env, ORDINARY, PASSWORD).await;
    let devices = c.get(env.url(ORDINARY, "/auth/devices")).send().await.unwrap().text().await.unwrap();
    assert!(devices.contains("name=\"id\""), "the browser is listed");

    // 31 days without access: asked again, even in the remembered browser.
    env.restart_with(&[("GATEWAY_CLOCK_OFFSET", &(31 * 86400).to_string())]).await;
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 401, "2FA asked after 31 days");
    env.cleanup().await;
}
on_both_databases!(remembered_browser);

async fn reset_asks_again(db: Db) {
    let Some(env) = started(db).await else { return };
    let c = env.client(INTERNET);
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    enrol_totp(&c, &env, true).await;
    save_recovery_code(&c, &env).await;
    // A password reset forgets enrolment and remembered browsers.
    let r = form(&c, &env, "/auth/password/forgot", &[("email", ALICE)]).await;
    assert_eq!(r.status(), 200);
    let link =
        link_path(&env.wait_mail(ALICE, "/auth/password/reset?ticket=", 1).await, "/auth/password/reset?ticket=");
    let page = c.get(env.url(ORDINARY, &link)).send().await.unwrap().text().await.unwrap();
    let r = c
        .post(env.url(ORDINARY, &link))
        .form(&[("password", "An0ther-Pass"), ("password_confirm", "An0ther-Pass"), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(login(&c, &env, ORDINARY, ALICE, "An0ther-Pass", &[]).await.status(), 303);
    assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 401, "2FA asked again");
    let chooser = c.get(env.url(ORDINARY, "/auth/2fa")).send().await.unwrap().text().await.unwrap();
    assert!(chooser.contains("name=\"phone\""), "enrolment starts over");
    env.cleanup().await;
}
on_both_databases!(reset_asks_again);

/// A signed-in user registers a new phone after a code from the current one;
/// the session cookie alone (no current code) changes nothing.
async fn change_phone(db: Db) {
    let Some(env) = started(db).await else { return };
    let c = env.client(INTERNET);
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    assert_eq!(form(&c, &env, "/auth/2fa/sms", &[("phone", "090-1234-5678"), ("rd", "/files")]).await.status(), 200);
    let code = env.sms_codes(PHONE).pop().unwrap();
    assert_eq!(form(&c, &env, "/auth/2fa/sms", &[("code", &code), ("rd", "/files")]).await.status(), 303);
    save_recovery_code(&c, &env).await;
    sudo(&c, &env, ORDINARY, PASSWORD).await;
    let page = c.get(env.url(ORDINARY, "/auth/settings/phone")).send().await.unwrap();
    assert_eq!(page.status(), 200);

    const NEW: &str = "+819087654321";
    let guess = [("step", "prove"), ("method", "sms"), ("code", "000000"), ("phone", "090-8765-4321")];
    assert_eq!(form(&c, &env, "/auth/settings/phone", &guess).await.status(), 400, "no current code");
    let forged = [("step", "confirm"), ("ticket", "made-up"), ("code", "123456"), ("phone", NEW)];
    assert_eq!(form(&c, &env, "/auth/settings/phone", &forged).await.status(), 400, "no proof");
    assert!(env.sms_codes(NEW).is_empty(), "nothing sent to the new number without a proof");

    assert_eq!(form(&c, &env, "/auth/settings/phone", &[("step", "send")]).await.status(), 200);
    let current = env.sms_codes(PHONE).pop().unwrap();
    let prove = [("step", "prove"), ("method", "sms"), ("code", current.as_str()), ("phone", "090-8765-4321")];
    let r = form(&c, &env, "/auth/settings/phone", &prove).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let ticket = between(&page, "name=\"ticket\" value=\"", "\"").to_owned();
    let code = env.sms_codes(NEW).pop().expect("a code to the new number");
    let confirm = [("step", "confirm"), ("ticket", ticket.as_str()), ("code", code.as_str()), ("phone", NEW)];
    let r = form(&c, &env, "/auth/settings/phone", &confirm).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("new phone number is registered"));
    env.wait_mail(ALICE, "phone number", 1).await;
    let audit = env.ok(&["audit", "--tenant", "acme"]);
    assert!(audit.contains("second_factor_changed:sms"), "{audit}");

    // The next sign-in texts the new number.
    let c2 = env.client("127.0.0.5");
    assert_eq!(login(&c2, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    assert_eq!(form(&c2, &env, "/auth/2fa/sms", &[("send", "1"), ("rd", "/files")]).await.status(), 200);
    assert_eq!(env.sms_codes(NEW).len(), 2, "the second code went to the new number");
    env.cleanup().await;
}
on_both_databases!(change_phone);

async fn line_consent_once(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.seed_tenant("acme", ALICE, "user");
    env.ok(&["tenant", "lines", "add", "acme", "COP12345678"]);
    env.start().await;
    let carrier = env.client(CARRIER);
    let headers = [("x-line-id", "COP12345678"), ("x-line-region", "west")];
    let r = login(&carrier, &env, LINE_HOST, ALICE, PASSWORD, &headers).await;
    assert_eq!(r.status(), 200, "the consent screen");
    let page = r.text().await.unwrap();
    assert!(page.contains("COP12345678") && page.contains("name=\"agree\""));
    let r = carrier
        .post(env.url(LINE_HOST, "/auth/line-consent"))
        .headers(headers.iter().map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap())).collect())
        .form(&[("agree", "1"), ("rd", "/files"), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = carrier.get(env.url(LINE_HOST, "/files")).header("x-line-id", "COP12345678").send().await.unwrap();
    assert_eq!(Echo::from(r).await.get("x-auth-method"), Some("password+line"));
    // Not asked again for the same line, from another browser either.
    let again = env.client(CARRIER);
    assert_eq!(login(&again, &env, LINE_HOST, ALICE, PASSWORD, &headers).await.status(), 303);
    // A region from outside the carrier network is not believed (and the line is not either).
    let outside = env.client(INTERNET);
    assert_eq!(login(&outside, &env, LINE_HOST, ALICE, PASSWORD, &headers).await.status(), 403);
    env.cleanup().await;
}
on_both_databases!(line_consent_once);
