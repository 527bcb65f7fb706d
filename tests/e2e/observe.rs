//! Operability: the log's format, the access log, and the metrics an operator
//! watches (issue 14, items 3 and 4).

use std::collections::HashSet;

use crate::support::*;

/// Appends a `log:` block to the test configuration.
fn with_log(env: &Env, block: &str) {
    let mut text = std::fs::read_to_string(&env.config).unwrap();
    text.push_str("log:\n");
    text.push_str(block);
    std::fs::write(&env.config, text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_without_colour() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    with_log(&env, "  format: json\n");
    env.start().await;
    let c = env.client(INTERNET);
    assert_eq!(c.get(env.url(ORDINARY, "/docs/a")).send().await.unwrap().status(), 401);
    let log = env.log();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "too few log lines:\n{log}");
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v["timestamp"].is_string() && v["level"].is_string(), "{l}");
        assert!(v["message"].is_string(), "no message: {l}");
    }
    assert!(
        lines.iter().any(|l| l.contains("\"message\":\"gateway starting\"") && l.contains("\"listen\":")),
        "the start line with its fields flattened is missing:\n{log}"
    );
    assert!(!log.contains('\u{1b}'), "colour codes in a log that is not a terminal");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_to_a_file_carry_no_colour_codes() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.start().await;
    let log = env.log();
    assert!(log.contains("gateway starting"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a log that is not a terminal:\n{log}");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_log_level_is_refused_at_start() {
    let Some(env) = Env::new(Db::Sqlite).await else { return };
    with_log(&env, "  level: \"gateway=loud\"\n");
    let out = std::process::Command::new(bin())
        .arg("--config")
        .arg(&env.config)
        .arg("serve")
        .env_remove("GATEWAY_LOG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("log.level") && err.contains("gateway=loud"), "{err}");
    env.cleanup().await;
}

fn access_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("access log line not JSON ({e}): {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_records_each_request_without_secrets_and_reopens_on_sighup() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.seed_tenant("acme", "alice@acme.example", "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    with_log(&env, "  access: access.log\n");
    env.start().await;
    let access = env.dir.path().join("access.log");
    let c = env.client(INTERNET);
    // A ticket in the query string (as sign-in links carry) must not be written.
    let r = c.get(env.url(ORDINARY, "/public/a?ticket=SECRET-TICKET-123")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(c.get(env.url(ORDINARY, "/docs/a")).send().await.unwrap().status(), 401);
    assert_eq!(login(&c, &env, ORDINARY, "alice@acme.example", PASSWORD, &[]).await.status(), 303);
    let cookie = c.get(env.url(ORDINARY, "/files/x")).send().await.unwrap();
    assert_eq!(cookie.status(), 200);

    eventually("the access log has the signed-in request", || async {
        access_lines(&access).iter().any(|v| v["path"] == "/files/x")
    })
    .await;
    let lines = access_lines(&access);
    let public = lines.iter().find(|v| v["path"] == "/public/a").expect("the bypassed request");
    assert_eq!(public["status"], 200);
    assert_eq!(public["outcome"], "bypass");
    assert_eq!(public["method"], "GET");
    assert_eq!(public["client"], "127.0.0.1");
    assert_eq!(public["upstream_status"], 200);
    assert!(public["upstream_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{public}");
    assert!(public["duration_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{public}");
    assert!(public["host"].as_str().is_some_and(|h| h.starts_with(ORDINARY)), "{public}");
    assert!(public["user"].is_null());
    let refused = lines.iter().find(|v| v["path"] == "/docs/a").expect("the refused request");
    assert_eq!((refused["status"].as_u64(), refused["outcome"].as_str()), (Some(401), Some("login")));
    assert!(refused["upstream_status"].is_null(), "a refusal never reached the origin: {refused}");
    let signin = lines.iter().find(|v| v["path"] == "/auth/login" && v["method"] == "POST").expect("the sign-in");
    assert_eq!((signin["status"].as_u64(), signin["outcome"].as_str()), (Some(303), Some("auth")));
    let allowed = lines.iter().find(|v| v["path"] == "/files/x").expect("the allowed request");
    assert_eq!(allowed["outcome"], "allow");
    assert_eq!(allowed["user"], "alice@acme.example");
    assert_eq!(allowed["tenant"], "acme");
    assert!(allowed["bytes"].as_u64().is_some_and(|b| b > 0), "{allowed}");

    let text = std::fs::read_to_string(&access).unwrap();
    assert!(!text.contains("SECRET-TICKET") && !text.contains("ticket="), "a query string was logged:\n{text}");
    assert!(!text.contains(PASSWORD), "a password was logged");
    assert!(!text.to_ascii_lowercase().contains("cookie"), "a cookie was logged:\n{text}");
    assert_eq!(env.metric("gateway_access_log_dropped_total").await, 0.0);

    // logrotate: the file is moved away, SIGHUP makes the gateway open a new one.
    std::fs::rename(&access, env.dir.path().join("access.log.1")).unwrap();
    let pid = env.gateway_pid().expect("gateway running");
    // SAFETY: kill(2) on the child process this test started.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGHUP) }, 0);
    eventually("a new access log after SIGHUP", || async {
        let _ = c.get(env.url(ORDINARY, "/public/after-rotate")).send().await;
        access_lines(&access).iter().any(|v| v["path"] == "/public/after-rotate")
    })
    .await;
    env.cleanup().await;
}

/// The names a running gateway lists on /metrics (samples and `# TYPE` lines).
async fn metric_names(env: &Env) -> (HashSet<String>, String) {
    let text =
        reqwest::get(format!("http://127.0.0.1:{}/metrics", env.metrics_port)).await.unwrap().text().await.unwrap();
    let mut names = HashSet::new();
    for l in text.lines() {
        let name = match l.strip_prefix("# TYPE ") {
            Some(rest) => rest.split(' ').next(),
            None if l.starts_with('#') => None,
            None => l.split(['{', ' ']).next(),
        };
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            names.insert(n.to_owned());
        }
    }
    (names, text)
}

/// Every `gateway_*` and `process_*` name written in `text`.
fn names_used(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let starts =
            (text[i..].starts_with("gateway_") || text[i..].starts_with("process_")) && (i == 0 || !word(bytes[i - 1]));
        if starts {
            let end = text[i..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(text.len(), |n| i + n);
            out.insert(text[i..end].to_owned());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The example dashboard and alert rules name only metrics a gateway serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_dashboard_and_the_rules_use_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dashboard = std::fs::read_to_string(root.join("packaging/grafana/gateway-dashboard.json")).unwrap();
    let rules = std::fs::read_to_string(root.join("packaging/prometheus/gateway-alerts.yml")).unwrap();
    // The dashboard must be JSON Grafana can import: check the shape, then the names in its queries.
    let d: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    let mut exprs = String::new();
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            exprs.push_str(t["expr"].as_str().unwrap());
            exprs.push('\n');
        }
    }
    let mut used = names_used(&exprs);
    used.extend(names_used(&rules));
    assert!(used.len() >= 15, "too few names found, is the scan broken? {used:?}");
    for must in ["gateway_database_up", "gateway_origin_errors_total", "gateway_password_hash_queue_depth"] {
        assert!(used.contains(must), "{must} is not used");
    }

    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.start().await;
    let c = env.client(INTERNET);
    assert_eq!(c.get(env.url(ORDINARY, "/public/a")).send().await.unwrap().status(), 200);
    let (names, text) = metric_names(&env).await;
    let mut missing: Vec<_> = used.iter().filter(|n| !names.contains(*n)).collect();
    missing.sort();
    assert!(missing.is_empty(), "used by the dashboard or the rules but not served: {missing:?}\n{text}");
    env.cleanup().await;
}

fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.trim().parse().ok()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_metrics_move_with_what_they_measure() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.seed_tenant("acme", "alice@acme.example", "user");
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    env.start().await;
    let (_, text) = metric_names(&env).await;
    let build = text.lines().find(|l| l.starts_with("gateway_build_info{")).expect("build info");
    assert!(build.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))) && build.ends_with(" 1"), "{build}");
    assert!(build.contains("commit=\""), "{build}");
    let loaded = env.metric("gateway_policy_last_reload_success_timestamp_seconds").await;
    assert!(loaded >= started - 1.0, "policy read at start not stamped: {loaded} < {started}");
    assert_eq!(env.metric("gateway_tls_last_reload_success_timestamp_seconds").await, 0.0, "no TLS here");
    // The process collector: CPU time is counted in whole seconds (0 this early).
    assert!(sample(&text, "process_cpu_seconds_total").is_some(), "no process collector");
    assert!(env.metric("process_start_time_seconds").await >= started - 60.0);
    assert!(env.metric("process_resident_memory_bytes").await > 1e6);
    assert_eq!(env.metric("gateway_password_hash_queue_depth").await, 0.0);

    let c = env.client(INTERNET);
    let origin_before = env.metric("gateway_request_duration_seconds_count{answer=\"origin\"}").await;
    let refusal_before = env.metric("gateway_request_duration_seconds_count{answer=\"refusal\"}").await;
    assert_eq!(c.get(env.url(ORDINARY, "/public/a")).send().await.unwrap().status(), 200);
    assert_eq!(c.get(env.url(ORDINARY, "/docs/a")).send().await.unwrap().status(), 401);
    // The logging phase runs after the response is sent: wait for it.
    eventually("request latency observed", || async {
        env.metric("gateway_request_duration_seconds_count{answer=\"origin\"}").await == origin_before + 1.0
            && env.metric("gateway_request_duration_seconds_count{answer=\"refusal\"}").await == refusal_before + 1.0
    })
    .await;
    let sum = env.metric("gateway_request_duration_seconds_sum{answer=\"origin\"}").await;
    assert!(sum > 0.0 && sum < 5.0, "implausible latency sum {sum}");
    assert!(env.metric("gateway_origin_duration_seconds_count").await >= 1.0);

    assert_eq!(env.metric("gateway_session_cache_entries").await, 0.0);
    assert_eq!(login(&c, &env, ORDINARY, "alice@acme.example", PASSWORD, &[]).await.status(), 303);
    assert!(env.metric("gateway_request_duration_seconds_count{answer=\"auth\"}").await >= 2.0);
    // A request with the new session puts it in the cache.
    let _ = c.get(env.url(ORDINARY, "/files/x")).send().await.unwrap();
    eventually("the session cache counts its entry", || async {
        env.metric("gateway_session_cache_entries").await >= 1.0
    })
    .await;

    std::fs::write(&env.policy, "paths:\n  - prefix: /docs\n    action: bypass\n").unwrap();
    eventually("a reload moves the timestamp", || async {
        env.metric("gateway_policy_last_reload_success_timestamp_seconds").await > loaded
    })
    .await;
    env.cleanup().await;
}

/// With nothing listening at the origin's address, a forwarded request fails
/// at connect and is counted as such.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_errors_are_counted_by_kind() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    let origin = format!("origin: \"127.0.0.1:{}\"", env.origin_port());
    env.tweak_config(&origin, &format!("origin: \"127.0.0.1:{}\"", free_port()));
    env.start().await;
    let c = env.client(INTERNET);
    let r = c.get(env.url(ORDINARY, "/public/a")).send().await.unwrap();
    assert!(r.status().is_server_error(), "{}", r.status());
    eventually("the connect error is counted", || async {
        env.metric("gateway_origin_errors_total{kind=\"connect\"}").await >= 1.0
    })
    .await;
    assert_eq!(env.metric("gateway_origin_errors_total{kind=\"timeout\"}").await, 0.0);
    let (_, text) = metric_names(&env).await;
    assert!(
        sample(&text, "gateway_origin_errors_total{kind=\"tls\"}").is_some(),
        "kinds are listed before they happen"
    );
    env.cleanup().await;
}
