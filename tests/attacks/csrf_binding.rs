//! SPEC sections 10 and 11: a CSRF token is bound to the browser's session (or,
//! before sign-in, to its own random pre-session cookie), so a token planted or
//! copied from another browser is refused; with `secure_cookies: true` every
//! cookie of ours carries the `__Host-` prefix and unprefixed ones are ignored.

use crate::support::*;

const ALICE: &str = "alice@acme.example";
const BOB: &str = "bob@acme.example";

/// A client that keeps no cookies: each test writes its `Cookie` header itself.
fn bare(env: &Env) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(ORDINARY, env.addr())
        .build()
        .unwrap()
}

/// `name=value` of every cookie a response sets, and the raw Set-Cookie lines.
fn set_cookies(r: &reqwest::Response) -> (Vec<(String, String)>, Vec<String>) {
    let raw: Vec<String> =
        r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect();
    let pairs = raw
        .iter()
        .filter_map(|l| l.split(';').next()?.split_once('=').map(|(n, v)| (n.trim().to_owned(), v.to_owned())))
        .collect();
    (pairs, raw)
}

fn cookie_header(jar: &[(String, String)]) -> String {
    jar.iter().filter(|(_, v)| !v.is_empty()).map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
}

fn put(jar: &mut Vec<(String, String)>, new: Vec<(String, String)>) {
    for (n, v) in new {
        jar.retain(|(m, _)| *m != n);
        jar.push((n, v));
    }
}

/// A form page's token and the cookies it set, for a browser holding `jar`.
async fn page(env: &Env, jar: &mut Vec<(String, String)>, path: &str) -> String {
    let r = bare(env).get(env.url(ORDINARY, path)).header("cookie", cookie_header(jar)).send().await.unwrap();
    put(jar, set_cookies(&r).0);
    csrf_from(&r.text().await.unwrap())
}

/// Signs in through the form; the browser's cookies afterwards.
async fn signed_in(env: &Env, email: &str) -> Vec<(String, String)> {
    let mut jar = Vec::new();
    let token = page(env, &mut jar, "/auth/login").await;
    let r = bare(env)
        .post(env.url(ORDINARY, "/auth/login"))
        .header("cookie", cookie_header(&jar))
        .form(&[("email", email), ("password", PASSWORD), ("csrf", &token), ("rd", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "sign-in of {email}");
    put(&mut jar, set_cookies(&r).0);
    jar
}

async fn files_status(env: &Env, jar: &[(String, String)]) -> u16 {
    let r = bare(env).get(env.url(ORDINARY, "/files")).header("cookie", cookie_header(jar)).send().await.unwrap();
    r.status().as_u16()
}

async fn logout(env: &Env, cookie: &str, token: &str) -> u16 {
    let r = bare(env)
        .post(env.url(ORDINARY, "/auth/logout"))
        .header("cookie", cookie)
        .form(&[("csrf", token)])
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

async fn started(secure: bool) -> Option<Env> {
    let mut env = Env::new(Db::Sqlite).await?;
    if secure {
        env.tweak_config("  secure_cookies: false\n", "  secure_cookies: true\n");
    }
    env.seed_tenant("acme", ALICE, "user");
    let out = env.cli(&["user", "add", BOB, "--tenant", "acme", "--password-stdin"], Some(&format!("{PASSWORD}\n")));
    assert!(out.status.success());
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    Some(env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_another_browser_is_refused() {
    let Some(env) = started(false).await else { return };
    let mut alice = signed_in(&env, ALICE).await;
    let mut bob = signed_in(&env, BOB).await;
    let alice_token = page(&env, &mut alice, "/auth/password/forgot").await;
    let bob_session = bob.iter().find(|(n, _)| n == "gw_session").cloned().unwrap();
    let alice_csrf = alice.iter().find(|(n, _)| n == "gw_csrf").cloned().unwrap();
    // The attacker's own pre-session pair, fetched from the login page.
    let mut stranger = Vec::new();
    let stranger_token = page(&env, &mut stranger, "/auth/login").await;
    let stranger_csrf = stranger.iter().find(|(n, _)| n == "gw_csrf").cloned().unwrap();
    let planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    let cases: Vec<(&str, String, String)> = vec![
        ("alice's token with bob's cookies", cookie_header(&bob), alice_token.clone()),
        (
            "alice's token and her gw_csrf cookie planted beside bob's session",
            cookie_header(&[bob_session.clone(), alice_csrf.clone()]),
            alice_token.clone(),
        ),
        (
            "a planted double-submit pair of the attacker's choosing",
            cookie_header(&[bob_session.clone(), ("gw_csrf".into(), planted.into())]),
            planted.to_owned(),
        ),
        (
            "the attacker's own pre-session pair planted beside bob's session",
            cookie_header(&[bob_session.clone(), stranger_csrf.clone()]),
            stranger_token.clone(),
        ),
    ];
    for (what, cookie, token) in &cases {
        assert_eq!(logout(&env, cookie, token).await, 403, "{what}");
        assert_eq!(files_status(&env, &bob).await, 200, "{what}: bob is still signed in");
    }
    // Bob's own token still works (the control), and does sign him out.
    let bob_token = page(&env, &mut bob, "/auth/password/forgot").await;
    assert_eq!(logout(&env, &cookie_header(&bob), &bob_token).await, 303);
    assert_ne!(files_status(&env, &bob).await, 200);
    assert_eq!(files_status(&env, &alice).await, 200);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_carry_the_host_prefix() {
    let Some(env) = started(true).await else { return };
    let r = bare(&env).get(env.url(ORDINARY, "/auth/login?lang=en")).send().await.unwrap();
    let (pairs, raw) = set_cookies(&r);
    assert!(!raw.is_empty());
    for line in &raw {
        let lower = line.to_ascii_lowercase();
        assert!(line.starts_with("__Host-"), "{line}");
        assert!(lower.contains("; secure") && lower.contains("; path=/") && !lower.contains("domain="), "{line}");
    }
    let token = csrf_from(&r.text().await.unwrap());
    let mut jar = pairs;

    // An unprefixed copy of the CSRF cookie is not ours: the sign-in is refused.
    let unprefixed: Vec<(String, String)> =
        jar.iter().map(|(n, v)| (n.trim_start_matches("__Host-").to_owned(), v.clone())).collect();
    let form = [("email", ALICE), ("password", PASSWORD), ("csrf", token.as_str()), ("rd", "/")];
    let r = bare(&env)
        .post(env.url(ORDINARY, "/auth/login"))
        .header("cookie", cookie_header(&unprefixed))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "unprefixed CSRF cookie");

    let r = bare(&env)
        .post(env.url(ORDINARY, "/auth/login"))
        .header("cookie", cookie_header(&jar))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (pairs, raw) = set_cookies(&r);
    assert!(raw.iter().all(|l| l.starts_with("__Host-") && l.contains("; Secure")), "{raw:?}");
    put(&mut jar, pairs);
    assert!(jar.iter().any(|(n, _)| n == "__Host-gw_session"), "{jar:?}");
    assert_eq!(files_status(&env, &jar).await, 200);

    // The same session id under the unprefixed name is ignored.
    let session = jar.iter().find(|(n, _)| n == "__Host-gw_session").map(|(_, v)| v.clone()).unwrap();
    assert_eq!(files_status(&env, &[("gw_session".into(), session)]).await, 401);
    // The origin never sees our cookies, prefixed or not.
    for r in env.origin_requests() {
        assert!(!r.all("cookie").iter().any(|c| c.contains("gw_")), "{:?}", r.all("cookie"));
    }
    env.cleanup().await;
}
