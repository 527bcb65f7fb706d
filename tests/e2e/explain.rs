//! `gateway policy explain --json` against the proxy's real decision, row by row.

use std::collections::HashMap;

use crate::support::*;

struct Row {
    host: &'static str,
    ip: &'static str,
    line: Option<&'static str>,
    user: Option<&'static str>,
    path: &'static str,
}

/// What the proxy answers a non-page request for each outcome.
fn status_of(outcome: &str) -> u16 {
    match outcome {
        "allow" | "bypass" => 200,
        "login" | "second_factor" => 401,
        "deny_line" | "deny_path" | "deny_role" => 403,
        "unknown_host" => 421,
        "bad_request" => 400,
        other => panic!("unknown outcome {other}"),
    }
}

fn session_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gw_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_matches_the_proxy() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.seed_tenant("acme", "alice@acme.example", "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.ok(&["tenant", "lines", "add", "acme", "CAF0000000001"]);
    env.seed_tenant("only", "olga@only.example", "user");
    env.ok(&["tenant", "networks", "add", "only", OFFICE_NET]);
    env.ok(&["tenant", "set-route", "only", "line-only"]);
    env.seed_tenant("strict", "tom@strict.example", "user");
    env.start().await;

    // One session per (user, hostname), made through the real login form.
    let mut sessions: HashMap<(&str, &str), String> = HashMap::new();
    for (user, host, from, headers) in [
        ("alice@acme.example", ORDINARY, INTERNET, vec![]),
        ("alice@acme.example", LINE_HOST, CARRIER, vec![("x-line-id", "CAF0000000001")]),
        ("olga@only.example", ORDINARY, INTERNET, vec![]),
        ("tom@strict.example", ORDINARY, INTERNET, vec![]),
    ] {
        let c = env.client(from);
        let r = login(&c, &env, host, user, PASSWORD, &headers).await;
        assert_eq!(r.status(), 303, "{user} on {host}");
        sessions.insert((user, host), session_cookie(&r));
    }

    let rows = [
        Row { host: ORDINARY, ip: INTERNET, line: None, user: None, path: "/files" },
        Row { host: ORDINARY, ip: INTERNET, line: None, user: Some("alice@acme.example"), path: "/files" },
        Row { host: ORDINARY, ip: INTERNET, line: None, user: Some("alice@acme.example"), path: "/internal/x" },
        Row { host: ORDINARY, ip: INTERNET, line: None, user: Some("alice@acme.example"), path: "/admin/panel" },
        Row { host: ORDINARY, ip: INTERNET, line: None, user: None, path: "/public/logo.svg" },
        Row { host: ORDINARY, ip: INTERNET, line: None, user: None, path: "/%zz" },
        Row {
            host: ORDINARY,
            ip: INTERNET,
            line: Some("CAF0000000001"),
            user: Some("alice@acme.example"),
            path: "/files",
        },
        Row {
            host: LINE_HOST,
            ip: CARRIER,
            line: Some("CAF0000000001"),
            user: Some("alice@acme.example"),
            path: "/files",
        },
        Row {
            host: LINE_HOST,
            ip: CARRIER,
            line: Some("CAF9999999999"),
            user: Some("alice@acme.example"),
            path: "/files",
        },
        Row { host: LINE_HOST, ip: CARRIER, line: None, user: Some("alice@acme.example"), path: "/files" },
        Row {
            host: LINE_HOST,
            ip: INTERNET,
            line: Some("CAF0000000001"),
            user: Some("alice@acme.example"),
            path: "/files",
        },
        Row { host: ORDINARY, ip: INTERNET, line: None, user: Some("olga@only.example"), path: "/files" },
        Row { host: ORDINARY, ip: OFFICE, line: None, user: Some("olga@only.example"), path: "/files" },
        Row { host: ORDINARY, ip: INTERNET, line: None, user: Some("tom@strict.example"), path: "/files" },
        Row { host: "evil.example", ip: INTERNET, line: None, user: None, path: "/files" },
    ];
    let mut seen = std::collections::BTreeSet::new();
    for row in &rows {
        let mut args = vec!["policy", "explain", "--host", row.host, "--ip", row.ip, "--path", row.path, "--json"];
        if let Some(l) = row.line {
            args.extend(["--line", l]);
        }
        if let Some(u) = row.user {
            args.extend(["--user", u]);
        }
        let v: serde_json::Value = serde_json::from_str(&env.ok(&args)).unwrap();
        let outcome = v["outcome"].as_str().unwrap().to_owned();

        // The office is not a local address: the trusted proxy forwards it.
        let from = if row.ip == OFFICE { PROXY } else { row.ip };
        let c = reqwest::Client::builder()
            .local_address(from.parse::<std::net::IpAddr>().ok())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut req = c.get(format!("http://127.0.0.1:{}{}", env.port, row.path)).header("host", row.host);
        if row.ip == OFFICE {
            req = req.header("x-forwarded-for", OFFICE);
        }
        if let Some(l) = row.line {
            req = req.header("x-line-id", l);
        }
        if let Some(u) = row.user {
            let host = if row.host == LINE_HOST { LINE_HOST } else { ORDINARY };
            req = req.header("cookie", sessions[&(u, host)].as_str());
        }
        let got = req.send().await.unwrap().status().as_u16();
        assert_eq!(
            got,
            status_of(&outcome),
            "{} {} line={:?} user={:?} {}: explain says {outcome}",
            row.host,
            row.ip,
            row.line,
            row.user,
            row.path
        );
        seen.insert(outcome);
    }
    for expected in [
        "allow",
        "bypass",
        "login",
        "second_factor",
        "deny_line",
        "deny_path",
        "deny_role",
        "unknown_host",
        "bad_request",
    ] {
        assert!(seen.contains(expected), "the table never reached {expected}: {seen:?}");
    }
    env.cleanup().await;
}

/// `--method` explains a federated session: the tenant's 2FA switch does not
/// apply to it, and the origin would be told the provider's id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_method_for_federated_sessions() {
    let Some(env) = Env::new(Db::Sqlite).await else { return };
    env.seed_tenant("strict", "tom@strict.example", "user");
    let explain = |method: Option<&str>| {
        let mut args = vec!["policy", "explain", "--host", ORDINARY, "--ip", INTERNET, "--path", "/files"];
        args.extend(["--user", "tom@strict.example", "--json"]);
        if let Some(m) = method {
            args.extend(["--method", m]);
        }
        serde_json::from_str::<serde_json::Value>(&env.ok(&args)).unwrap()
    };
    // Tom signs in with a password and the tenant asks for 2FA.
    assert_eq!(explain(None)["outcome"], "second_factor");
    assert_eq!(explain(Some("password"))["outcome"], "second_factor");
    let v = explain(Some("ad"));
    assert_eq!(v["outcome"], "allow", "{v}");
    assert_eq!(v["identity"]["method"], "ad");
    let codes: Vec<&str> = v["reasons"].as_array().unwrap().iter().filter_map(|r| r["code"].as_str()).collect();
    assert!(codes.iter().any(|c| c.contains("federated")), "{codes:?}");

    let out = env.cli(
        &[
            "policy",
            "explain",
            "--host",
            ORDINARY,
            "--ip",
            INTERNET,
            "--user",
            "tom@strict.example",
            "--method",
            "nosuch",
        ],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nosuch") && err.contains("password") && err.contains("ad"), "{err}");
    let out = env.cli(&["policy", "explain", "--host", ORDINARY, "--ip", INTERNET, "--method", "ad"], None);
    assert!(!out.status.success(), "--method without --user");
    env.cleanup().await;
}
