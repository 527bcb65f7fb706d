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
            "/metrics" => {
                run_before_scrape();
                return PrometheusHttpApp.response(session).await;
            }
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

/// Set by SIGTERM: from then on `/readyz` says 503. Not by SIGQUIT: the new
/// process shares the listening socket and answers `/readyz` too.
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

// ---- Operability (issue 14): build, reloads, latency, origin errors, queues.

fn gauge(name: &str, help: &str) -> prometheus::Gauge {
    let g = prometheus::Gauge::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = prometheus::register(Box::new(g.clone()));
    g
}

fn int_gauge(name: &str, help: &str) -> prometheus::IntGauge {
    let g = prometheus::IntGauge::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = prometheus::register(Box::new(g.clone()));
    g
}

fn histogram_vec(name: &str, help: &str, labels: &[&str], buckets: &[f64]) -> prometheus::HistogramVec {
    let h = prometheus::HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), labels)
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = prometheus::register(Box::new(h.clone()));
    h
}

/// Request and origin latency, from half a millisecond to ten seconds.
const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// `version` from Cargo, `commit` from the build (`GATEWAY_COMMIT`, set by build.rs).
pub static BUILD_INFO: LazyLock<prometheus::IntGaugeVec> = LazyLock::new(|| {
    let g = prometheus::IntGaugeVec::new(
        Opts::new("gateway_build_info", "Always 1; the labels say which build is running."),
        &["version", "commit"],
    )
    .unwrap_or_else(|e| panic!("metric gateway_build_info: {e}"));
    let _ = prometheus::register(Box::new(g.clone()));
    g
});

pub static POLICY_LAST_RELOAD_SUCCESS: LazyLock<prometheus::Gauge> = LazyLock::new(|| {
    gauge(
        "gateway_policy_last_reload_success_timestamp_seconds",
        "When the ops policy file was last read successfully (start included), in Unix seconds.",
    )
});

pub static TLS_LAST_RELOAD_SUCCESS: LazyLock<prometheus::Gauge> = LazyLock::new(|| {
    gauge(
        "gateway_tls_last_reload_success_timestamp_seconds",
        "When the certificates were last read successfully (start included), in Unix seconds; 0 without TLS.",
    )
});

/// Marks a successful policy read now.
pub fn policy_reloaded() {
    POLICY_LAST_RELOAD_SUCCESS.set(unix_now());
}

/// Marks a successful certificate read now.
pub fn tls_reloaded() {
    TLS_LAST_RELOAD_SUCCESS.set(unix_now());
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Who answered a request, for the latency histogram: a handful of values so
/// that the histogram stays a handful of series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Answer {
    /// Forwarded to the origin (the time includes the origin's).
    Origin,
    /// Refused or redirected by the policy (401, 403, 302 to sign in…).
    Refusal,
    /// The gateway's own sign-in and settings pages (`/auth/*`).
    Auth,
    /// Anything else: health checks, requests that ended before a decision.
    #[default]
    Other,
}

const ANSWER_LABELS: [&str; 4] = ["origin", "refusal", "auth", "other"];

impl Answer {
    fn index(self) -> usize {
        match self {
            Answer::Origin => 0,
            Answer::Refusal => 1,
            Answer::Auth => 2,
            Answer::Other => 3,
        }
    }
}

pub static REQUEST_DURATION: LazyLock<prometheus::HistogramVec> = LazyLock::new(|| {
    histogram_vec(
        "gateway_request_duration_seconds",
        "Time from a request's arrival to the end of its response, by who answered it (origin, refusal, auth, other).",
        &["answer"],
        &LATENCY_BUCKETS,
    )
});

static REQUEST_DURATION_BY_ANSWER: LazyLock<Vec<Histogram>> =
    LazyLock::new(|| ANSWER_LABELS.iter().map(|a| REQUEST_DURATION.with_label_values(&[a])).collect());

pub fn observe_request(answer: Answer, seconds: f64) {
    if let Some(h) = REQUEST_DURATION_BY_ANSWER.get(answer.index()) {
        h.observe(seconds);
    }
}

pub static ORIGIN_DURATION: LazyLock<Histogram> = LazyLock::new(|| {
    let h = Histogram::with_opts(
        HistogramOpts::new(
            "gateway_origin_duration_seconds",
            "Time from choosing the origin to its response header (connection included).",
        )
        .buckets(LATENCY_BUCKETS.to_vec()),
    )
    .unwrap_or_else(|e| panic!("metric gateway_origin_duration_seconds: {e}"));
    let _ = prometheus::register(Box::new(h.clone()));
    h
});

pub static ORIGIN_ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "gateway_origin_errors_total",
        "Requests that failed at the origin, by kind: connect, timeout, tls, reset, other.",
        &["kind"],
    )
});

const ORIGIN_ERROR_KINDS: [&str; 5] = ["connect", "timeout", "tls", "reset", "other"];

static ORIGIN_ERROR_COUNTERS: LazyLock<Vec<IntCounter>> =
    LazyLock::new(|| ORIGIN_ERROR_KINDS.iter().map(|k| ORIGIN_ERRORS.with_label_values(&[k])).collect());

/// Counts an error that came from the origin side, sorted by Pingora's type.
pub fn count_origin_error(etype: &pingora::ErrorType) -> &'static str {
    use pingora::ErrorType as E;
    let kind = match etype {
        E::ConnectTimedout | E::ReadTimedout | E::WriteTimedout | E::TLSHandshakeTimedout => "timeout",
        E::ConnectRefused | E::ConnectNoRoute | E::ConnectError | E::BindError | E::SocketError => "connect",
        E::TLSHandshakeFailure | E::TLSWantX509Lookup | E::InvalidCert | E::HandshakeError => "tls",
        E::ConnectionClosed | E::ReadError | E::WriteError | E::ConnectProxyFailure => "reset",
        _ => "other",
    };
    if let Some(i) = ORIGIN_ERROR_KINDS.iter().position(|k| *k == kind)
        && let Some(c) = ORIGIN_ERROR_COUNTERS.get(i)
    {
        c.inc();
    }
    kind
}

pub static HASH_QUEUE: LazyLock<prometheus::IntGauge> = LazyLock::new(|| {
    int_gauge(
        "gateway_password_hash_queue_depth",
        "Password checks waiting for a hashing thread (a login flood shows here first).",
    )
});

pub static SESSION_CACHE_ENTRIES: LazyLock<prometheus::IntGauge> = LazyLock::new(|| {
    int_gauge("gateway_session_cache_entries", "Sessions held in this instance's memory cache (approximate).")
});

pub static ACCESS_LOG_DROPPED: LazyLock<IntCounter> = LazyLock::new(|| {
    counter(
        "gateway_access_log_dropped_total",
        "Access log lines dropped because the writer fell behind (or failed to write).",
    )
});

/// Run before each scrape (values cheaper to read then than to keep current).
static BEFORE_SCRAPE: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>> = std::sync::OnceLock::new();

/// Sets what runs before each scrape; the first caller wins.
pub fn before_scrape(f: impl Fn() + Send + Sync + 'static) {
    let _ = BEFORE_SCRAPE.set(Box::new(f));
}

fn run_before_scrape() {
    if let Some(f) = BEFORE_SCRAPE.get() {
        f();
    }
}

/// Touches the operability metrics so that they are listed from the first scrape on.
pub fn init_operability() {
    // The process collector (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
    // open files…) comes with the default registry (the "process" feature).
    let _ = prometheus::default_registry();
    let commit = option_env!("GATEWAY_COMMIT").unwrap_or("unknown");
    BUILD_INFO.with_label_values(&[env!("CARGO_PKG_VERSION"), commit]).set(1);
    LazyLock::force(&POLICY_LAST_RELOAD_SUCCESS);
    LazyLock::force(&TLS_LAST_RELOAD_SUCCESS);
    LazyLock::force(&REQUEST_DURATION_BY_ANSWER);
    LazyLock::force(&ORIGIN_DURATION);
    LazyLock::force(&ORIGIN_ERROR_COUNTERS);
    LazyLock::force(&HASH_QUEUE);
    LazyLock::force(&SESSION_CACHE_ENTRIES);
    LazyLock::force(&ACCESS_LOG_DROPPED);
}
