//! Several gateways on one PostgreSQL (SPEC section 10): what one instance
//! changes holds on the other at once, narrowly (no whole reloads), and the
//! limits count across them.

use std::time::{Duration, Instant};

use crate::support::*;

const ALICE: &str = "alice@acme.example";

async fn two(throttle: u32) -> Option<(Env, Second)> {
    let mut env = Env::new(Db::Postgres).await?;
    env.tweak_config("  hash_concurrency: 2\n", &format!("  hash_concurrency: 2\n  throttle_per_minute: {throttle}\n"));
    env.seed_tenant("acme", ALICE, "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let b = env.second().await;
    Some((env, b))
}

async fn status(c: &reqwest::Client, url: String) -> u16 {
    c.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

/// Polls `url` until it answers `want`; the time it took.
async fn until_status(c: &reqwest::Client, url: &str, want: u16) -> Duration {
    let start = Instant::now();
    loop {
        if status(c, url.to_owned()).await == want {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{url} never answered {want}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_instance_holds_on_the_other() {
    let Some((env, b)) = two(0).await else { return };
    // One cookie jar, two instances: cookies do not care for ports.
    let c = env.client(INTERNET);
    let r = login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await;
    assert_eq!(r.status(), 303);
    let cookie = set_cookie_pair(&r, "gw_session").expect("session cookie");
    let on_b = b.url(ORDINARY, "/files/report.pdf");
    assert_eq!(status(&c, on_b.clone()).await, 200, "a session made on A works on B");
    assert_eq!(status(&c, on_b.clone()).await, 200, "and is then answered from B's cache");
    // Logging out makes the browser forget the cookie; the thief of a copy keeps it.
    let thief = reqwest::Client::builder()
        .resolve(ORDINARY, b.addr())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let stolen = || thief.get(&on_b).header("cookie", cookie.clone()).send();
    assert_eq!(stolen().await.unwrap().status(), 200);

    // Revocation: logging out on A refuses the cookie on B at once.
    let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    let r = c.post(env.url(ORDINARY, "/auth/logout")).form(&[("csrf", csrf_from(&page))]).send().await.unwrap();
    assert!(r.status().is_redirection() || r.status() == 200, "logout: {}", r.status());
    let start = Instant::now();
    while stolen().await.unwrap().status() != 401 {
        assert!(start.elapsed() < Duration::from_secs(2), "the revocation did not reach B within 2 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(b.metric("gateway_changes_applied_total{kind=\"session\"}").await >= 1.0);

    // A route change (the command line, as an operator would) reaches B's decisions.
    let r = login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await;
    assert_eq!(r.status(), 303);
    let cookie = set_cookie_pair(&r, "gw_session").expect("session cookie");
    assert_eq!(status(&c, on_b.clone()).await, 200);
    env.ok(&["tenant", "set-route", "acme", "line-only"]);
    let took = until_status(&c, &on_b, 403).await;
    assert!(took < Duration::from_secs(2), "the route change took {took:?} to reach B");
    env.ok(&["tenant", "set-route", "acme", "line-and-internet"]);
    until_status(&c, &on_b, 200).await;
    assert!(b.metric("gateway_changes_applied_total{kind=\"tenant\"}").await >= 2.0);

    // A lock counted across both: wrong passwords alternate between A and B.
    let cb = b.client(INTERNET);
    for i in 0..10 {
        let r = if i % 2 == 0 {
            login(&c, &env, ORDINARY, ALICE, "Wrong-pass1", &[]).await
        } else {
            login_at(&cb, &b, ALICE, "Wrong-pass1").await
        };
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    // Locked: the right password is refused on both, and the open session is gone on both.
    assert_eq!(login_at(&cb, &b, ALICE, PASSWORD).await.status(), 401, "locked on B");
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 401, "locked on A");
    let on = |url: String| thief.get(url).header("cookie", cookie.clone()).send();
    let start = Instant::now();
    while on(on_b.clone()).await.unwrap().status() != 401 {
        assert!(start.elapsed() < Duration::from_secs(2), "the lock did not reach B within 2 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(on(env.url(ORDINARY, "/files/report.pdf")).await.unwrap().status(), 401);
    assert!(b.metric("gateway_changes_applied_total{kind=\"user\"}").await >= 1.0);

    // None of this reloaded everything on B.
    assert_eq!(b.metric("gateway_full_reloads_total{reason=\"missed\"}").await, 0.0, "B log:\n{}", b.log());
    assert_eq!(b.metric("gateway_full_reloads_total{reason=\"unknown\"}").await, 0.0);
    assert!(b.metric("gateway_change_feed_total{via=\"notified\"}").await >= 1.0, "changes came by notification");
    env.cleanup().await;
}

/// Signs in on the second instance through its own login form.
async fn login_at(c: &reqwest::Client, b: &Second, email: &str, password: &str) -> reqwest::Response {
    let page = c.get(b.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    c.post(b.url(ORDINARY, "/auth/login"))
        .form(&[("email", email), ("password", password), ("csrf", &csrf), ("rd", "/files/report.pdf")])
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_throttle_counts_across_instances() {
    let Some((env, b)) = two(6).await else { return };
    let ca = env.client(INTERNET);
    let cb = b.client(INTERNET);
    // Three attempts on each: the limit of six, reached together.
    for i in 0..3 {
        assert_eq!(login(&ca, &env, ORDINARY, "nobody@acme.example", "Wrong-pass1", &[]).await.status(), 401, "A {i}");
        assert_eq!(login_at(&cb, &b, "nobody@acme.example", "Wrong-pass1").await.status(), 401, "B {i}");
    }
    // The seventh is refused on either, whichever instance it reaches.
    assert_eq!(login_at(&cb, &b, ALICE, PASSWORD).await.status(), 429, "B counts A's attempts");
    assert_eq!(login(&ca, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 429, "A counts B's attempts");
    // Another address is not held back by this one's attempts.
    let other = b.client(CARRIER);
    assert_eq!(login_at(&other, &b, ALICE, PASSWORD).await.status(), 303);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listener_or_a_restart_loses_no_change() {
    let Some((env, mut b)) = two(0).await else { return };
    let c = env.client(INTERNET);
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    let on_b = b.url(ORDINARY, "/files/report.pdf");
    assert_eq!(status(&c, on_b.clone()).await, 200);

    // Notifications cut: every LISTEN connection is killed; the periodic read
    // still carries the change within the fallback's bound.
    let admin = sqlx::PgPool::connect(&env.database).await.expect("admin pool");
    let killed: i64 = sqlx::query_scalar(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .fetch_one(&admin)
    .await
    .expect("terminate listeners");
    assert!(killed >= 2, "both instances listen ({killed} listeners found)");
    env.ok(&["tenant", "set-route", "acme", "line-only"]);
    let took = until_status(&c, &on_b, 403).await;
    assert!(took < Duration::from_secs(3), "with notifications lost the change took {took:?}");

    // B stopped while changes happen; started again, it holds every one of them.
    b.stop().await;
    env.ok(&["tenant", "set-route", "acme", "line-and-internet"]);
    env.ok(&["tenant", "set-2fa", "acme", "on"]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    let changes = tokio::spawn({
        let config = env.config.clone();
        async move {
            for i in 0..6 {
                let route = if i % 2 == 0 { "line-only" } else { "line-and-internet" };
                let out = std::process::Command::new(bin())
                    .arg("--config")
                    .arg(&config)
                    .args(["tenant", "set-route", "acme", route])
                    .output()
                    .expect("cli");
                assert!(out.status.success());
            }
        }
    });
    b.start().await;
    changes.await.expect("changes");
    // The last change made was line-and-internet: B must end there.
    until_status(&c, &on_b, 200).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status(&c, on_b.clone()).await, 200);
    // And a change after the restart still arrives by notification.
    let before = b.metric("gateway_change_feed_total{via=\"notified\"}").await;
    env.ok(&["tenant", "set-route", "acme", "line-only"]);
    until_status(&c, &on_b, 403).await;
    assert!(b.metric("gateway_change_feed_total{via=\"notified\"}").await > before, "B listens again");
    admin.close().await;
    env.cleanup().await;
}

/// A PostgreSQL gateway without a TOTP key refuses to start, naming the setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_without_a_totp_key_refuses_to_start() {
    let Some(env) = Env::new(Db::Postgres).await else { return };
    let text = std::fs::read_to_string(&env.config).unwrap();
    let without: String =
        text.lines().filter(|l| !l.contains("totp_key") && *l != "secrets:").map(|l| format!("{l}\n")).collect();
    std::fs::write(&env.config, without).unwrap();
    let out = env.cli(&["check-config"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("secrets.totp_key") && err.contains("gateway.yaml:"), "{err}");
    let out = env.cli(&["serve"], None);
    assert!(!out.status.success(), "serve started without a key");
    assert!(String::from_utf8_lossy(&out.stderr).contains("secrets.totp_key"));
    env.cleanup().await;
}
