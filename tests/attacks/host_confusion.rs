//! The hostname kind decides whether 2FA or the line applies (SPEC section 3,
//! step 1), so the gateway must agree with itself on which host was asked:
//! duplicate or conflicting Host, an absolute-form URI naming another host, or
//! none at all are refused before anything is proxied.

use crate::kit::*;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_hosts_are_refused() {
    let Some((env, _c)) = signed_in(Db::Sqlite).await else { return };
    let cookie = fresh_session(&env).await;
    let port = env.port;
    let o = format!("{ORDINARY}:{port}");
    let l = format!("{LINE_HOST}:{port}");
    let cases: Vec<(String, String)> = vec![
        ("duplicate Host".into(), format!("GET /files HTTP/1.1\r\nHost: {o}\r\nHost: {l}\r\n")),
        ("duplicate identical Host".into(), format!("GET /files HTTP/1.1\r\nHost: {o}\r\nHost: {o}\r\n")),
        ("no Host".into(), "GET /files HTTP/1.1\r\n".into()),
        ("empty Host".into(), "GET /files HTTP/1.1\r\nHost: \r\n".into()),
        ("unknown Host".into(), "GET /files HTTP/1.1\r\nHost: evil.example\r\n".into()),
        ("Host with userinfo".into(), format!("GET /files HTTP/1.1\r\nHost: evil@{o}\r\n")),
        (
            "absolute-form for the line host, Host ordinary".into(),
            format!("GET http://{l}/files HTTP/1.1\r\nHost: {o}\r\n"),
        ),
        ("absolute-form for another host".into(), format!("GET http://evil.example/files HTTP/1.1\r\nHost: {o}\r\n")),
        ("comma-joined Host".into(), format!("GET /files HTTP/1.1\r\nHost: {o}, {l}\r\n")),
    ];
    for (what, head) in cases {
        let before = env.origin_count();
        let req = format!("{head}Cookie: {cookie}\r\nConnection: close\r\n\r\n");
        let r = raw(&env, INTERNET, req.as_bytes()).await;
        let status = r.first();
        assert!(
            !matches!(status, Some(200..=399)),
            "{what}: answered {status:?}:\n{}",
            r.text.lines().next().unwrap_or_default()
        );
        nothing_reached_origin(&env, before, &what);
    }
    // The same cookie with one plain Host passes: the refusals above are about the host.
    let ok = raw(
        &env,
        INTERNET,
        format!("GET /files HTTP/1.1\r\nHost: {o}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(ok.first(), Some(200), "{}", ok.text);
    env.cleanup().await;
}
