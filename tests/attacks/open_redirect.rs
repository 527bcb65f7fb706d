//! Open redirects through `rd` (SPEC section 8: a path on this host only):
//! whatever `rd` says, the browser is sent to a path of this host.

use crate::kit::*;
use crate::support::*;

const HOSTILE: &[&str] = &[
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/%2f/evil.example",
    "/%5c/evil.example",
    "%2f%2fevil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    " //evil.example",
    "\r\n//evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http:evil.example",
    "https:/evil.example",
    "/@evil.example",
    "@evil.example",
    "evil.example",
    "/files\r\nSet-Cookie: x=y",
    "/.//evil.example",
    "/..//evil.example",
];

fn is_same_host_path(location: &str) -> bool {
    location.starts_with('/')
        && !location.starts_with("//")
        && !location.starts_with("/\\")
        && !location.contains('\\')
        && !location.chars().any(|c| c.is_control())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_paths_stay_on_this_host() {
    let Some((env, _)) = signed_in(Db::Sqlite).await else { return };
    for rd in HOSTILE {
        let c = env.client(INTERNET);
        let page = c
            .get(env.url(ORDINARY, &format!("/auth/login?rd={}", urlencode(rd))))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let r = c
            .post(env.url(ORDINARY, "/auth/login"))
            .form(&[("email", USER), ("password", PASSWORD), ("csrf", &csrf_from(&page)), ("rd", rd)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{rd:?}");
        let location = r.headers()["location"].to_str().unwrap_or("").to_owned();
        assert!(is_same_host_path(&location), "rd {rd:?} redirected to {location:?}");
        assert!(r.headers().get_all("set-cookie").iter().all(|v| !v.to_str().unwrap_or("").starts_with("x=")));
        // Already signed in: the login page's redirect obeys the same rule.
        let r = c.get(env.url(ORDINARY, &format!("/auth/login?rd={}", urlencode(rd)))).send().await.unwrap();
        if let Some(loc) = r.headers().get("location") {
            assert!(is_same_host_path(loc.to_str().unwrap_or("//")), "signed in, rd {rd:?} → {loc:?}");
        }
    }
    env.cleanup().await;
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
