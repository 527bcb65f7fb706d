//! Request smuggling: a second request hidden in the first one's body must
//! never reach the origin past the gateway's checks. Each case sends, on one
//! connection, an ambiguous request whose body holds `GET /internal/smuggled`,
//! a path that no one may reach (the test policy denies `/internal`).

use crate::kit::*;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smuggled_requests_never_reach_the_origin() {
    let Some((env, _c)) = signed_in(Db::Sqlite).await else { return };
    let cookie = fresh_session(&env).await;
    let host = format!("{ORDINARY}:{}", env.port);
    let hidden = format!("GET /internal/smuggled HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\r\n");
    let chunked_hidden = format!("0\r\n\r\n{hidden}");
    let n = hidden.len();
    let cases: Vec<(&str, String)> = vec![
        (
            "CL.TE",
            format!(
                "POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{chunked_hidden}",
                chunked_hidden.len()
            ),
        ),
        (
            "TE.CL",
            format!(
                "POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n{:x}\r\n{hidden}\r\n0\r\n\r\n",
                n
            ),
        ),
        (
            "two Content-Lengths",
            format!(
                "POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Length: 0\r\nContent-Length: {n}\r\n\r\n{hidden}"
            ),
        ),
        (
            "Content-Length list",
            format!(
                "POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Length: 0, {n}\r\n\r\n{hidden}"
            ),
        ),
        (
            "signed Content-Length",
            format!("POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Length: +{n}\r\n\r\n{hidden}"),
        ),
        (
            "TE obfuscated (space)",
            format!(
                "POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nTransfer-Encoding : chunked\r\nContent-Length: {}\r\n\r\n{chunked_hidden}",
                chunked_hidden.len()
            ),
        ),
        (
            "TE xchunked",
            format!(
                "POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nTransfer-Encoding: xchunked\r\nContent-Length: {}\r\n\r\n{chunked_hidden}",
                chunked_hidden.len()
            ),
        ),
        (
            "TE chunked, identity",
            format!(
                "POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nTransfer-Encoding: chunked, identity\r\n\r\n{chunked_hidden}"
            ),
        ),
        (
            "TE tab",
            format!(
                "POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nTransfer-Encoding:\tchunked\r\nContent-Length: {}\r\n\r\n{chunked_hidden}",
                chunked_hidden.len()
            ),
        ),
        (
            "TE line folding",
            format!(
                "POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nX-Pad: a\r\n Transfer-Encoding: chunked\r\nContent-Length: {}\r\n\r\n{chunked_hidden}",
                chunked_hidden.len()
            ),
        ),
        (
            "bare LF",
            format!(
                "POST /files HTTP/1.1\nHost: {host}\nCookie: {cookie}\nTransfer-Encoding: chunked\nContent-Length: {}\n\n{chunked_hidden}",
                chunked_hidden.len()
            ),
        ),
        (
            "chunk size overflow",
            format!(
                "POST /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF1\r\n{hidden}\r\n0\r\n\r\n"
            ),
        ),
        (
            "HTTP/1.0 with TE",
            format!(
                "POST /files HTTP/1.0\r\nHost: {host}\r\nCookie: {cookie}\r\nTransfer-Encoding: chunked\r\nContent-Length: {}\r\n\r\n{chunked_hidden}",
                chunked_hidden.len()
            ),
        ),
        (
            "GET with body",
            format!("GET /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Length: {n}\r\n\r\n{hidden}"),
        ),
    ];
    for (what, req) in &cases {
        let _ = raw(&env, INTERNET, req.as_bytes()).await;
        let leaked: Vec<_> = env.origin_requests().into_iter().filter(|e| e.path.contains("smuggled")).collect();
        assert!(
            leaked.is_empty(),
            "{what}: a smuggled request reached the origin: {:?}",
            leaked.iter().map(|e| &e.path).collect::<Vec<_>>()
        );
        // The gateway did not choke on it: the next honest request is served.
        let r = raw(
            &env,
            INTERNET,
            format!("GET /files HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(r.first(), Some(200), "{what}: the gateway stopped serving");
    }
    env.cleanup().await;
}
