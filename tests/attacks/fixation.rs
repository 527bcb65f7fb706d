//! Session fixation: a session id planted in the victim's browser before login
//! is never the one that login produces, and a planted id opens nothing.

use crate::kit::*;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_session_ids_are_never_adopted() {
    let Some((env, _)) = signed_in(Db::Sqlite).await else { return };
    // The attacker's own valid session, and made-up ids, each planted before the victim signs in.
    let attackers = fresh_session(&env).await;
    let planted = [
        attackers.clone(),
        "gw_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        "gw_session=attacker-chosen".to_owned(),
    ];
    for cookie in &planted {
        let c = bare(&env);
        let page = c.get(env.url(ORDINARY, "/auth/login")).header("cookie", cookie).send().await.unwrap();
        let csrf_cookie = set_cookie_pair(&page, "gw_csrf");
        let html = page.text().await.unwrap();
        let mut cookies = cookie.clone();
        if let Some(cc) = csrf_cookie {
            cookies = format!("{cookies}; {cc}");
        }
        let r = c
            .post(env.url(ORDINARY, "/auth/login"))
            .header("cookie", &cookies)
            .form(&[("email", USER), ("password", PASSWORD), ("csrf", &csrf_from(&html)), ("rd", "/files")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "login with {cookie} planted");
        let issued = set_cookie_pair(&r, "gw_session").expect("login issues a new session cookie");
        assert_ne!(&issued, cookie, "login adopted the planted session id");
    }
    // Made-up ids never became sessions.
    for cookie in &planted[1..] {
        let before = env.origin_count();
        let r = bare(&env).get(env.url(ORDINARY, "/files")).header("cookie", cookie).send().await.unwrap();
        assert_eq!(r.status(), 401, "{cookie}");
        nothing_reached_origin(&env, before, cookie);
    }
    env.cleanup().await;
}
