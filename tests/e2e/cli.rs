//! The command line as operators' scripts use it.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_reports_file_line_column() {
    let Some(env) = Env::new(Db::Sqlite).await else { return };
    assert!(env.ok(&["check-config"]).contains(": ok"));
    let text = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        text.replace("trusted_proxies: [\"127.0.0.3/32\"]", "trusted_proxies:\n  - 10.0.0.0/33"),
    )
    .unwrap();
    let out = env.cli(&["check-config"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gateway.yaml:"), "{err}");
    let loc = err.split("gateway.yaml:").nth(1).unwrap_or("");
    let mut parts = loc.split(':');
    let line: usize = parts.next().unwrap_or("").parse().expect("line number");
    let col: usize = parts.next().unwrap_or("").parse().expect("column number");
    assert_eq!(text.lines().position(|l| l.starts_with("trusted_proxies")).map(|i| i + 2), Some(line));
    assert_eq!(col, 5);

    // The policy file is checked too.
    std::fs::write(&env.config, &text).unwrap();
    std::fs::write(&env.policy, "tenants:\n  acme:\n    lines: [CAF123]\n").unwrap();
    let out = env.cli(&["check-config"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("policy.yaml:3:") && err.contains("13 characters"), "{err}");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_commands_and_explain() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    let out = env.ok(&["tenant", "create", "acme", "--owner", "Boss@Acme.example", "--plan", "trial"]);
    assert!(out.contains("owner boss@acme.example"), "{out}");
    let link = out.lines().find(|l| l.contains("/auth/invite?ticket=")).expect("invitation link").trim().to_owned();

    // Bad input: clear messages, non-zero exit, nothing changed.
    let out = env.cli(&["tenant", "lines", "add", "acme", "CAF0123456789", "CAF12"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"CAF12\"") && err.contains("13 characters"), "{err}");
    let out = env.cli(&["tenant", "networks", "add", "acme", "10.0.0.0/33"], None);
    assert!(!out.status.success());
    let out = env.cli(&["tenant", "set-route", "nosuch", "line-only"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tenant named"));
    let out = env.cli(&["tenant", "create", "acme", "--owner", "x@y.example"], None);
    assert!(!out.status.success());
    let out = env.cli(&["user", "add", "weak@acme.example", "--tenant", "acme", "--password-stdin"], Some("short\n"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("8 characters"));

    env.ok(&["tenant", "lines", "add", "acme", "CAF0123456789"]);
    env.ok(&["tenant", "networks", "add", "acme", "192.0.2.0/24"]);
    env.ok(&["tenant", "set-route", "acme", "line-only"]);

    let out = env.ok(&[
        "policy",
        "explain",
        "--host",
        ORDINARY,
        "--ip",
        "198.51.100.7",
        "--user",
        "boss@acme.example",
        "--path",
        "/files",
    ]);
    assert!(out.starts_with("outcome: deny_line"), "{out}");
    assert!(out.contains("line-only"), "{out}");
    let out = env.ok(&[
        "policy",
        "explain",
        "--host",
        LINE_HOST,
        "--ip",
        CARRIER,
        "--line",
        "caf0123456789",
        "--user",
        "boss@acme.example",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["outcome"], "allow");
    assert_eq!(v["identity"]["method"], "password+line");
    let codes: Vec<&str> = v["reasons"].as_array().unwrap().iter().filter_map(|r| r["code"].as_str()).collect();
    assert!(codes.contains(&"line_registered") && codes.contains(&"line_is_second_factor"), "{codes:?}");
    // line-only turns the 2FA switch off, and both the CLI and explain say so.
    let out = env.ok(&["tenant", "set-2fa", "acme", "on"]);
    assert!(out.contains("line-only"), "{out}");
    let out = env.ok(&[
        "policy",
        "explain",
        "--host",
        ORDINARY,
        "--ip",
        "192.0.2.9",
        "--user",
        "boss@acme.example",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["outcome"], "allow", "{out}");
    let codes: Vec<&str> = v["reasons"].as_array().unwrap().iter().filter_map(|r| r["code"].as_str()).collect();
    assert!(codes.contains(&"two_factor_off_by_line_only"), "{codes:?}");
    // Path rules are named with where they were declared.
    let out = env.ok(&["policy", "explain", "--host", ORDINARY, "--ip", "192.0.2.1", "--path", "/internal/x"]);
    assert!(out.contains("policy.yaml: paths[1], prefix /internal"), "{out}");
    let out = env.ok(&["policy", "explain", "--host", "evil.example", "--ip", "192.0.2.1", "--json"]);
    assert!(out.contains("\"unknown_host\""));
    let out = env.cli(&["policy", "explain", "--host", ORDINARY, "--ip", "not-an-ip"], None);
    assert!(!out.status.success());

    // The printed invitation works: set a password, then sign in from a registered network.
    env.ok(&["tenant", "set-route", "acme", "line-and-internet"]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let c = env.client(INTERNET);
    let path =
        link.split_once(&format!(":{}", env.port)).map(|(_, p)| p.to_owned()).expect("link on the gateway's port");
    let page = c.get(env.url(ORDINARY, &path)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("At least 8 characters"), "the rule is stated on the form");
    let csrf = csrf_from(&page);
    let r = c
        .post(env.url(ORDINARY, &path))
        .form(&[("password", "weakweak"), ("password_confirm", "weakweak"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .post(env.url(ORDINARY, &path))
        .form(&[("password", PASSWORD), ("password_confirm", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c.get(env.url(ORDINARY, &path)).send().await.unwrap();
    assert_eq!(r.status(), 410, "an invitation works once");
    assert_eq!(login(&c, &env, ORDINARY, "boss@acme.example", PASSWORD, &[]).await.status(), 303);
    let echo = Echo::from(c.get(env.url(ORDINARY, "/files")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-role"), Some("owner"));
    env.cleanup().await;
}
