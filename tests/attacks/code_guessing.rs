//! SPEC section 11: "Wrong second-factor codes accumulate: past a limit the
//! user's second factor is locked and the user is mailed."
//!
//! Someone holding the password signs in again and again (new sessions, so the
//! per-login limit never bites) and guesses codes. Across those sessions the
//! wrong codes add up per user; at `login.second_factor_lock_after` (3 here, to
//! be quick) the second factor is locked: even the right code is refused and
//! nothing reaches the origin, the user is mailed an unlock link, and that link
//! (the mailbox) opens it again.

use crate::support::*;

const PHONE: &str = "+819012345678";
/// Low, to be quick; an SMS guess also spends a send from the per-user minute.
const LIMIT: usize = 3;

#[derive(Clone, Copy, Debug)]
enum Method {
    Totp,
    Sms,
    Recovery,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Lets the next SMS go out at once (the gateway keeps 30 s between two codes).
async fn age_sms_codes(env: &Env) {
    exec_sql(env, "UPDATE sms_codes SET sent_at = sent_at - 60").await;
}

/// Runs one statement on the test's database (to move time for a row, not to seed).
pub async fn exec_sql(env: &Env, sql: &'static str) {
    use sqlx::Connection;
    match env.db {
        Db::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&env.database).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        Db::Postgres => {
            let mut c = sqlx::PgConnection::connect(&env.database).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// What the user enrolled, and what a right code is for it.
struct Enrolled {
    secret: Vec<u8>,
    recovery: String,
}

async fn enrol(env: &Env, email: &str, method: Method, from: &str) -> Enrolled {
    let c = env.client(from);
    assert_eq!(login(&c, env, ORDINARY, email, PASSWORD, &[]).await.status(), 303);
    let mut secret = Vec::new();
    match method {
        Method::Sms => {
            assert_eq!(post_form(&c, env, "/auth/2fa/sms", &[("phone", PHONE), ("rd", "/files")]).await.status(), 200);
            let code = env.sms_codes(PHONE).pop().unwrap();
            assert_eq!(post_form(&c, env, "/auth/2fa/sms", &[("code", &code), ("rd", "/files")]).await.status(), 303);
        }
        Method::Totp | Method::Recovery => {
            let page = c.get(env.url(ORDINARY, "/auth/2fa/totp?rd=/files")).send().await.unwrap().text().await.unwrap();
            secret = base32_decode(between(&page, "word-break:break-all\">", "</code>"));
            let code = gateway::second_factor::code_at(&secret, unix_now());
            assert_eq!(post_form(&c, env, "/auth/2fa/totp", &[("code", &code), ("rd", "/files")]).await.status(), 303);
        }
    }
    let page = c.get(env.url(ORDINARY, "/auth/recovery-code?rd=/files")).send().await.unwrap().text().await.unwrap();
    let recovery = between(&page, "letter-spacing:.05em\"><strong>", "</strong>").to_owned();
    assert_eq!(post_form(&c, env, "/auth/recovery-code", &[("saved", "1"), ("rd", "/files")]).await.status(), 303);
    assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200, "enrolled");
    Enrolled { secret, recovery }
}

/// One code entry of `method` in a pending login: `right` or a wrong guess.
async fn enter(c: &reqwest::Client, env: &Env, method: Method, e: &Enrolled, right: bool) -> reqwest::Response {
    match method {
        Method::Totp => {
            // One step ahead: the enrolment's step is never accepted twice.
            let good = gateway::second_factor::code_at(&e.secret, unix_now() + 30);
            let code = if right { good } else { wrong_digits(&e.secret) };
            post_form(c, env, "/auth/2fa/totp", &[("code", &code), ("rd", "/files")]).await
        }
        Method::Sms => {
            age_sms_codes(env).await;
            let before = env.sms_codes(PHONE).len();
            let sent = post_form(c, env, "/auth/2fa/sms", &[("send", "1"), ("rd", "/files")]).await;
            if sent.status() != 200 {
                return sent;
            }
            assert_eq!(env.sms_codes(PHONE).len(), before + 1, "a code was sent");
            let good = env.sms_codes(PHONE).pop().unwrap();
            let code = if right { good.clone() } else { flip(&good) };
            post_form(c, env, "/auth/2fa/sms", &[("code", &code), ("rd", "/files")]).await
        }
        Method::Recovery => {
            let code = if right { e.recovery.clone() } else { "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ".to_owned() };
            post_form(c, env, "/auth/2fa/recovery", &[("code", &code), ("rd", "/files")]).await
        }
    }
}

fn flip(code: &str) -> String {
    code.chars().map(|c| char::from(b'0' + (c as u8 - b'0' + 5) % 10)).collect()
}

/// A six-digit code that is none of the codes of the steps around now.
fn wrong_digits(secret: &[u8]) -> String {
    let t = unix_now();
    let near: Vec<String> = (-2..=2).map(|k| gateway::second_factor::code_at(secret, t + 30 * k)).collect();
    (0..).map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000)).find(|c| !near.contains(c)).unwrap()
}

async fn wrong_codes_lock_the_second_factor(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.tweak_config(
        "  hash_concurrency: 2\n",
        &format!("  hash_concurrency: 2\n  throttle_per_minute: 0\n  second_factor_lock_after: {LIMIT}\n"),
    );
    env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example"]);
    let rows = [
        (Method::Totp, "tina@acme.example"),
        (Method::Sms, "sam@acme.example"),
        (Method::Recovery, "rita@acme.example"),
    ];
    for (_, email) in rows {
        let out =
            env.cli(&["user", "add", email, "--tenant", "acme", "--password-stdin"], Some(&format!("{PASSWORD}\n")));
        assert!(out.status.success());
    }
    env.start().await;
    for (n, (method, email)) in rows.into_iter().enumerate() {
        let ip = |k: usize| format!("127.0.{}.{}", 10 + n, k);
        let enrolled = enrol(&env, email, method, &ip(1)).await;
        let origin_before = env.origin_count();
        // Wrong codes in several sign-ins, two each: no single login reaches its own limit.
        let mut wrong = 0;
        let mut session = 2;
        let locked = loop {
            let c = env.client(&ip(session));
            session += 1;
            assert_eq!(login(&c, &env, ORDINARY, email, PASSWORD, &[]).await.status(), 303);
            let mut locked = None;
            for _ in 0..2 {
                let r = enter(&c, &env, method, &enrolled, false).await;
                wrong += 1;
                if wrong < LIMIT {
                    assert_eq!(r.status(), 400, "{method:?}: wrong code #{wrong}");
                } else {
                    locked = Some(r);
                    break;
                }
            }
            if let Some(r) = locked {
                break r;
            }
        };
        assert_eq!(locked.status(), 403, "{method:?}: the limit locks the second factor");
        let page = locked.text().await.unwrap();
        assert!(page.contains("/auth/password/forgot"), "{method:?}: the page says what to do:\n{page}");

        // Now even the right code is refused, in a new sign-in, and nothing reaches the origin.
        let c = env.client(&ip(9));
        assert_eq!(login(&c, &env, ORDINARY, email, PASSWORD, &[]).await.status(), 303);
        let r = enter(&c, &env, method, &enrolled, true).await;
        assert_eq!(r.status(), 403, "{method:?}: a right code while locked");
        assert_ne!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200);
        assert_eq!(env.origin_count(), origin_before, "{method:?}: nothing reached the origin");

        // The mailbox unlocks it.
        let mail = env.wait_mail(email, "/auth/unlock?ticket=", 1).await;
        let r =
            env.client(&ip(1)).get(env.url(ORDINARY, &link_path(&mail, "/auth/unlock?ticket="))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let c = env.client(&ip(8));
        assert_eq!(login(&c, &env, ORDINARY, email, PASSWORD, &[]).await.status(), 303);
        let r = enter(&c, &env, method, &enrolled, true).await;
        assert_eq!(r.status(), 303, "{method:?}: unlocked, the right code works");
        let to = location(&r);
        // On to the completion screen (issue 11), or to save a new recovery code.
        assert!(to.starts_with("/auth/verified?rd=") || to.starts_with("/auth/recovery-code"), "{method:?}: {to}");
    }
    let audit = env.ok(&["audit", "--tenant", "acme"]);
    assert_eq!(audit.matches("second_factor_locked").count(), 3, "{audit}");
    env.cleanup().await;
}
on_both_databases!(wrong_codes_lock_the_second_factor);

/// The operator's unlock clears the lock too (the admin console's unlock and
/// reset 2FA, and a password reset, use the same store calls: gateway/tests/store.rs).
async fn operator_unlock_clears_the_lock(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.tweak_config(
        "  hash_concurrency: 2\n",
        "  hash_concurrency: 2\n  throttle_per_minute: 0\n  second_factor_lock_after: 1\n",
    );
    env.seed_tenant("acme", "adm@acme.example", "admin");
    let out = env.cli(
        &["user", "add", "tina@acme.example", "--tenant", "acme", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success());
    env.start().await;
    let enrolled = enrol(&env, "tina@acme.example", Method::Totp, "127.0.0.5").await;
    let c = env.client("127.0.0.6");
    assert_eq!(login(&c, &env, ORDINARY, "tina@acme.example", PASSWORD, &[]).await.status(), 303);
    assert_eq!(enter(&c, &env, Method::Totp, &enrolled, false).await.status(), 403, "one wrong code locks at limit 1");
    env.ok(&["user", "unlock", "tina@acme.example"]);
    let c = env.client("127.0.0.7");
    assert_eq!(login(&c, &env, ORDINARY, "tina@acme.example", PASSWORD, &[]).await.status(), 303);
    assert_eq!(enter(&c, &env, Method::Totp, &enrolled, true).await.status(), 303, "unlocked by the operator");
    env.cleanup().await;
}
on_both_databases!(operator_unlock_clears_the_lock);
