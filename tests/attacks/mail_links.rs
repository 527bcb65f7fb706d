//! SPEC section 11: mail links are built from `public_urls` only, never from
//! the request's `Host`. A Host that is not one of ours is already refused
//! (421), so the attacks use a configured hostname with another port, an
//! absolute-form request line, and `X-Forwarded-Host` from the trusted proxy.

use crate::support::*;

const ALICE: &str = "alice@acme.example";

fn user(n: usize) -> String {
    if n == 1 { ALICE.to_owned() } else { format!("user{n}@acme.example") }
}

/// Every absolute URL in a mail body.
fn urls(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (i, _) in body.match_indices("http") {
        let rest = &body[i..];
        if rest.starts_with("http://") || rest.starts_with("https://") {
            out.push(rest.split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>').next().unwrap_or(""));
        }
    }
    out
}

/// Asks for a reset link with the given client (its Host and headers are the
/// attack) and returns the links of the mail it produced.
/// Each case asks for its own user's link: an address gets only a few reset
/// mails a minute.
async fn forgot(env: &Env, c: &reqwest::Client, url: &str, headers: &[(&str, &str)], n: usize) -> Vec<String> {
    let email = user(n);
    let mut get = c.get(url);
    for (k, v) in headers {
        get = get.header(*k, *v);
    }
    let page = get.send().await.unwrap().text().await.unwrap();
    let mut post = c.post(url).form(&[("email", email.as_str()), ("csrf", &csrf_from(&page))]);
    for (k, v) in headers {
        post = post.header(*k, *v);
    }
    assert_eq!(post.send().await.unwrap().status(), 200, "{url} {headers:?}");
    let body = env.wait_mail(&email, "ticket=", 1).await;
    urls(&body).into_iter().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_links_ignore_the_request_host() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.seed_tenant("acme", ALICE, "user");
    for n in 2..=7 {
        let out =
            env.cli(&["user", "add", &user(n), "--tenant", "acme", "--password-stdin"], Some(&format!("{PASSWORD}\n")));
        assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
    }
    env.start().await;
    let port = env.port;
    // Unset public_urls: the default is derived from `hosts` (plain http on the
    // listener's port, as secure_cookies is off here).
    let ordinary = format!("http://{ORDINARY}:{port}/");
    let line = format!("http://{LINE_HOST}:{port}/");
    // A client that sends absolute-form request lines (as to a proxy) to the gateway.
    let absolute = reqwest::Client::builder()
        .cookie_store(true)
        .proxy(reqwest::Proxy::http(format!("http://127.0.0.1:{port}")).unwrap())
        .build()
        .unwrap();
    let direct = env.client(INTERNET);
    let proxied = env.client(PROXY);
    let forged_ordinary = format!("{ORDINARY}:6666");
    let forged_line = format!("{LINE_HOST}:7777");
    // (client, URL asked, extra headers, where the mailed links must point)
    type Case<'a> = (&'a reqwest::Client, String, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (&direct, env.url(ORDINARY, "/auth/password/forgot"), vec![("Host", forged_ordinary.as_str())], &ordinary),
        (&direct, env.url(LINE_HOST, "/auth/password/forgot"), vec![("Host", forged_line.as_str())], &line),
        (&absolute, format!("http://{forged_ordinary}/auth/password/forgot"), vec![], &ordinary),
        (&absolute, format!("http://{forged_line}/auth/password/forgot"), vec![], &line),
        (
            &proxied,
            env.url(ORDINARY, "/auth/password/forgot"),
            vec![
                ("X-Forwarded-Host", "evil.example:8443"),
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-For", "203.0.113.9"),
            ],
            &ordinary,
        ),
    ];
    for (n, (client, url, headers, expected)) in cases.iter().enumerate() {
        let links = forgot(&env, client, url, headers, n + 1).await;
        assert!(!links.is_empty(), "no link in the mail for {url} {headers:?}");
        for l in &links {
            assert!(l.starts_with(*expected), "{url} {headers:?}: mailed {l}, expected under {expected}");
        }
    }

    // Configured public URLs are what mails use, whatever the request said.
    env.tweak_config(
        "threads: 2\n",
        "threads: 2\npublic_urls:\n  ordinary: \"https://storage.example.net\"\n  line_auth: \"https://line.example.biz:8443\"\n",
    );
    env.restart_with(&[]).await;
    let n = cases.len();
    let links =
        forgot(&env, &direct, &env.url(ORDINARY, "/auth/password/forgot"), &[("Host", &forged_ordinary)], n + 1).await;
    assert!(links.iter().all(|l| l.starts_with("https://storage.example.net/")), "{links:?}");
    let links = forgot(&env, &absolute, &format!("http://{forged_line}/auth/password/forgot"), &[], n + 2).await;
    assert!(links.iter().all(|l| l.starts_with("https://line.example.biz:8443/")), "{links:?}");
    assert_eq!(env.origin_count(), 0);
    env.cleanup().await;
}
