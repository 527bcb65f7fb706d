//! Dot-segments in every encoding (SPEC section 3, step 5): rules match the
//! normalised path only, so `/public/` (bypass) cannot be climbed out of and
//! `/internal` (deny) cannot be reached around.

use crate::kit::*;
use crate::support::*;

const CLIMB_OUT_OF_PUBLIC: &[&str] = &[
    "/public/../files/secret",
    "/public/%2e%2e/files/secret",
    "/public/%2E%2E/files/secret",
    "/public/.%2e/files/secret",
    "/public/%2e./files/secret",
    "/public/..%2ffiles/secret",
    "/public/..%2Ffiles/secret",
    "/public/%2e%2e%2ffiles/secret",
    "/public/..%5cfiles/secret",
    "/public/..\\files/secret",
    "/public/%252e%252e/files/secret",
    "/public//../files/secret",
    "/public/./../files/secret",
    "/public/%00/../files/secret",
];

const REACH_INTERNAL: &[&str] = &[
    "/files/../internal/x",
    "/files/%2e%2e/internal/x",
    "/files/%2e%2e%2finternal/x",
    "/./internal/x",
    "//internal/x",
    "/%2finternal/x",
    "/%69nternal/x",
    "/files/..%2f..%2finternal/x",
    "/../internal/x",
    "/%2e%2e/internal/x",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_dot_segments_do_not_escape_rules() {
    let Some((env, c)) = signed_in(Db::Sqlite).await else { return };
    let anon = bare(&env);
    for path in CLIMB_OUT_OF_PUBLIC {
        let before = env.origin_count();
        let r = anon.get(format!("http://{ORDINARY}:{}{path}", env.port)).send().await;
        let status = r.map(|r| r.status().as_u16()).unwrap_or(400);
        // Percent-decoding is applied once: `%252e%252e` is the literal segment
        // `%2e%2e` inside /public and may be served, but only as a /public path
        // with no dot-segment left in it.
        let reached: Vec<_> = env.origin_requests().into_iter().skip(before).collect();
        assert!(matches!(status, 400 | 401 | 403) || (status == 200 && reached.len() == 1), "{path}: {status}");
        for e in reached {
            assert!(e.path.starts_with("/public/"), "{path} reached the origin as {}", e.path);
            let decoded = percent_encoding::percent_decode_str(&e.path).decode_utf8_lossy().into_owned();
            assert!(decoded.split('/').all(|seg| seg != ".." && seg != "."), "{path} reached the origin as {}", e.path);
        }
    }
    for path in REACH_INTERNAL {
        let before = env.origin_count();
        let r = c.get(format!("http://{ORDINARY}:{}{path}", env.port)).send().await;
        let status = r.map(|r| r.status().as_u16()).unwrap_or(400);
        assert!(matches!(status, 400 | 403), "{path}: {status}");
        nothing_reached_origin(&env, before, path);
    }
    // Raw bytes that a client library would clean up first.
    let cookie = fresh_session(&env).await;
    for path in ["/files/../internal/x", "/files/./../internal/x", "/files/%2e%2e/internal/x"] {
        let before = env.origin_count();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {ORDINARY}:{}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n",
            env.port
        );
        let r = raw(&env, INTERNET, req.as_bytes()).await;
        assert!(matches!(r.first(), None | Some(400) | Some(403)), "{path}: {:?}", r.first());
        nothing_reached_origin(&env, before, path);
    }
    env.cleanup().await;
}
