//! Sessions, login and the identity the origin is told.

use crate::on_both_databases;
use crate::support::*;

async fn identity_and_sessions(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.seed_tenant("acme", "alice@acme.example", "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let c = env.client(INTERNET);

    // No session: pages go to the login form with a same-host return path, API calls get 401.
    let r = c.get(env.url(ORDINARY, "/files/a.txt?x=1")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with("/auth/login?rd=%2Ffiles%2Fa%2Etxt%3Fx%3D1"), "{loc}");
    let r = c.get(env.url(ORDINARY, "/files/a.txt")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Malformed or unknown cookies never pass.
    for cookie in [
        "gw_session=garbage",
        "gw_session=",
        "gw_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "gw_session=../../x; gw_session=y",
    ] {
        let r = reqwest::Client::builder()
            .resolve(ORDINARY, env.addr())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(env.url(ORDINARY, "/files"))
            .header("cookie", cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302, "cookie {cookie:?} must lead to the login page");
    }

    // Wrong password and unknown email: the same status and the same words.
    let wrong = login(&c, &env, ORDINARY, "alice@acme.example", "Wrong-pass1", &[]).await;
    assert_eq!(wrong.status(), 401);
    let wrong_text = wrong.text().await.unwrap();
    let unknown = login(&c, &env, ORDINARY, "nobody@acme.example", "Wrong-pass1", &[]).await;
    assert_eq!(unknown.status(), 401);
    let unknown_text = unknown.text().await.unwrap();
    assert!(wrong_text.contains("email address or password is not correct"));
    assert!(unknown_text.contains("email address or password is not correct"));

    // A login with a forged CSRF token is refused.
    let r = c
        .post(env.url(ORDINARY, "/auth/login"))
        .form(&[("email", "alice@acme.example"), ("password", PASSWORD), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Login (email in another case) and back to where the user was going.
    let r = login(&c, &env, ORDINARY, " Alice@ACME.example ", PASSWORD, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/files/report.pdf");

    // Client-sent identity headers in every spelling are dropped; ours arrive.
    let r = c
        .get(env.url(ORDINARY, "/files/report.pdf"))
        .header("X-Auth-User", "mallory@evil.example")
        .header("X_Auth_User", "mallory@evil.example")
        .header("x-auth-role", "owner")
        .header("Remote-User", "mallory")
        .header("Remote_User", "mallory")
        .header("X-Forwarded-User", "mallory")
        .header("X-Forwarded-For", "6.6.6.6")
        .send()
        .await
        .unwrap();
    let echo = Echo::from(r).await;
    assert_eq!(echo.all("x-auth-user"), vec!["alice@acme.example"]);
    assert_eq!(echo.get("x-auth-tenant"), Some("acme"));
    assert_eq!(echo.all("x-auth-role"), vec!["user"]);
    assert_eq!(echo.get("x-auth-method"), Some("password"));
    assert_eq!(echo.get("x-auth-line"), None);
    assert_eq!(echo.all("x-forwarded-for"), vec![INTERNET]);
    assert!(!echo.has_any(|k| k.contains('_')), "underscore headers reached the origin: {:?}", echo.headers);
    assert!(!echo.has_any(|k| k == "remote-user" || k == "x-forwarded-user"));
    assert!(echo.get("cookie").is_none_or(|c| !c.contains("gw_session")), "session cookie leaked to the origin");

    // The origin sees the normalised path; rules see it too.
    let r = c.get(env.url(ORDINARY, "/files/./a/../b%20c//d")).send().await.unwrap();
    assert_eq!(Echo::from(r).await.path, "/files/b%20c/d");

    // Path rules: bypass without a session, deny for everyone, role requirement.
    let anon = env.client(INTERNET);
    let r = anon.get(env.url(ORDINARY, "/public/logo.svg")).header("x-auth-user", "x").send().await.unwrap();
    let echo = Echo::from(r).await;
    assert!(!echo.has_any(|k| k.starts_with("x-auth")), "bypass must not carry identity");
    let r = anon.get(env.url(ORDINARY, "/public/..%2Ffiles/secret")).send().await.unwrap();
    assert_eq!(r.status(), 401, "an encoded dot-segment must not escape a bypass rule");
    assert_eq!(c.get(env.url(ORDINARY, "/internal/x")).send().await.unwrap().status(), 403);
    assert_eq!(c.get(env.url(ORDINARY, "/admin")).send().await.unwrap().status(), 403);
    assert_eq!(c.get(env.url(ORDINARY, "/%zz")).send().await.unwrap().status(), 400);

    // Unknown host.
    let r = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/files", env.port))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);

    // Keep-alive survives the gateway's own answers (Content-Length is set).
    let r = anon.get(env.url(ORDINARY, "/files")).send().await.unwrap();
    assert_eq!(r.headers().get("content-length").map(|v| v.to_str().unwrap()), Some("24"));

    // Logout ends the session for good.
    let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    let r = c.post(env.url(ORDINARY, "/auth/logout")).form(&[("csrf", csrf_from(&page))]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 401);

    assert!(env.metric("gateway_requests_total{host_kind=\"ordinary\",outcome=\"allow\"}").await >= 2.0);
    env.cleanup().await;
}
on_both_databases!(identity_and_sessions);

async fn second_factor_is_required(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.seed_tenant("acme", "alice@acme.example", "user");
    env.start().await;
    let c = env.client(INTERNET);
    assert_eq!(login(&c, &env, ORDINARY, "alice@acme.example", PASSWORD, &[]).await.status(), 303);
    let r = c.get(env.url(ORDINARY, "/files")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/auth/2fa?rd="));
    let r = c.get(env.url(ORDINARY, "/auth/2fa")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("2-step verification"));
    // Turning the tenant's switch off lets the same session through on its next request.
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    eventually("2FA switch off reaches the gateway", || async {
        c.get(env.url(ORDINARY, "/files")).send().await.map(|r| r.status() == 200).unwrap_or(false)
    })
    .await;
    env.cleanup().await;
}
on_both_databases!(second_factor_is_required);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_throttle_per_address() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    let text = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        text.replace("  hash_concurrency: 2\n", "  hash_concurrency: 2\n  throttle_per_minute: 3\n"),
    )
    .unwrap();
    env.seed_tenant("acme", "alice@acme.example", "user");
    env.start().await;
    let c = env.client(INTERNET);
    for _ in 0..3 {
        assert_eq!(login(&c, &env, ORDINARY, "alice@acme.example", "Wrong-pass1", &[]).await.status(), 401);
    }
    let r = login(&c, &env, ORDINARY, "alice@acme.example", PASSWORD, &[]).await;
    assert_eq!(r.status(), 429, "even the right password waits out the window");
    assert_eq!(r.headers()["retry-after"], "60");
    // Another address is not affected.
    let other = env.client("127.0.0.5");
    assert_eq!(login(&other, &env, ORDINARY, "alice@acme.example", PASSWORD, &[]).await.status(), 303);
    env.cleanup().await;
}
