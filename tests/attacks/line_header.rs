//! The line header is believed only from `carrier.trusted_networks` (SPEC
//! section 3, step 3). From anyone else, in any spelling, it opens nothing on
//! the line-auth hostname, and a malformed or repeated one from the carrier
//! fails closed.

use crate::kit::*;
use crate::support::*;

const LINE: &str = "CAF0123456789";

/// (source address, headers, must the login succeed?)
type Case = (&'static str, &'static [(&'static str, &'static str)], bool);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_header_from_outside_the_carrier_is_refused() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.seed_tenant("acme", USER, "user");
    env.ok(&["tenant", "lines", "add", "acme", LINE]);
    env.start().await;

    let cases: &[Case] = &[
        (INTERNET, &[("X-Line-Id", LINE)], false),
        (INTERNET, &[("x_line_id", LINE)], false),
        (PROXY, &[("X-Line-Id", LINE)], false),
        (PROXY, &[("X-Line-Id", LINE), ("X-Forwarded-For", CARRIER)], false),
        (CARRIER, &[("X_Line_Id", LINE)], false),
        (CARRIER, &[("X-Line-Id", "CAF012345678")], false),
        (CARRIER, &[("X-Line-Id", "CAF01234567890")], false),
        (CARRIER, &[("X-Line-Id", "CAF0123456789, CAF0123456789")], false),
        (CARRIER, &[("X-Line-Id", LINE), ("X-Line-Id", LINE)], false),
        (CARRIER, &[("X-Line-Id", "CAF012345678\u{0}")], false),
        (CARRIER, &[("X-Line-Id", LINE)], true),
    ];
    for (from, headers, ok) in cases {
        let c = env.client(from);
        let before = env.origin_count();
        let status = login_with_raw_headers(&env, &c, headers).await;
        let mut get = c.get(env.url(LINE_HOST, "/files"));
        for (k, v) in *headers {
            get = get.header(*k, *v);
        }
        let status_files = match get.send().await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 400,
        };
        if *ok {
            assert_eq!((status, status_files), (303, 200), "{from} {headers:?}");
        } else {
            assert_ne!(status_files, 200, "{from} {headers:?}: line authentication passed");
            assert_ne!(status, 303, "{from} {headers:?}: signed in on the line-auth hostname");
            nothing_reached_origin(&env, before, &format!("{from} {headers:?}"));
        }
    }
    env.cleanup().await;
}

async fn login_with_raw_headers(env: &Env, c: &reqwest::Client, headers: &[(&str, &str)]) -> u16 {
    let mut get = c.get(env.url(LINE_HOST, "/auth/login"));
    for (k, v) in headers {
        get = get.header(*k, *v);
    }
    let Ok(page) = get.send().await else { return 400 };
    let page = page.text().await.unwrap_or_default();
    if !page.contains("name=\"csrf\"") {
        return 403;
    }
    let mut post = c.post(env.url(LINE_HOST, "/auth/login")).form(&[
        ("email", USER),
        ("password", PASSWORD),
        ("csrf", &csrf_from(&page)),
        ("rd", "/files"),
    ]);
    for (k, v) in headers {
        post = post.header(*k, *v);
    }
    match post.send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 400,
    }
}
