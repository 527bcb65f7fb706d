//! Prometheus metrics. They are registered in the global registry of
//! `prometheus` 0.14, the one `pingora-prometheus` serves: another major version
//! would register elsewhere and the metrics would silently vanish.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use pingora_prometheus::PrometheusHttpApp;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts};

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    // Registering twice (tests that start two gateways in one process) is harmless.
    let _ = prometheus::register(Box::new(c.clone()));
    c
}

fn counter(name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = prometheus::register(Box::new(c.clone()));
    c
}

pub static REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec("gateway_requests_total", "Requests decided, by hostname kind and outcome.", &["host_kind", "outcome"])
});

pub static DECISION_SECONDS: LazyLock<Histogram> = LazyLock::new(|| {
    let h = Histogram::with_opts(
        HistogramOpts::new("gateway_decision_seconds", "Time to decide a request, session lookup included.")
            .buckets(vec![1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2, 0.1]),
    )
    .unwrap_or_else(|e| panic!("metric gateway_decision_seconds: {e}"));
    let _ = prometheus::register(Box::new(h.clone()));
    h
});

pub static SPOOFED_LINE_HEADERS: LazyLock<IntCounter> = LazyLock::new(|| {
    counter(
        "gateway_spoofed_line_headers_total",
        "Line headers received from addresses outside the carrier networks (removed and ignored).",
    )
});

pub static POLICY_RELOADS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec("gateway_policy_reloads_total", "Reloads of the ops policy file, by result.", &["result"])
});

pub static TLS_RELOADS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec("gateway_tls_reloads_total", "Certificates read again after a change, by result.", &["result"])
});

pub static TLS_HANDSHAKE_FAILURES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec("gateway_tls_handshake_failures_total", "TLS handshakes that failed or ran out of time.", &["reason"])
});

pub static LOGINS: LazyLock<IntCounterVec> =
    LazyLock::new(|| counter_vec("gateway_logins_total", "Login attempts, by result.", &["result"]));

pub static CHANGES_APPLIED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "gateway_changes_applied_total",
        "Changes from the store applied to this instance, by kind (session, user, tenant, all).",
        &["kind"],
    )
});

pub static FULL_RELOADS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "gateway_full_reloads_total",
        "Reloads of every tenant with the session cache emptied, by reason (missed changes, unknown change, asked).",
        &["reason"],
    )
});

pub static SESSION_CACHE: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "gateway_session_cache_lookups_total",
        "Session lookups by result: hit (answered from memory), miss (read from the store), negative (an unknown id remembered).",
        &["result"],
    )
});

pub static SESSION_CACHE_HIT: LazyLock<IntCounter> = LazyLock::new(|| SESSION_CACHE.with_label_values(&["hit"]));
pub static SESSION_CACHE_MISS: LazyLock<IntCounter> = LazyLock::new(|| SESSION_CACHE.with_label_values(&["miss"]));
pub static SESSION_CACHE_NEGATIVE: LazyLock<IntCounter> =
    LazyLock::new(|| SESSION_CACHE.with_label_values(&["negative"]));

pub static CHANGE_FEED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "gateway_change_feed_total",
        "How changes reached this instance: notified (LISTEN/NOTIFY), polled (the periodic check found it first), reconnect (the listener reconnected).",
        &["via"],
    )
});

const HOST_LABELS: [&str; 3] = ["ordinary", "line-auth", "unknown"];
const OUTCOME_LABELS: [&str; 9] =
    ["allow", "bypass", "login", "second_factor", "deny_line", "deny_path", "deny_role", "unknown_host", "bad_request"];

/// The request counters, resolved once: looking a labelled counter up hashes
/// its labels, which is work the hot path need not repeat.
static REQUEST_COUNTERS: LazyLock<Vec<IntCounter>> = LazyLock::new(|| {
    HOST_LABELS.iter().flat_map(|h| OUTCOME_LABELS.iter().map(move |o| REQUESTS.with_label_values(&[h, o]))).collect()
});

pub fn count_request(host: &str, outcome: &str) {
    let h = HOST_LABELS.iter().position(|x| *x == host);
    let o = OUTCOME_LABELS.iter().position(|x| *x == outcome);
    match (h, o) {
        (Some(h), Some(o)) => {
            if let Some(c) = REQUEST_COUNTERS.get(h * OUTCOME_LABELS.len() + o) {
                c.inc();
            }
        }
        _ => REQUESTS.with_label_values(&[host, outcome]).inc(),
    }
}

/// Touches every metric so that they are listed from the first scrape on.
pub fn init() {
    LazyLock::force(&REQUEST_COUNTERS);
    LazyLock::force(&DECISION_SECONDS);
    LazyLock::force(&SPOOFED_LINE_HEADERS);
    for r in ["ok", "error"] {
        let _ = POLICY_RELOADS.with_label_values(&[r]);
        let _ = TLS_RELOADS.with_label_values(&[r]);
    }
    for r in ["error", "timeout"] {
        let _ = TLS_HANDSHAKE_FAILURES.with_label_values(&[r]);
    }
    for k in ["session", "user", "tenant", "all"] {
        let _ = CHANGES_APPLIED.with_label_values(&[k]);
    }
    for r in ["missed", "unknown", "asked"] {
        let _ = FULL_RELOADS.with_label_values(&[r]);
    }
    for v in ["notified", "polled", "reconnect"] {
        let _ = CHANGE_FEED.with_label_values(&[v]);
    }
    LazyLock::force(&SESSION_CACHE_HIT);
    LazyLock::force(&SESSION_CACHE_MISS);
    LazyLock::force(&SESSION_CACHE_NEGATIVE);
    for r in ["success", "failure", "line_refused", "throttled", "federated_unknown_state"] {
        let _ = LOGINS.with_label_values(&[r]);
    }
}

/// Set once the store answered and the first policy snapshot is in place.
pub static READY: AtomicBool = AtomicBool::new(false);

/// The metrics listener: `/metrics`, `/healthz` and `/readyz`.
pub struct MetricsApp;

#[async_trait]
impl ServeHttp for MetricsApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let path = session.req_header().uri.path().to_owned();
        let (status, body): (u16, &[u8]) = match path.as_str() {
            "/metrics" => return PrometheusHttpApp.response(session).await,
            "/healthz" => (200, b"ok\n"),
            "/readyz" if ready() => (200, b"ready\n"),
            "/readyz" => (503, b"not ready\n"),
            _ => (404, b"not found\n"),
        };
        Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(body.to_vec())
            .unwrap_or_default()
    }
}

/// Whether the database answered its last health check (`db_health`).
pub static DB_UP: AtomicBool = AtomicBool::new(true);

/// Set by SIGTERM (and SIGQUIT): from then on `/readyz` says 503.
pub static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

pub static DATABASE_UP: LazyLock<prometheus::IntGauge> = LazyLock::new(|| {
    let g =
        prometheus::IntGauge::new("gateway_database_up", "1 when the database answered the last health check, else 0.")
            .unwrap_or_else(|e| panic!("metric gateway_database_up: {e}"));
    let _ = prometheus::register(Box::new(g.clone()));
    g
});

/// What `/readyz` says on both listeners: started, the database reachable,
/// and not shutting down. Never asks the database itself.
pub fn ready() -> bool {
    READY.load(Ordering::Relaxed) && DB_UP.load(Ordering::Relaxed) && !SHUTTING_DOWN.load(Ordering::Relaxed)
}

pub fn set_database_up(up: bool) {
    DB_UP.store(up, Ordering::Relaxed);
    DATABASE_UP.set(i64::from(up));
}
