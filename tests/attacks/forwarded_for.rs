//! `X-Forwarded-For` is believed only from `trusted_proxies`, read right to
//! left (SPEC section 3, step 2): a client cannot choose the address the
//! gateway decides on, nor the one the origin is told.

use crate::kit::*;
use crate::support::*;

const OFFICE: &str = "203.0.113.0/24";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_untrusted_peers_is_ignored() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.seed_tenant("acme", USER, "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.ok(&["tenant", "networks", "add", "acme", OFFICE]);
    env.ok(&["tenant", "set-route", "acme", "line-only"]);
    env.start().await;

    // (who sends it, the X-Forwarded-For values, may it pass as the office?)
    let cases: &[(&str, &[&str], bool)] = &[
        (INTERNET, &["203.0.113.5"], false),
        (INTERNET, &["203.0.113.5, 203.0.113.6"], false),
        (INTERNET, &["203.0.113.5", "203.0.113.6"], false),
        (CARRIER, &["203.0.113.5"], false),
        // Through the trusted proxy the rightmost untrusted hop counts, so a
        // client-typed leftmost entry changes nothing.
        (PROXY, &["203.0.113.5, 198.51.100.9"], false),
        (PROXY, &["203.0.113.5", "198.51.100.9"], false),
        (PROXY, &["garbage, 203.0.113.5"], true),
        (PROXY, &["203.0.113.5, garbage"], false),
        (PROXY, &["203.0.113.5:8080"], true),
        (PROXY, &["198.51.100.9, 203.0.113.5"], true),
    ];
    for (from, xff, passes) in cases {
        let c = env.client(from);
        let mut login_get = c.get(env.url(ORDINARY, "/auth/login"));
        for v in *xff {
            login_get = login_get.header("x-forwarded-for", *v);
        }
        let page = login_get.send().await.unwrap().text().await.unwrap();
        let mut post = c.post(env.url(ORDINARY, "/auth/login")).form(&[
            ("email", USER),
            ("password", PASSWORD),
            ("csrf", &csrf_from(&page)),
            ("rd", "/files"),
        ]);
        for v in *xff {
            post = post.header("x-forwarded-for", *v);
        }
        let before = env.origin_count();
        let status = post.send().await.unwrap().status();
        let mut get = c.get(env.url(ORDINARY, "/files"));
        for v in *xff {
            get = get.header("x-forwarded-for", *v);
        }
        let r = get.send().await.unwrap();
        if *passes {
            assert_eq!(status, 303, "{from} {xff:?}: login from the office");
            let echo = Echo::from(r).await;
            assert_eq!(echo.all("x-forwarded-for"), vec!["203.0.113.5"], "{from} {xff:?}");
        } else {
            assert_eq!(r.status(), 403, "{from} {xff:?} passed as the office (login {status})");
            nothing_reached_origin(&env, before, &format!("{from} {xff:?}"));
        }
    }
    env.cleanup().await;
}
