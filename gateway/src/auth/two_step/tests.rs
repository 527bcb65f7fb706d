//! The 2-step pages run through `web::handle` without a proxy: the second
//! step ends on the "verification complete" screen, and changing the phone
//! or app needs a current factor, whoever holds the session cookie.

use crate::auth::testing::{World, call, location, post, request, session_set, world};
use crate::second_factor as sf;
use crate::store::{UserRow, now};
use crate::web::{Method, Reply};

const USER: &str = "user@acme.example";
const PHONE: &str = "+819012345678";

async fn user(w: &World) -> UserRow {
    w.app.store.user_by_email(USER).await.unwrap().unwrap()
}

/// Sets up the user's phone and app; returns the app's secret and the recovery code.
async fn enrolled(w: &World) -> (Vec<u8>, String) {
    let u = user(w).await;
    w.app.store.enrol_sms(u.id, PHONE).await.unwrap();
    let secret = sf::new_secret();
    w.app.store.enrol_totp(u.id, &w.app.totp_key.encrypt(u.id, &secret), 0).await.unwrap();
    (secret, w.accounts().new_recovery_code(&u).await.unwrap())
}

/// The newest code the SMS file transport wrote to `to`.
fn sms_to(w: &World, to: &str) -> Option<String> {
    let dir = std::fs::read_dir(w.dir.path().join("sms")).ok()?;
    let mut found: Vec<(std::time::SystemTime, String)> = dir
        .filter_map(|e| {
            let path = e.ok()?.path();
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
            if v["to"] != to {
                return None;
            }
            Some((std::fs::metadata(&path).ok()?.modified().ok()?, v["code"].as_str()?.to_owned()))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, code)| code)
}

/// The value of a hidden field of the page.
fn hidden(r: &Reply, name: &str) -> String {
    let body = r.body_text();
    let marker = format!("name=\"{name}\" value=\"");
    let at = body.find(&marker).unwrap_or_else(|| panic!("no {name} in {body}")) + marker.len();
    body[at..].split('"').next().unwrap().to_owned()
}

async fn phone_of(w: &World) -> Option<String> {
    w.app.store.enrolment(user(w).await.id).await.unwrap().sms_phone
}

#[tokio::test]
async fn a_right_code_leads_to_the_verification_complete_screen_then_on() {
    let w = world().await;
    let (secret, _) = enrolled(&w).await;
    let pending = w.session(USER, None, false).await;
    let code = sf::code_at(&secret, now());
    let r = call(&w, post("/auth/2fa/totp", Some(&pending), &[("code", &code), ("rd", "/files/a.txt")])).await;
    assert_eq!(r.status, 303, "{}", r.body_text());
    assert_eq!(location(&r), "/auth/verified?rd=%2Ffiles%2Fa%2Etxt");
    let signed_in = session_set(&r).expect("a new session");
    assert_ne!(signed_in, pending);

    let r = call(&w, request(Method::Get, "/auth/verified?rd=%2Ffiles%2Fa%2Etxt", Some(&signed_in), None)).await;
    assert_eq!(r.status, 200);
    let body = r.body_text();
    assert!(body.contains("2-step verification is complete"), "{body}");
    assert!(body.contains("href=\"/files/a.txt\""), "the way on: {body}");
    // Nobody else is told anything is complete; an outside return path never survives.
    let r = call(&w, request(Method::Get, "/auth/verified?rd=%2Ffiles", None, None)).await;
    assert_eq!((r.status, location(&r)), (303, "/files"));
    let r = call(&w, request(Method::Get, "/auth/verified?rd=//evil.example/", Some(&signed_in), None)).await;
    assert!(r.body_text().contains("href=\"/\""), "{}", r.body_text());
}

#[tokio::test]
async fn a_recovery_code_sign_in_shows_the_new_code_before_completing() {
    let w = world().await;
    let (_, recovery) = enrolled(&w).await;
    let pending = w.session(USER, None, false).await;
    let r = call(&w, post("/auth/2fa/recovery", Some(&pending), &[("code", &recovery), ("rd", "/files")])).await;
    assert_eq!((r.status, location(&r)), (303, "/auth/recovery-code?rd=%2Ffiles"));
    let held = session_set(&r).unwrap();
    let page = call(&w, request(Method::Get, "/auth/recovery-code?rd=%2Ffiles", Some(&held), None)).await;
    assert!(page.body_text().contains("letter-spacing:.05em\"><strong>"), "{}", page.body_text());
    let r = call(&w, post("/auth/recovery-code", Some(&held), &[("saved", "1"), ("rd", "/files")])).await;
    assert_eq!((r.status, location(&r)), (303, "/auth/verified?rd=%2Ffiles"));
}

#[tokio::test]
async fn a_wrong_code_is_shown_next_to_its_field() {
    let w = world().await;
    enrolled(&w).await;
    let pending = w.session(USER, None, false).await;
    let r = call(&w, post("/auth/2fa/totp", Some(&pending), &[("code", "000000")])).await;
    assert_eq!(r.status, 400);
    assert!(r.body_text().contains("id=\"code-error\" class=\"field-error\""), "{}", r.body_text());
}

#[tokio::test]
async fn a_stolen_session_cookie_without_a_current_factor_cannot_change_the_phone() {
    let w = world().await;
    enrolled(&w).await;
    let stolen = w.user.clone();
    // No proof: a made-up or missing ticket changes nothing, and sends no SMS.
    for ticket in ["", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "made-up"] {
        let fields = [("step", "confirm"), ("ticket", ticket), ("code", "123456")];
        let r = call(&w, post("/auth/settings/phone", Some(&stolen), &fields)).await;
        assert_eq!(r.status, 400, "{ticket}: {}", r.body_text());
        let fields = [("step", "resend"), ("ticket", ticket), ("phone", "090-8765-4321")];
        assert_eq!(call(&w, post("/auth/settings/phone", Some(&stolen), &fields)).await.status, 400);
    }
    assert!(sms_to(&w, "+819087654321").is_none(), "no SMS to a number of the thief's choosing");
    assert_eq!(phone_of(&w).await.as_deref(), Some(PHONE));

    // Guessed codes are wrong codes: counted toward the lock, which then refuses all.
    let u = user(&w).await;
    for _ in 0..w.app.cfg.login.second_factor_lock_after - 2 {
        w.app.store.record_user_factor_failure(u.id).await.unwrap();
    }
    let guess = [("step", "prove"), ("method", "totp"), ("code", "000000"), ("phone", "090-8765-4321")];
    assert_eq!(call(&w, post("/auth/settings/phone", Some(&stolen), &guess)).await.status, 400);
    let r = call(&w, post("/auth/settings/phone", Some(&stolen), &guess)).await;
    assert_eq!(r.status, 403, "the limit locks the second factor");
    assert!(r.body_text().contains("locked"), "{}", r.body_text());
    assert!(w.app.store.second_factor_locked(u.id).await.unwrap());
    assert!(sms_to(&w, "+819087654321").is_none());
    assert_eq!(phone_of(&w).await.as_deref(), Some(PHONE));
}

#[tokio::test]
async fn changing_the_phone_with_a_code_from_the_current_one() {
    let w = world().await;
    enrolled(&w).await;
    let s = w.user.clone();
    let r = call(&w, request(Method::Get, "/auth/settings/phone", Some(&s), None)).await;
    assert_eq!(r.status, 200);
    assert!(r.body_text().contains("value=\"recovery\""), "the recovery code is offered");

    let r = call(&w, post("/auth/settings/phone", Some(&s), &[("step", "send")])).await;
    assert_eq!(r.status, 200, "{}", r.body_text());
    let current = sms_to(&w, PHONE).expect("a code to the current phone");
    // A typo in the new number is caught before the code is looked at.
    let typo = [("step", "prove"), ("method", "sms"), ("code", &current), ("phone", "12")];
    let r = call(&w, post("/auth/settings/phone", Some(&s), &typo)).await;
    assert_eq!(r.status, 400);
    assert!(r.body_text().contains("id=\"phone-error\""), "{}", r.body_text());

    let prove = [("step", "prove"), ("method", "sms"), ("code", &current), ("phone", "090-8765-4321")];
    let r = call(&w, post("/auth/settings/phone", Some(&s), &prove)).await;
    assert_eq!(r.status, 200, "{}", r.body_text());
    let ticket = hidden(&r, "ticket");
    let new = sms_to(&w, "+819087654321").expect("a code to the new number");
    // "Send a new code" goes only to the number the code went to: one proof
    // does not let anyone text numbers of their choosing.
    let elsewhere = [("step", "resend"), ("ticket", ticket.as_str()), ("phone", "090-1111-2222")];
    let r = call(&w, post("/auth/settings/phone", Some(&s), &elsewhere)).await;
    assert_eq!(r.status, 400);
    assert!(r.body_text().contains("Confirm that it is you again"), "{}", r.body_text());
    assert!(sms_to(&w, "+819011112222").is_none(), "nothing went to the other number");
    let fields = [("step", "confirm"), ("ticket", ticket.as_str()), ("code", &new), ("phone", "+819087654321")];
    let r = call(&w, post("/auth/settings/phone", Some(&s), &fields)).await;
    assert_eq!(r.status, 200, "{}", r.body_text());
    assert!(r.body_text().contains("new phone number is registered"));
    assert_eq!(phone_of(&w).await.as_deref(), Some("+819087654321"));
    // The ticket worked once.
    let r = call(&w, post("/auth/settings/phone", Some(&s), &fields)).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn changing_the_app_with_the_recovery_code_shows_a_new_one() {
    let w = world().await;
    let (old, recovery) = enrolled(&w).await;
    let s = w.user.clone();
    let r = call(
        &w,
        post(
            "/auth/settings/authenticator",
            Some(&s),
            &[("step", "prove"), ("method", "recovery"), ("code", &recovery)],
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body_text());
    assert!(r.body_text().contains("<svg"), "a QR code for the new app");
    assert!(r.body_text().contains("letter-spacing:.05em\"><strong>"), "the used recovery code is replaced at once");
    let ticket = hidden(&r, "ticket");
    let body = r.body_text();
    let key = body.split("word-break:break-all\">").nth(1).unwrap().split('<').next().unwrap();
    let secret = base32(key);
    assert_ne!(secret, old);
    let code = sf::code_at(&secret, now());
    let r = call(
        &w,
        post("/auth/settings/authenticator", Some(&s), &[("step", "confirm"), ("ticket", &ticket), ("code", &code)]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body_text());
    let body = r.body_text();
    assert!(body.contains("new authenticator app is registered"), "{body}");
    // The old recovery code is gone: signing in with it fails.
    let pending = w.session(USER, None, false).await;
    let r = call(&w, post("/auth/2fa/recovery", Some(&pending), &[("code", &recovery)])).await;
    assert_eq!(r.status, 400);
}

fn base32(text: &str) -> Vec<u8> {
    let (mut bits, mut nbits, mut out) = (0u32, 0, Vec::new());
    for c in text.chars() {
        bits = (bits << 5) | "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".find(c).unwrap() as u32;
        nbits += 5;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    out
}

#[tokio::test]
async fn a_number_we_cannot_text_is_refused_before_the_recovery_code_is_used() {
    let w = world().await;
    let (_, recovery) = enrolled(&w).await;
    let s = w.user.clone();
    let abroad = [("step", "prove"), ("method", "recovery"), ("code", recovery.as_str()), ("phone", "+44 7700 900123")];
    let r = call(&w, post("/auth/settings/phone", Some(&s), &abroad)).await;
    assert_eq!(r.status, 400);
    assert!(r.body_text().contains("id=\"phone-error\""), "{}", r.body_text());
    assert!(sms_to(&w, "+447700900123").is_none());
    // The recovery code was not looked at: it still proves it.
    let home = [("step", "prove"), ("method", "recovery"), ("code", recovery.as_str()), ("phone", "090-8765-4321")];
    let r = call(&w, post("/auth/settings/phone", Some(&s), &home)).await;
    assert_eq!(r.status, 200, "{}", r.body_text());
    assert!(r.body_text().contains("letter-spacing:.05em\"><strong>"), "a new recovery code, shown at once");
}
