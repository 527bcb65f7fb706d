//! SPEC section 11: "Break-glass (the owner switching back from the internet
//! under `line-only`) needs more than the password: a one-time code mailed to
//! the owner's address, or an enrolled second factor. Its use is mailed to the
//! owner and the admins."
//!
//! Someone holding only the owner's password, from the internet, under
//! `line-only`: the password must not open the route page (from where the
//! internet could be turned back on and a factor of the attacker's choosing
//! enrolled). The mailed code is single use, short-lived and must match.

use crate::code_guessing::exec_sql;
use crate::support::*;

const BOSS: &str = "boss@acme.example";
const ADMIN: &str = "adm@acme.example";
const USER: &str = "ann@acme.example";

/// The six-digit code in a mail.
fn code_in(body: &str) -> String {
    body.split(|c: char| !c.is_ascii_digit()).find(|t| t.len() == 6).expect("a code in the mail").to_owned()
}

fn flip(code: &str) -> String {
    code.chars().map(|c| char::from(b'0' + (c as u8 - b'0' + 5) % 10)).collect()
}

/// The route page stays closed: it sends to the re-authentication, and a posted
/// switch does not happen.
async fn route_closed(c: &reqwest::Client, env: &Env, what: &str) {
    let r = c.get(env.url(ORDINARY, "/auth/settings/route")).send().await.unwrap();
    assert_eq!(r.status(), 303, "{what}: route page");
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/auth/settings/login"), "{what}");
    let r = post_form(c, env, "/auth/settings/route", &[("route", "line-and-internet"), ("step", "apply")]).await;
    assert_eq!(r.status(), 303, "{what}: route switch");
    let out = env.ok(&["policy", "explain", "--host", ORDINARY, "--ip", INTERNET, "--user", USER, "--json"]);
    assert!(!out.contains("\"allow\""), "{what}: still line-only:\n{out}");
}

async fn password(c: &reqwest::Client, env: &Env, pw: &str) -> reqwest::Response {
    let page = c.get(env.url(ORDINARY, "/auth/settings/login?rd=/auth/settings")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the owner reaches the re-authentication (break-glass)");
    let csrf = csrf_from(&page.text().await.unwrap());
    c.post(env.url(ORDINARY, "/auth/settings/login"))
        .form(&[("password", pw), ("rd", "/auth/settings"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
}

async fn code(c: &reqwest::Client, env: &Env, code: &str) -> reqwest::Response {
    post_form(c, env, "/auth/settings/login", &[("step", "code"), ("code", code), ("rd", "/auth/settings")]).await
}

async fn break_glass_needs_the_mailed_code(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.ok(&["tenant", "create", "acme", "--owner", BOSS]);
    env.ok(&["tenant", "lines", "add", "acme", "CAF0000000001"]);
    for (email, role) in [(ADMIN, "admin"), (USER, "user")] {
        let out = env.cli(
            &["user", "add", email, "--tenant", "acme", "--role", role, "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
        );
        assert!(out.status.success());
    }
    env.ok(&["tenant", "set-route", "acme", "line-only"]);
    env.start().await;
    let out = env.ok(&["tenant", "invite-owner", "acme"]);
    let link =
        link_path(out.lines().find(|l| l.contains("/auth/invite?ticket=")).expect("link"), "/auth/invite?ticket=");
    let boss = env.client(INTERNET);
    let page = boss.get(env.url(ORDINARY, &link)).send().await.unwrap().text().await.unwrap();
    let r = boss
        .post(env.url(ORDINARY, &link))
        .form(&[("password", PASSWORD), ("password_confirm", PASSWORD), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(login(&boss, &env, ORDINARY, BOSS, PASSWORD, &[]).await.status(), 303);
    let origin_before = env.origin_count();

    // The password alone: a code page, not the settings.
    let r = password(&boss, &env, PASSWORD).await;
    assert_eq!(r.status(), 200, "a second step follows the password");
    assert!(r.text().await.unwrap().contains("name=\"step\" value=\"code\""));
    route_closed(&boss, &env, "password alone").await;
    let first = code_in(&env.wait_mail(BOSS, "Confirmation code", 1).await);

    // A wrong code is refused.
    assert_eq!(code(&boss, &env, &flip(&first)).await.status(), 400);
    route_closed(&boss, &env, "wrong code").await;

    // An expired code is refused (ten minutes pass).
    exec_sql(&env, "UPDATE break_glass_codes SET expires_at = 0").await;
    assert_eq!(code(&boss, &env, &first).await.status(), 400);
    route_closed(&boss, &env, "expired code").await;

    // A code without the password first is refused.
    let other = env.client(INTERNET);
    assert_eq!(login(&other, &env, ORDINARY, BOSS, PASSWORD, &[]).await.status(), 303);
    assert_eq!(code(&other, &env, &first).await.status(), 400);
    route_closed(&other, &env, "code without password").await;

    // Password again: a new code; it opens the settings, once.
    assert_eq!(password(&boss, &env, PASSWORD).await.status(), 200);
    let second = code_in(&env.wait_mail(BOSS, "Confirmation code", 2).await);
    let r = code(&boss, &env, &second).await;
    assert_eq!(r.status(), 303, "the right code opens the gate");
    assert_eq!(boss.get(env.url(ORDINARY, "/auth/settings/route")).send().await.unwrap().status(), 200);
    // Reused in another session after its own password: refused.
    assert_eq!(password(&other, &env, PASSWORD).await.status(), 200);
    assert_eq!(code(&other, &env, &second).await.status(), 400, "a used code");
    assert_eq!(other.get(env.url(ORDINARY, "/auth/settings/route")).send().await.unwrap().status(), 303);

    // The owner and the admins are told; a plain user is not.
    env.wait_mail(ADMIN, INTERNET, 1).await;
    env.wait_mail(BOSS, INTERNET, 1).await;
    assert!(env.mails_to(USER).is_empty(), "users are not told");
    assert_eq!(env.origin_count(), origin_before, "nothing reached the origin");

    let r = post_form(&boss, &env, "/auth/settings/route", &[("route", "line-and-internet"), ("step", "apply")]).await;
    assert_eq!(r.status(), 200);
    let audit = env.ok(&["audit", "--tenant", "acme"]);
    for event in ["break_glass_code_sent", "break_glass_code_failure", "reauth_success:break_glass", "route_set"] {
        assert!(audit.contains(event), "{event}:\n{audit}");
    }
    env.cleanup().await;
}
on_both_databases!(break_glass_needs_the_mailed_code);
