//! Oversized input: huge headers, many headers and large bodies are refused
//! early, never proxied, and leave the gateway serving others.

use crate::kit::*;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_are_refused() {
    let Some((env, _c)) = signed_in(Db::Sqlite).await else { return };
    let cookie = fresh_session(&env).await;
    let host = format!("{ORDINARY}:{}", env.port);
    // Pingora refuses a request head over 1 MiB or with more than 256 headers.
    let big = "a".repeat(1536 * 1024);
    let many: String = (0..300).map(|i| format!("X-Pad-{i}: v\r\n")).collect();
    let long_path = format!("/files/{}", "b".repeat(1536 * 1024));
    let cases: Vec<(&str, String)> = vec![
        (
            "one huge header",
            format!(
                "GET /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"
            ),
        ),
        (
            "a huge cookie",
            format!("GET /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}; pad={big}\r\nConnection: close\r\n\r\n"),
        ),
        (
            "many headers",
            format!("GET /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n{many}Connection: close\r\n\r\n"),
        ),
        (
            "a huge path",
            format!("GET {long_path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"),
        ),
    ];
    for (what, req) in &cases {
        let before = env.origin_count();
        let r = raw(&env, INTERNET, req.as_bytes()).await;
        assert!(!matches!(r.first(), Some(200..=399)), "{what}: answered {:?}", r.first());
        nothing_reached_origin(&env, before, what);
    }
    // Auth forms: a body over login.max_body_bytes is refused with 413, declared or not.
    let c = env.client(INTERNET);
    let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    let huge_form = format!("csrf={csrf}&email={}&password=x", "e".repeat(2 * 1024 * 1024));
    let r = c
        .post(env.url(ORDINARY, "/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge_form.clone())
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 413, "declared large form");
    }
    // The same without Content-Length (chunked): the cap holds while reading.
    let page = bare(&env).get(env.url(ORDINARY, "/auth/login")).send().await.unwrap();
    let csrf_cookie = set_cookie_pair(&page, "gw_csrf").unwrap_or_default();
    let csrf = csrf_from(&page.text().await.unwrap());
    let form = format!("csrf={csrf}&email={}&password=x", "e".repeat(2 * 1024 * 1024));
    let (a, b) = form.split_at(form.len() / 2);
    let req = format!(
        "POST /auth/login HTTP/1.1\r\nHost: {host}\r\nCookie: {csrf_cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let r = raw(&env, INTERNET, req.as_bytes()).await;
    assert!(matches!(r.first(), None | Some(413)), "chunked large form: {:?}", r.first());
    // And the gateway still serves a normal request.
    let r = raw(
        &env,
        INTERNET,
        format!("GET /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(r.first(), Some(200));
    env.cleanup().await;
}
