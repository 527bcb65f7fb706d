//! SPEC section 11: headers an origin may trust for routing or identity
//! (`X-Original-URL`, `X-Rewrite-URL`, `X-Forwarded-Host`, `X-Forwarded-Proto`,
//! `Forwarded`, `X-Real-IP`, `True-Client-IP`, `X-Client-IP`, `CF-Connecting-IP`,
//! and the configured `remove_headers`) are removed or overwritten: the origin
//! never sees a client's value, in any spelling, sent once or twice.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

const ALICE: &str = "alice@acme.example";

/// Every spelling a server might fold into the same name.
fn spellings(name: &str) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    vec![name.to_owned(), lower.clone(), name.to_ascii_uppercase(), lower.replace('-', "_"), name.replace('-', "_")]
}

/// One request written byte for byte (header names exactly as given), answered
/// and closed; returns the status.
async fn raw(env: &Env, from: &str, host: &str, path: &str, headers: &[(String, String)], cookie: &str) -> u16 {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut s = sock.connect(env.addr()).await.unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}:{}\r\nConnection: close\r\n", env.port);
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&out);
    text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// The session cookie `c` holds after signing in, as a `Cookie` header value.
async fn session_cookie(env: &Env) -> String {
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).resolve(ORDINARY, env.addr());
    let c = c.build().unwrap();
    let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap();
    let csrf_cookie: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let csrf = csrf_from(&page.text().await.unwrap());
    let r = c
        .post(env.url(ORDINARY, "/auth/login"))
        .header("cookie", csrf_cookie.join("; "))
        .form(&[("email", ALICE), ("password", PASSWORD), ("csrf", &csrf), ("rd", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "sign-in");
    let mut jar: Vec<String> = csrf_cookie;
    jar.extend(
        r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned)),
    );
    jar.join("; ")
}

/// Sends each header (every spelling, once and twice, on a bypassed path and
/// on an authenticated one, directly and through the trusted proxy) and checks
/// the origin's log: none of the client's values arrived, and the forwarded
/// host and scheme are the gateway's.
async fn check_headers(env: &Env, names: &[&str]) {
    let cookie = session_cookie(env).await;
    let mut sent = 0;
    for name in names {
        for (i, spelling) in spellings(name).into_iter().enumerate() {
            let marker = format!("evil{i}-{}", name.to_ascii_lowercase());
            let once = vec![(spelling.clone(), format!("/{marker}"))];
            let twice = vec![(spelling.clone(), format!("/{marker}")), (spelling.clone(), format!("{marker}.example"))];
            for (from, path, headers, cookie) in [
                (INTERNET, "/public/x", &once, ""),
                (INTERNET, "/files", &twice, cookie.as_str()),
                (PROXY, "/public/y", &twice, ""),
            ] {
                let status = raw(env, from, ORDINARY, path, headers, cookie).await;
                assert_eq!(status, 200, "{spelling} on {path} from {from}");
                sent += 1;
            }
        }
    }
    let seen = env.origin_requests();
    assert_eq!(seen.len(), sent, "every request reached the origin");
    for r in &seen {
        for (k, v) in &r.headers {
            assert!(!v.contains("evil"), "the origin saw the client's {k}: {v} (on {})", r.path);
        }
        let expected_host = format!("{ORDINARY}:{}", env.port);
        assert_eq!(r.all("x-forwarded-host"), [expected_host.as_str()], "on {}", r.path);
        assert_eq!(r.all("x-forwarded-proto"), ["http"], "on {}", r.path);
        assert!(r.path.starts_with("/public/") || r.path == "/files", "the origin served {}", r.path);
    }
}

async fn started(remove_headers: Option<&str>) -> Option<Env> {
    let mut env = Env::new(Db::Sqlite).await?;
    if let Some(list) = remove_headers {
        env.tweak_config("threads: 2\n", &format!("threads: 2\nremove_headers: {list}\n"));
    }
    env.seed_tenant("acme", ALICE, "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    Some(env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_and_address_headers_never_reach_the_origin() {
    let Some(env) = started(None).await else { return };
    check_headers(
        &env,
        &[
            "X-Original-URL",
            "X-Rewrite-URL",
            "X-Forwarded-Host",
            "X-Forwarded-Proto",
            "X-Forwarded-Port",
            "X-Forwarded-Prefix",
            "Forwarded",
            "X-Real-IP",
            "True-Client-IP",
            "X-Client-IP",
            "CF-Connecting-IP",
        ],
    )
    .await;
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_headers_never_reach_the_origin() {
    let Some(env) = started(Some("[\"X-Tenant-Hint\", \"X-Debug-As\"]")).await else { return };
    check_headers(&env, &["X-Tenant-Hint", "X-Debug-As"]).await;
    env.cleanup().await;
}
