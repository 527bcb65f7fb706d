//! The gateway's per-request pieces other than `decide`, each with heap
//! allocations per operation (counting global allocator) and a plain-timer summary.
//!
//! Groups:
//! - `session/read_cookie`: find and decode `gw_session` in a browser-like Cookie header.
//! - `session/cache_hit`: `SessionCache::lookup` on a warm cache (a real SQLite store on a
//!   temp file, a session inserted through the store API and looked up once to warm).
//! - `session/cookie_and_cache_hit`: both, as `request_filter` does them.
//! - `identity/upstream_rewrite`: what `upstream_request_filter` does to a Pingora
//!   `RequestHeader` (`identity::rewrite_upstream`, the very function the proxy calls), on a
//!   realistic browser header set, once clean and once with a spoofed `X-Auth-User` and a
//!   carrier `X-Line-Id` (line host): strip,
//!   drop our cookies, add `X-Forwarded-For` and the `X-Auth-*`
//!   headers. Criterion times it on fresh clones (`iter_batched_ref`, which also pays for
//!   cold caches across the batch); the summary subtracts the clone it starts from, for
//!   both allocations and plain-timer ns.

use std::future::Future;
use std::hint::black_box;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use benches::{allocs_per_op, ns_per_op};
use criterion::{BatchSize, Criterion, Throughput};
use gateway::proxy::identity::{ForwardedHost, IdentityHeaders, Rewrite, StripList, rewrite_upstream};
use gateway::session::{CookieFact, SessionCache, read_cookie};
use gateway::store::{NewSession, NewUser, Store, now};
use gateway::tokens;
use http::{HeaderName, HeaderValue};
use pingora::http::RequestHeader;
use policy::{Factor, HostKind, Role};

const CLIENT: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

#[global_allocator]
static GLOBAL: benches::Counting = benches::Counting;

/// Polls a future once; the cache-hit path never waits, so it must be ready.
fn ready<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("expected a cache hit that completes without waiting"),
    }
}

/// A browser's Cookie header with the session cookie among others.
fn cookie_header(token: &str) -> String {
    format!(
        "gw_lang=en; _ga=GA1.1.1844323321.1731900000; theme=dark; gw_csrf=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy; \
         gw_session={token}; _ga_XYZ=GS1.1.1731900000.3.1.1731900300.0.0.0"
    )
}

/// What a browser sends for a file download, plus `extra` headers.
fn browser_headers(cookie: &str, extra: &[(&str, &str)]) -> Vec<(HeaderName, HeaderValue)> {
    let mut h: Vec<(&str, &str)> = vec![
        ("host", "storage.localhost"),
        ("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"),
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("accept-language", "ja,en-US;q=0.7,en;q=0.3"),
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("referer", "http://storage.localhost/files/2024/"),
        ("cookie", cookie),
        ("upgrade-insecure-requests", "1"),
        ("sec-fetch-dest", "document"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-user", "?1"),
        ("priority", "u=0, i"),
    ];
    h.extend_from_slice(extra);
    h.into_iter()
        .map(|(n, v)| (HeaderName::from_bytes(n.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap()))
        .collect()
}

fn request_header(h: &[(HeaderName, HeaderValue)]) -> RequestHeader {
    let mut r = RequestHeader::build("GET", b"/files/2024/report.pdf", Some(h.len() + 8)).unwrap();
    for (n, v) in h {
        r.append_header(n.clone(), v.clone()).unwrap();
    }
    r
}

/// The gateway's own upstream rewrite (`identity::rewrite_upstream`), with the values
/// the proxy would pass: the user's header prebuilt per cached session, the tenant's
/// built per request.
/// Built once at start-up in the proxy (`ForwardedHosts`), so once here.
static FORWARDED: std::sync::LazyLock<Option<ForwardedHost>> =
    std::sync::LazyLock::new(|| ForwardedHost::from_base_url("https://storage.example.net"));

fn upstream_rewrite(rules: &Rewrite, user: &HeaderValue, up: &mut RequestHeader) {
    let own = [
        "gw_session",
        gateway::auth::CSRF_COOKIE,
        gateway::auth::DEVICE_COOKIE,
        gateway::auth::PENDING_COOKIE,
        gateway::auth::FLOW_COOKIE,
    ];
    let identity = IdentityHeaders {
        user: user.clone(),
        tenant: HeaderValue::from_str("acme").unwrap(),
        role: "user",
        method: HeaderValue::from_static("password+totp"),
        line: None,
    };
    rewrite_upstream(up, rules, &own, Some(CLIENT), FORWARDED.as_ref(), Some(identity)).unwrap();
}

/// A store on a temp SQLite file with one session, and a cache warmed with it.
struct Warm {
    _dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
    store: Store,
    cache: SessionCache,
    token: String,
    id: [u8; 32],
}

fn warm_cache() -> Warm {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (store, token) = rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let tenant = store.create_tenant("acme", gateway::store::Plan::Basic).await.unwrap();
        let user = store
            .create_user(NewUser {
                tenant_id: tenant,
                email: "alice@example.net",
                role: Role::User,
                password_hash: None,
            })
            .await
            .unwrap();
        let token = tokens::random_token();
        let hash = tokens::hash_token(&token).unwrap();
        store
            .insert_session(NewSession {
                id_hash: &hash,
                user_id: user,
                host: HostKind::Ordinary,
                factor: Some(Factor::Totp),
                line: None,
                client_ip: Some("198.51.100.7"),
                expires_at: now() + 3600,
                pending_factor: None,
                pending_remember: false,
            })
            .await
            .unwrap();
        (store, token)
    });
    // The gateway trusts a cached session for `cache_ttl` (30 s by default); the bench
    // runs longer than that, so its cache keeps entries for an hour: a hit is a hit.
    let cache = SessionCache::new(100_000, Duration::from_secs(3600), Duration::from_secs(7200));
    let id = tokens::decode_token(&token).unwrap();
    let hit = rt.block_on(cache.lookup(&store, &id, now())).unwrap();
    assert!(hit.is_some(), "the seeded session must be found in the store");
    assert!(ready(cache.lookup(&store, &id, now())).unwrap().is_some(), "the second lookup must be a cache hit");
    Warm { _dir: dir, _rt: rt, store, cache, token, id }
}

fn main() {
    let before = benches::allocations();
    black_box(Box::new(black_box(1u64)));
    assert!(benches::allocations() > before, "the counting allocator is not in use");

    let w = warm_cache();
    let t_now = now();
    let cookie = cookie_header(&w.token);
    let strip = StripList::new(&["X-Line-Id", "X-Line-Region"], &[] as &[&str]);
    let rules = Rewrite::new(strip, Some(HeaderName::from_static("x-line-id"))).unwrap();
    let user = HeaderValue::from_str("alice@example.net").unwrap();
    let clean = browser_headers(&cookie, &[]);
    let spoofed = browser_headers(&cookie, &[("x-line-id", "CAF0000000001"), ("X-Auth-User", "boss@example.net")]);
    let clean_req = request_header(&clean);
    let spoofed_req = request_header(&spoofed);
    assert_eq!(read_cookie([cookie.as_bytes()].into_iter(), "gw_session"), CookieFact::Present(w.id));

    let parse = || read_cookie(black_box([cookie.as_bytes()]).into_iter(), black_box("gw_session"));
    let hit = || ready(w.cache.lookup(&w.store, black_box(&w.id), t_now)).unwrap().is_some();
    let both = || match read_cookie(black_box([cookie.as_bytes()]).into_iter(), "gw_session") {
        CookieFact::Present(id) => ready(w.cache.lookup(&w.store, &id, t_now)).unwrap().is_some(),
        _ => false,
    };

    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(50)
        .configure_from_args();
    {
        let mut g = c.benchmark_group("session");
        g.throughput(Throughput::Elements(1));
        g.bench_function("read_cookie", |b| b.iter(parse));
        g.bench_function("cache_hit", |b| b.iter(hit));
        g.bench_function("cookie_and_cache_hit", |b| b.iter(both));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("identity");
        g.throughput(Throughput::Elements(1));
        g.bench_function("upstream_rewrite/clean", |b| {
            b.iter_batched_ref(|| clean_req.clone(), |r| upstream_rewrite(&rules, &user, r), BatchSize::SmallInput)
        });
        g.bench_function("upstream_rewrite/spoofed", |b| {
            b.iter_batched_ref(|| spoofed_req.clone(), |r| upstream_rewrite(&rules, &user, r), BatchSize::SmallInput)
        });
        g.finish();
    }
    c.final_summary();

    const N: u64 = 100_000;
    // Plain-timer figure for the rewrite: (clone + rewrite) minus (clone alone).
    let rewrite_ns = |req: &RequestHeader| {
        ns_per_op(N / 10, || {
            let mut r = black_box(req.clone());
            upstream_rewrite(&rules, &user, &mut r);
            drop(black_box(r));
        }) - ns_per_op(N / 10, || drop(black_box(req.clone())))
    };
    let clone_allocs = |req: &RequestHeader| allocs_per_op(N / 10, || drop(black_box(req.clone())));
    let rewrite_allocs = |req: &RequestHeader| {
        allocs_per_op(N / 10, || {
            let mut r = black_box(req.clone());
            upstream_rewrite(&rules, &user, &mut r);
            drop(black_box(r));
        }) - clone_allocs(req)
    };
    let rows: Vec<(&str, f64, f64)> = vec![
        (
            "session/read_cookie",
            allocs_per_op(N, || {
                black_box(parse());
            }),
            ns_per_op(N, || {
                black_box(parse());
            }),
        ),
        (
            "session/cache_hit",
            allocs_per_op(N, || {
                black_box(hit());
            }),
            ns_per_op(N, || {
                black_box(hit());
            }),
        ),
        (
            "session/cookie_and_cache_hit",
            allocs_per_op(N, || {
                black_box(both());
            }),
            ns_per_op(N, || {
                black_box(both());
            }),
        ),
        ("identity/upstream_rewrite/clean (minus the clone)", rewrite_allocs(&clean_req), rewrite_ns(&clean_req)),
        ("identity/upstream_rewrite/spoofed (minus the clone)", rewrite_allocs(&spoofed_req), rewrite_ns(&spoofed_req)),
    ];
    println!();
    println!("summary (allocations per operation; ns per operation: std::time::Instant, median of 5 rounds):");
    for (name, allocs, ns) in rows {
        println!("  {name:<52} allocations {allocs:>5.2}   ns {ns:>7.1}");
    }
}
