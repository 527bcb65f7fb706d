//! SPEC section 11: "Every password check counts toward the lock
//! (re-authentication, password and email change included)."
//!
//! Someone holding a stolen session cookie (but not the password) guesses the
//! password where the gateway asks for it again: the settings gate, and the
//! current password on the password- and email-change forms. The tenth wrong
//! password in a row locks the account exactly like at login: the session ends,
//! the unlock link is mailed, and the right password fails until it is used.
//! These forms also share the login's per-address throttle.

use crate::support::*;

const WRONG: &str = "Wr0ng-Guess!";
const NEW_PASSWORD: &str = "N3w-Passw0rd!";

#[derive(Clone, Copy, Debug)]
enum Form {
    SettingsGate,
    PasswordChange,
    EmailChange,
}

impl Form {
    /// One submission of the form with `password` where the password is asked.
    async fn submit(self, c: &reqwest::Client, env: &Env, password: &str) -> reqwest::Response {
        let page = match self {
            Form::SettingsGate => "/auth/settings/login?rd=/auth/settings",
            Form::PasswordChange | Form::EmailChange => "/auth/login",
        };
        let html = c.get(env.url(ORDINARY, page)).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_from(&html);
        let (path, fields): (&str, Vec<(&str, &str)>) = match self {
            Form::SettingsGate => ("/auth/settings/login", vec![("password", password), ("rd", "/auth/settings")]),
            Form::PasswordChange => (
                "/auth/password/change",
                vec![("current_password", password), ("password", NEW_PASSWORD), ("password_confirm", NEW_PASSWORD)],
            ),
            Form::EmailChange => (
                "/auth/email/change",
                vec![
                    ("current_password", password),
                    ("new_email", "elsewhere@example.net"),
                    ("new_email_confirm", "elsewhere@example.net"),
                ],
            ),
        };
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        c.post(env.url(ORDINARY, path)).form(&fields).send().await.unwrap()
    }

    /// The status a wrong password gets before the lock.
    fn refused(self) -> u16 {
        match self {
            Form::SettingsGate => 401,
            Form::PasswordChange | Form::EmailChange => 400,
        }
    }
}

/// A basic-plan tenant with 2FA off: the owner (who alone may change their email)
/// and two users, each with the test password.
async fn tenant(db: Db, throttle: u32) -> Option<Env> {
    let mut env = Env::new(db).await?;
    env.tweak_config("  hash_concurrency: 2\n", &format!("  hash_concurrency: 2\n  throttle_per_minute: {throttle}\n"));
    env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example"]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    for user in ["ann@acme.example", "carl@acme.example"] {
        let out =
            env.cli(&["user", "add", user, "--tenant", "acme", "--password-stdin"], Some(&format!("{PASSWORD}\n")));
        assert!(out.status.success());
    }
    env.start().await;
    let out = env.ok(&["tenant", "invite-owner", "acme"]);
    let link =
        link_path(out.lines().find(|l| l.contains("/auth/invite?ticket=")).expect("link"), "/auth/invite?ticket=");
    let c = env.client(INTERNET);
    let page = c.get(env.url(ORDINARY, &link)).send().await.unwrap().text().await.unwrap();
    let r = c
        .post(env.url(ORDINARY, &link))
        .form(&[("password", PASSWORD), ("password_confirm", PASSWORD), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the owner registers");
    Some(env)
}

const ROWS: [(Form, &str, &str); 3] = [
    (Form::SettingsGate, "ann@acme.example", "127.0.0.5"),
    (Form::PasswordChange, "carl@acme.example", "127.0.0.6"),
    (Form::EmailChange, "boss@acme.example", "127.0.0.7"),
];

async fn ten_wrong_passwords_lock_the_account(db: Db) {
    let Some(env) = tenant(db, 30).await else { return };
    for (form, email, ip) in ROWS {
        let c = env.client(ip);
        assert_eq!(login(&c, &env, ORDINARY, email, PASSWORD, &[]).await.status(), 303);
        assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200);
        if !matches!(form, Form::SettingsGate) {
            sudo(&c, &env, ORDINARY, PASSWORD).await;
        }
        let origin_before = env.origin_count();
        for n in 1..=10 {
            let r = form.submit(&c, &env, WRONG).await;
            if n < 10 {
                assert_eq!(r.status().as_u16(), form.refused(), "{form:?}: wrong password #{n}");
            }
        }
        // Locked exactly like a login: the session is gone…
        let r = c.get(env.url(ORDINARY, "/files")).send().await.unwrap();
        assert_ne!(r.status(), 200, "{form:?}: the session ended with the lock");
        assert_eq!(env.origin_count(), origin_before, "{form:?}: nothing reached the origin");
        // …the unlock link is mailed…
        let mail = env.wait_mail(email, "/auth/unlock?ticket=", 1).await;
        // …and the right password fails until the link is used.
        let fresh = env.client(ip);
        assert_eq!(login(&fresh, &env, ORDINARY, email, PASSWORD, &[]).await.status(), 401, "{form:?}: locked");
        let r = fresh.get(env.url(ORDINARY, &link_path(&mail, "/auth/unlock?ticket="))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(login(&fresh, &env, ORDINARY, email, PASSWORD, &[]).await.status(), 303, "{form:?}: unlocked");
    }
    let audit = env.ok(&["audit", "--tenant", "acme"]);
    let locks = audit.lines().filter(|l| l.split_whitespace().any(|w| w == "lock")).count();
    assert_eq!(locks, 3, "{audit}");
    env.cleanup().await;
}
on_both_databases!(ten_wrong_passwords_lock_the_account);

/// A right password resets the count, as at login: nine wrong, one right, nine
/// wrong again do not lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_password_resets_the_count() {
    let Some(env) = tenant(Db::Sqlite, 0).await else { return };
    let c = env.client("127.0.0.5");
    assert_eq!(login(&c, &env, ORDINARY, "ann@acme.example", PASSWORD, &[]).await.status(), 303);
    for _ in 0..9 {
        assert_eq!(Form::SettingsGate.submit(&c, &env, WRONG).await.status(), 401);
    }
    assert_eq!(Form::SettingsGate.submit(&c, &env, PASSWORD).await.status(), 303);
    for _ in 0..9 {
        assert_eq!(Form::PasswordChange.submit(&c, &env, WRONG).await.status(), 400);
    }
    assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200, "not locked");
    env.cleanup().await;
}

/// The per-address throttle in front of the login also stands in front of the
/// other password forms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_forms_share_the_login_throttle() {
    let Some(env) = tenant(Db::Sqlite, 5).await else { return };
    for (form, email, ip) in ROWS {
        let c = env.client(ip);
        // Two attempts of the five: the login and the re-authentication.
        assert_eq!(login(&c, &env, ORDINARY, email, PASSWORD, &[]).await.status(), 303);
        sudo(&c, &env, ORDINARY, PASSWORD).await;
        let form = if matches!(form, Form::SettingsGate) { Form::PasswordChange } else { form };
        for n in 3..=5 {
            assert_eq!(form.submit(&c, &env, WRONG).await.status().as_u16(), form.refused(), "{form:?} #{n}");
        }
        let r = form.submit(&c, &env, WRONG).await;
        assert_eq!(r.status(), 429, "{form:?}: over the address's minute");
        assert!(r.headers().contains_key("retry-after"));
    }
    env.cleanup().await;
}
