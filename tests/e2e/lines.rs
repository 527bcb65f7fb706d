//! Line authentication, access routes and client addresses.

use crate::on_both_databases;
use crate::support::*;

const LINE: &str = "CAF0123456789";

fn session_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gw_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie set")
        .to_owned()
}

async fn line_authentication(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.seed_tenant("acme", "bob@acme.example", "admin");
    env.ok(&["tenant", "lines", "add", "acme", &LINE.to_lowercase()]);
    env.start().await;
    let carrier = env.client(CARRIER);

    // Registered line from the carrier network: no 2FA, the line is the second factor.
    let r = login(&carrier, &env, LINE_HOST, "bob@acme.example", PASSWORD, &[("x-line-id", LINE)]).await;
    assert_eq!(r.status(), 303);
    let cookie = session_cookie(&r);
    let r = carrier.get(env.url(LINE_HOST, "/files")).header("x-line-id", LINE).send().await.unwrap();
    let echo = Echo::from(r).await;
    assert_eq!(echo.get("x-auth-method"), Some("password+line"));
    assert_eq!(echo.get("x-auth-line"), Some(LINE));
    assert_eq!(echo.get("x-auth-role"), Some("admin"));
    assert_eq!(echo.get("x-line-id"), None, "the carrier's header is not passed on");

    // The same session with a line that is not the tenant's, or with none: refused.
    let r = carrier.get(env.url(LINE_HOST, "/files")).header("x-line-id", "CAF9999999999").send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Line authentication failed"));
    assert_eq!(carrier.get(env.url(LINE_HOST, "/files")).send().await.unwrap().status(), 403);

    // The line session replayed on the ordinary hostname is not a session there.
    let plain = reqwest::Client::builder().resolve(ORDINARY, env.addr()).build().unwrap();
    let r = plain.get(env.url(ORDINARY, "/files")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // A line header from outside the carrier network is an impersonation attempt.
    let before = env.metric("gateway_spoofed_line_headers_total").await;
    let internet = env.client(INTERNET);
    let r = login(&internet, &env, LINE_HOST, "bob@acme.example", PASSWORD, &[("x-line-id", LINE)]).await;
    assert_eq!(r.status(), 403, "a spoofed line must not log in on the line host");
    let r = internet
        .get(env.url(LINE_HOST, "/files"))
        .header("cookie", &cookie)
        .header("x-line-id", LINE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a spoofed line must not pass with a stolen line session");
    assert!(env.metric("gateway_spoofed_line_headers_total").await >= before + 2.0);

    // On the ordinary host a spoofed header never reaches the origin in any spelling.
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    assert_eq!(login(&internet, &env, ORDINARY, "bob@acme.example", PASSWORD, &[]).await.status(), 303);
    eventually("2FA off applies", || async {
        internet.get(env.url(ORDINARY, "/files")).send().await.map(|r| r.status() == 200).unwrap_or(false)
    })
    .await;
    let r = internet
        .get(env.url(ORDINARY, "/files"))
        .header("x-line-id", LINE)
        .header("x_line_id", LINE)
        .send()
        .await
        .unwrap();
    let echo = Echo::from(r).await;
    assert!(!echo.has_any(|k| k.contains("line")), "line headers reached the origin: {:?}", echo.headers);
    assert_eq!(echo.get("x-auth-method"), Some("password"));
    env.cleanup().await;
}
on_both_databases!(line_authentication);

async fn line_only_route(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.seed_tenant("acme", "carol@acme.example", "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.ok(&["tenant", "networks", "add", "acme", OFFICE_NET]);
    env.ok(&["tenant", "set-route", "acme", "line-only"]);
    env.start().await;

    // From the internet: a valid session is not enough.
    let internet = env.client(INTERNET);
    assert_eq!(login(&internet, &env, ORDINARY, "carol@acme.example", PASSWORD, &[]).await.status(), 303);
    let r = internet.get(env.url(ORDINARY, "/files")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // From the registered network: allowed, and 2FA is off because of the route.
    let office = env.office_client();
    assert_eq!(login(&office, &env, ORDINARY, "carol@acme.example", PASSWORD, &[]).await.status(), 303);
    assert_eq!(
        Echo::from(office.get(env.url(ORDINARY, "/files")).send().await.unwrap()).await.get("x-auth-user"),
        Some("carol@acme.example")
    );

    // Through the trusted proxy the client address comes from X-Forwarded-For, right to left.
    let proxy = env.client(PROXY);
    let r = proxy
        .get(env.url(ORDINARY, "/files"))
        .header("x-forwarded-for", &format!("1.1.1.1, {OFFICE}"))
        .header("cookie", cookie_of(&office, &env).await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the proxy vouches for the office");
    let r = proxy
        .get(env.url(ORDINARY, "/files"))
        .header("x-forwarded-for", &format!("{OFFICE}, 1.1.1.1"))
        .header("cookie", cookie_of(&office, &env).await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the rightmost untrusted hop is the client");
    let r = proxy
        .get(env.url(ORDINARY, "/files"))
        .header("x-forwarded-for", "not-an-address")
        .header("cookie", cookie_of(&office, &env).await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "an unparsable address is not from a line");
    // The same header from an untrusted peer is ignored.
    let r = internet.get(env.url(ORDINARY, "/files")).header("x-forwarded-for", OFFICE).send().await.unwrap();
    assert_eq!(r.status(), 403);

    // Route changes take effect on the running gateway.
    env.ok(&["tenant", "set-route", "acme", "line-and-internet"]);
    eventually("line-and-internet reaches the gateway", || async {
        internet.get(env.url(ORDINARY, "/files")).send().await.map(|r| r.status() == 200).unwrap_or(false)
    })
    .await;
    env.ok(&["tenant", "set-route", "acme", "line-only"]);
    eventually("line-only reaches the gateway", || async {
        internet.get(env.url(ORDINARY, "/files")).send().await.map(|r| r.status() == 403).unwrap_or(false)
    })
    .await;
    env.cleanup().await;
}
on_both_databases!(line_only_route);

/// Logs in a fresh client from the office and returns its session cookie.
async fn cookie_of(_office: &reqwest::Client, env: &Env) -> String {
    let c = env.office_client();
    let r = login(&c, env, ORDINARY, "carol@acme.example", PASSWORD, &[]).await;
    session_cookie(&r)
}
