//! Federated sign-in from a stranger's side (SPEC section 9): a forged or
//! replayed callback signs nobody in, connection ids cannot be walked, and
//! provider ids are only the configured ones. The flows through a real
//! provider are in `tests/e2e/federated.rs`.

use crate::kit::*;
use crate::support::*;

fn sets_session(r: &reqwest::Response) -> bool {
    set_cookie_pair(r, "gw_session").is_some_and(|c| c.len() > "gw_session=".len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_callbacks_sign_nobody_in() {
    let Some((env, _alice)) = signed_in(Db::Sqlite).await else { return };
    let before = env.origin_count();
    let c = bare(&env);
    let forged: &[(&str, Option<&str>)] = &[
        ("/auth/oidc/callback", None),
        ("/auth/oidc/callback?code=abc", None),
        ("/auth/oidc/callback?code=abc&state=", None),
        ("/auth/oidc/callback?code=abc&state=not-a-token", None),
        ("/auth/oidc/callback?code=abc&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None),
        (
            "/auth/oidc/callback?code=abc&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            Some("gateway_fed=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ),
        ("/auth/oidc/callback?error=access_denied&state=x", Some("gateway_fed=garbage")),
    ];
    for (path, cookie) in forged {
        for host in [ORDINARY, LINE_HOST] {
            let mut req = c.get(env.url(host, path));
            if let Some(cookie) = cookie {
                req = req.header("cookie", *cookie);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 400, "{host}{path}");
            assert!(!sets_session(&r), "{host}{path}");
        }
    }
    // Counted, not written to the audit log: made-up states are anybody's.
    assert_eq!(env.metric("gateway_logins_total{result=\"federated_unknown_state\"}").await, 4.0);
    nothing_reached_origin(&env, before, "forged callback");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_configured_providers_start() {
    let Some((env, _alice)) = signed_in(Db::Sqlite).await else { return };
    let c = bare(&env);
    for path in [
        "/auth/oidc/evil",
        "/auth/oidc/google",
        "/auth/oidc/",
        "/auth/oidc/callback/x",
        "/auth/oidc/google/../../admin",
        "/auth/oidc/%2e%2e",
        "/auth/ad/adfs-000000000000000000",
        "/auth/ad/not-an-id",
        "/auth/ad/",
    ] {
        let r = c.get(env.url(ORDINARY, path)).send().await.unwrap();
        assert!(matches!(r.status().as_u16(), 400 | 404), "{path}: {}", r.status());
        assert!(r.headers().get("location").is_none(), "{path} redirects nowhere");
    }
    env.cleanup().await;
}

/// Someone walking connection ids by hand, or by URL, meets the per-address
/// sign-in throttle; the answers never tell a near miss from a far one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_ids_cannot_be_walked() {
    let Some((env, _alice)) = signed_in(Db::Sqlite).await else { return };
    let c = env.client("127.0.0.7");
    let page = c.get(env.url(ORDINARY, "/auth/ad")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    let mut statuses = Vec::new();
    for i in 0..40 {
        let id = format!("adfs-{i:018}");
        let r = c
            .post(env.url(ORDINARY, "/auth/ad"))
            .form(&[("connection_id", id.as_str()), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.iter().take(25).all(|s| *s == 400), "{statuses:?}");
    assert!(statuses.contains(&429), "the throttle stops the walk: {statuses:?}");
    let by_url = bare(&env);
    let mut url_statuses = Vec::new();
    for i in 0..40 {
        let r = by_url.get(env.url(ORDINARY, &format!("/auth/ad/adfs-{i:018}"))).send().await.unwrap();
        url_statuses.push(r.status().as_u16());
    }
    assert!(url_statuses.contains(&429), "walking by URL is throttled too: {url_statuses:?}");
    env.cleanup().await;
}
