//! CSRF: every POST route of the auth UI, walked from the route table itself
//! (`gateway::auth::routes::ROUTES`), refuses a form without the token, with a
//! wrong one, or from a foreign or opaque (`null`) origin — so a new route
//! cannot forget the check.

use gateway::auth::routes::ROUTES;

use crate::kit::*;
use crate::support::*;

/// (what, the csrf field, extra headers)
type Case<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, &'a str)]);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_post_route_refuses_forged_forms() {
    let Some((env, c)) = signed_in(Db::Sqlite).await else { return };
    let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    let token = csrf_from(&page);
    let origin = format!("http://{ORDINARY}:{}", env.port);
    let posts: Vec<&str> = ROUTES.iter().filter(|r| r.method == gateway::web::Method::Post).map(|r| r.path).collect();
    assert!(posts.len() >= 15, "the route table lost its POST routes: {posts:?}");
    let evil = [("origin", "http://evil.example")];
    let null = [("origin", "null")];
    let referer = [("referer", "http://evil.example/page")];
    let other_port = [("origin", "http://storage.localhost:1")];
    let other_host = [("origin", "http://line.storage.localhost")];
    let cases: Vec<Case> = vec![
        ("no token", None, &[]),
        ("empty token", Some(""), &[]),
        ("wrong token", Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), &[]),
        ("foreign Origin", Some(&token), &evil),
        ("Origin null", Some(&token), &null),
        ("foreign Referer", Some(&token), &referer),
        ("another port", Some(&token), &other_port),
        ("the other hostname", Some(&token), &other_host),
    ];
    for path in &posts {
        for (what, field, headers) in &cases {
            let mut form = vec![("email", USER), ("password", PASSWORD), ("action", "revoke"), ("user", USER)];
            if let Some(f) = field {
                form.push(("csrf", f));
            }
            let mut req = c.post(env.url(ORDINARY, path)).form(&form);
            for (k, v) in *headers {
                req = req.header(*k, *v);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 403, "POST {path} with {what}");
        }
    }
    // Still signed in: none of the forged posts (logout among them) did anything.
    let r = c.get(env.url(ORDINARY, "/files")).send().await.unwrap();
    assert_eq!(r.status(), 200, "a forged POST changed the session");
    // The same form with the token, from this origin, is not refused as forged.
    // Logout last: after it the session (and a token bound to it) is gone.
    let mut in_order = posts.clone();
    in_order.sort_by_key(|p| *p == "/auth/logout");
    for path in &in_order {
        let r = c
            .post(env.url(ORDINARY, path))
            .header("origin", &origin)
            .form(&[("csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        let body = r.text().await.unwrap_or_default();
        assert!(!body.contains("For your security the form could not be accepted"), "POST {path} with a good token");
    }
    env.cleanup().await;
}
