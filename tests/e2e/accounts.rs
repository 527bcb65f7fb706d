//! The account life of a password user: lockout, emailed links, invitations,
//! email and password change, forms that cannot be abused.

use std::time::Duration;

use crate::on_both_databases;
use crate::support::*;

const ALICE: &str = "alice@acme.example";

async fn started(db: Db, throttle: u32) -> Option<Env> {
    let mut env = Env::new(db).await?;
    env.tweak_config("  hash_concurrency: 2\n", &format!("  hash_concurrency: 2\n  throttle_per_minute: {throttle}\n"));
    env.seed_tenant("acme", ALICE, "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    Some(env)
}

/// The login page's body with its CSRF token blanked out.
async fn refusal_body(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    let token = csrf_from(&body);
    (status, body.replace(&token, "TOKEN"))
}

async fn lockout_and_unlock(db: Db) {
    let Some(mut env) = started(db, 0).await else { return };
    let c = env.client(INTERNET);

    // Nine wrong, then right: the count starts again.
    for _ in 0..9 {
        assert_eq!(login(&c, &env, ORDINARY, ALICE, "Wrong-pass1", &[]).await.status(), 401);
    }
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    assert!(env.mails_to(ALICE).is_empty(), "no lock after nine");

    // Exactly ten in a row lock; then even the right password gets the same answer.
    for _ in 0..9 {
        login(&c, &env, ORDINARY, ALICE, "Wrong-pass1", &[]).await;
    }
    let wrong = refusal_body(login(&c, &env, ORDINARY, ALICE, "Wrong-pass1", &[]).await).await;
    let locked = refusal_body(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await).await;
    let unknown = refusal_body(login(&c, &env, ORDINARY, "nobody@acme.example", PASSWORD, &[]).await).await;
    assert_eq!(wrong.0, 401);
    assert_eq!(locked, wrong, "a locked account must look like a wrong password");
    assert_eq!(unknown, wrong, "an unknown email must look like a wrong password");
    // The session that was open is gone with the lock.
    assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 401);

    // The unlock mail, its link once, then signing in again.
    let mail = env.wait_mail(ALICE, "/auth/unlock?ticket=", 1).await;
    let link = link_path(&mail, "/auth/unlock?ticket=");
    assert_eq!(c.get(env.url(ORDINARY, &link)).send().await.unwrap().status(), 200);
    assert_eq!(c.get(env.url(ORDINARY, &link)).send().await.unwrap().status(), 410, "an unlock link works once");
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);

    // A link older than 14 days is dead: lock again and look at the link 15 days later.
    for _ in 0..10 {
        login(&c, &env, ORDINARY, ALICE, "Wrong-pass1", &[]).await;
    }
    let mail = env.wait_mail(ALICE, "/auth/unlock?ticket=", 2).await;
    let link = link_path(&mail, "/auth/unlock?ticket=");
    env.restart_with(&[("GATEWAY_CLOCK_OFFSET", &(15 * 86400).to_string())]).await;
    let r = c.get(env.url(ORDINARY, &link)).send().await.unwrap();
    assert_eq!(r.status(), 410);
    assert!(r.text().await.unwrap().contains("can no longer be used"));

    // Operators can unlock from the command line.
    env.ok(&["user", "unlock", ALICE]);
    eventually("CLI unlock applies", || async {
        login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status() == 303
    })
    .await;

    let audit = env.ok(&["audit", "--tenant", "acme"]);
    for event in ["login_failure", "lock", "unlock", "login_success"] {
        assert!(audit.contains(event), "audit lacks {event}:\n{audit}");
    }
    env.cleanup().await;
}
on_both_databases!(lockout_and_unlock);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttle_stops_a_stranger_locking_accounts() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.ok(&["tenant", "create", "acme", "--owner", "owner@acme.example"]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    let victims: Vec<String> = (0..6).map(|i| format!("v{i}@acme.example")).collect();
    for v in &victims {
        let out = env.cli(&["user", "add", v, "--tenant", "acme", "--password-stdin"], Some(&format!("{PASSWORD}\n")));
        assert!(out.status.success());
    }
    env.start().await; // the default throttle: 30 attempts a minute per address
    let stranger = env.client(INTERNET);
    let mut throttled = 0;
    for v in &victims {
        for _ in 0..10 {
            if login(&stranger, &env, ORDINARY, v, "Wrong-pass1", &[]).await.status() == 429 {
                throttled += 1;
            }
        }
    }
    assert!(throttled > 0, "the stranger was never throttled");
    let victim = env.client("127.0.0.5");
    let mut locked = 0;
    for v in &victims {
        if login(&victim, &env, ORDINARY, v, PASSWORD, &[]).await.status() != 303 {
            locked += 1;
        }
    }
    assert!(locked <= 3, "{locked} accounts locked by one address in a minute");
    env.cleanup().await;
}

async fn password_reset(db: Db) {
    let Some(env) = started(db, 0).await else { return };
    let a = env.client(INTERNET);
    let b = env.client("127.0.0.5");
    assert_eq!(login(&a, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    assert_eq!(a.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200);
    // Lock the account too: a reset unlocks it.
    for _ in 0..10 {
        login(&b, &env, ORDINARY, ALICE, "Wrong-pass1", &[]).await;
    }

    // The start page answers alike for known and unknown addresses.
    let forgot = |email: &'static str| {
        let b = b.clone();
        let url = env.url(ORDINARY, "/auth/password/forgot");
        async move {
            let page = b.get(&url).send().await.unwrap().text().await.unwrap();
            let r = b.post(&url).form(&[("email", email), ("csrf", &csrf_from(&page))]).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap().replace(email, "EMAIL"))
        }
    };
    let known = forgot(ALICE).await;
    let unknown = forgot("nobody@acme.example").await;
    assert_eq!(known, unknown);
    assert_eq!(known.0, 200);
    let first =
        link_path(&env.wait_mail(ALICE, "/auth/password/reset?ticket=", 1).await, "/auth/password/reset?ticket=");
    forgot(ALICE).await;
    let second =
        link_path(&env.wait_mail(ALICE, "/auth/password/reset?ticket=", 2).await, "/auth/password/reset?ticket=");
    assert_ne!(first, second);
    assert_eq!(b.get(env.url(ORDINARY, &first)).send().await.unwrap().status(), 410, "a newer link voids the older");

    // Rule failures are explained next to the field, and do not use the link up.
    let page = b.get(env.url(ORDINARY, &second)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("At least 8 characters"));
    let csrf = csrf_from(&page);
    let r = b
        .post(env.url(ORDINARY, &second))
        .form(&[("password", "alllowercase"), ("password_confirm", "alllowercase"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("field-error"));
    let new_password = "N3w-Password!";
    let r = b
        .post(env.url(ORDINARY, &second))
        .form(&[("password", new_password), ("password_confirm", new_password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(b.get(env.url(ORDINARY, &second)).send().await.unwrap().status(), 410, "a reset link works once");

    // The session open elsewhere is gone; the old password fails; the new one works (so the lock is gone).
    eventually("the other client's session is revoked", || async {
        a.get(env.url(ORDINARY, "/files")).send().await.map(|r| r.status() == 401).unwrap_or(false)
    })
    .await;
    assert_eq!(login(&b, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 401);
    assert_eq!(login(&b, &env, ORDINARY, ALICE, new_password, &[]).await.status(), 303);
    env.wait_mail(ALICE, "password", 1).await;
    env.cleanup().await;
}
on_both_databases!(password_reset);

async fn invitation_and_email_change(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    let out = env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example", "--plan", "basic"]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let boss = env.client(INTERNET);
    let invite = out.lines().find(|l| l.contains("/auth/invite?ticket=")).unwrap().trim().to_owned();
    let invite = link_path(&invite, "/auth/invite?ticket=");
    set_password(&boss, &env, &invite, PASSWORD).await;
    assert_eq!(login(&boss, &env, ORDINARY, "boss@acme.example", PASSWORD, &[]).await.status(), 303);

    // The owner invites Bob from the admin page; Bob registers from the mail.
    sudo(&boss, &env, ORDINARY, PASSWORD).await;
    let page = boss.get(env.url(ORDINARY, "/auth/admin/users")).send().await.unwrap().text().await.unwrap();
    let r = boss
        .post(env.url(ORDINARY, "/auth/admin/users"))
        .form(&[("email", "Bob@Acme.example"), ("role", "user"), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mail = env.wait_mail("bob@acme.example", "/auth/invite?ticket=", 1).await;
    let bob = env.client("127.0.0.5");
    set_password(&bob, &env, &link_path(&mail, "/auth/invite?ticket="), PASSWORD).await;
    assert_eq!(login(&bob, &env, ORDINARY, "bob@acme.example", PASSWORD, &[]).await.status(), 303);
    // A user may not invite.
    sudo(&bob, &env, ORDINARY, PASSWORD).await;
    assert_eq!(bob.get(env.url(ORDINARY, "/auth/admin/users")).send().await.unwrap().status(), 403);
    assert_eq!(bob.get(env.url(ORDINARY, "/auth/email/change")).send().await.unwrap().status(), 403);

    // The owner changes their email: a link to the new address, a notice to the old one.
    let page = boss.get(env.url(ORDINARY, "/auth/email/change")).send().await.unwrap().text().await.unwrap();
    let form = [
        ("new_email", "chief@acme.example"),
        ("new_email_confirm", "chief@acme.example"),
        ("current_password", PASSWORD),
        ("csrf", &csrf_from(&page)),
    ];
    assert_eq!(boss.post(env.url(ORDINARY, "/auth/email/change")).form(&form).send().await.unwrap().status(), 200);
    let mail = env.wait_mail("chief@acme.example", "/auth/email/confirm?ticket=", 1).await;
    let confirm = link_path(&mail, "/auth/email/confirm?ticket=");
    let other = env.client("127.0.0.6");
    set_password(&other, &env, &confirm, "Chief-Pass9").await;
    env.wait_mail("boss@acme.example", "chief@acme.example", 1).await;
    eventually("the owner's old session ends", || async {
        boss.get(env.url(ORDINARY, "/files")).send().await.map(|r| r.status() == 401).unwrap_or(false)
    })
    .await;
    assert_eq!(login(&other, &env, ORDINARY, "boss@acme.example", PASSWORD, &[]).await.status(), 401);
    assert_eq!(login(&other, &env, ORDINARY, "chief@acme.example", "Chief-Pass9", &[]).await.status(), 303);
    let echo = Echo::from(other.get(env.url(ORDINARY, "/files")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-user"), Some("chief@acme.example"));
    assert_eq!(echo.get("x-auth-role"), Some("owner"));

    // Password change: wrong current password explained; success signs other devices out.
    sudo(&other, &env, ORDINARY, "Chief-Pass9").await;
    let page = other.get(env.url(ORDINARY, "/auth/password/change")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    let r = other
        .post(env.url(ORDINARY, "/auth/password/change"))
        .form(&[
            ("current_password", "nope"),
            ("password", "Fresh-Pass7"),
            ("password_confirm", "Fresh-Pass7"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = other
        .post(env.url(ORDINARY, "/auth/password/change"))
        .form(&[
            ("current_password", "Chief-Pass9"),
            ("password", "Fresh-Pass7"),
            ("password_confirm", "Fresh-Pass7"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        other.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(),
        200,
        "this browser stays signed in"
    );
    assert_eq!(login(&bob, &env, ORDINARY, "chief@acme.example", "Fresh-Pass7", &[]).await.status(), 303);
    env.cleanup().await;
}
on_both_databases!(invitation_and_email_change);

/// Opens a set-password link (invitation, email confirmation) and submits it.
async fn set_password(c: &reqwest::Client, env: &Env, link: &str, password: &str) {
    let page = c.get(env.url(ORDINARY, link)).send().await.unwrap();
    assert_eq!(page.status(), 200, "link {link} should be live");
    let csrf = csrf_from(&page.text().await.unwrap());
    let r = c
        .post(env.url(ORDINARY, link))
        .form(&[("password", password), ("password_confirm", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_refuse_open_redirects_and_forged_posts() {
    let Some(env) = started(Db::Sqlite, 0).await else { return };
    let c = env.client(INTERNET);
    for rd in [
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "http:evil.example",
    ] {
        let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
        let r = c
            .post(env.url(ORDINARY, "/auth/login"))
            .form(&[("email", ALICE), ("password", PASSWORD), ("csrf", &csrf_from(&page)), ("rd", rd)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/", "rd {rd:?} must not leave the host");
    }
    let page = c.get(env.url(ORDINARY, "/auth/login?rd=//evil.example")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("name=\"rd\" value=\"/\""), "the form must not carry a foreign rd");
    let csrf = csrf_from(&page);
    // Missing token, wrong token, right token from a foreign origin.
    let r = c
        .post(env.url(ORDINARY, "/auth/login"))
        .form(&[("email", ALICE), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(env.url(ORDINARY, "/auth/login"))
        .form(&[("email", ALICE), ("password", PASSWORD), ("csrf", "x".repeat(43).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(env.url(ORDINARY, "/auth/login"))
        .header("origin", "http://evil.example")
        .form(&[("email", ALICE), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c.post(env.url(ORDINARY, "/auth/logout")).form(&[("csrf", "")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // Bodies are capped.
    let big = "x".repeat(64 * 1024);
    let r = c
        .post(env.url(ORDINARY, "/auth/login"))
        .form(&[("email", big.as_str()), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_speak_japanese_and_english() {
    let Some(env) = started(Db::Sqlite, 0).await else { return };
    let c = env.client(INTERNET);
    let ja = c
        .get(env.url(ORDINARY, "/auth/login"))
        .header("accept-language", "ja,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ja.contains("lang=\"ja\"") && ja.contains("ログイン"));
    let en = c
        .get(env.url(ORDINARY, "/auth/login?lang=en"))
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("lang=\"en\"") && en.contains("Sign in"));
    // The choice sticks.
    let again = c
        .get(env.url(ORDINARY, "/auth/password/forgot"))
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again.contains("lang=\"en\""));
    // Refusals written by the proxy follow the choice too.
    let r = c.get(env.url(ORDINARY, "/internal/x")).send().await.unwrap().text().await.unwrap();
    assert!(r.contains("lang=\"en\""));
    env.cleanup().await;
}

/// Without `ui.default_language` a browser that asks for neither language
/// gets Japanese, the service's users' language, on auth pages and refusals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn japanese_unless_the_browser_asks_otherwise() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.tweak_config("ui:\n  default_language: en\n", "");
    env.start().await;
    let c = env.client(INTERNET);
    for (path, accept) in [("/auth/login", None), ("/auth/login", Some("fr-FR,de;q=0.8")), ("/internal/x", None)] {
        let mut req = c.get(env.url(ORDINARY, path));
        if let Some(a) = accept {
            req = req.header("accept-language", a);
        }
        let body = req.send().await.unwrap().text().await.unwrap();
        assert!(body.contains("lang=\"ja\""), "{path} {accept:?}: {body}");
    }
    let en = c.get(env.url(ORDINARY, "/auth/login")).header("accept-language", "en-GB").send().await.unwrap();
    assert!(en.text().await.unwrap().contains("lang=\"en\""), "a stated preference still wins");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_flood_does_not_stall_proxied_requests() {
    let Some(env) = started(Db::Sqlite, 0).await else { return };
    let user = env.client("127.0.0.5");
    assert_eq!(login(&user, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    let flood_client = env.client(INTERNET);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = Vec::new();
    for i in 0..16 {
        let (c, stop, url) = (flood_client.clone(), stop.clone(), env.url(ORDINARY, "/auth/login"));
        let page = c.get(&url).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_from(&page);
        flood.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let email = format!("flood{i}-{n}@acme.example");
                let _ = c
                    .post(&url)
                    .form(&[("email", email.as_str()), ("password", "Wrong-pass1"), ("csrf", &csrf)])
                    .send()
                    .await;
                n += 1;
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..30 {
        let r = tokio::time::timeout(Duration::from_secs(5), user.get(env.url(ORDINARY, "/files")).send()).await;
        let r = r.expect("a proxied request stalled behind the login flood").unwrap();
        assert_eq!(r.status(), 200);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut attempts = 0;
    for f in flood {
        attempts += f.await.unwrap();
    }
    assert!(attempts >= 16, "the flood did not run");
    env.cleanup().await;
}
