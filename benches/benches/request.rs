//! One whole authorised request through the gateway's proxy phases, without
//! network I/O: Pingora parses the request from an in-memory connection, then the
//! gateway's `request_filter` (facts, cookie, session cache, `decide`, metrics),
//! `upstream_peer` and `upstream_request_filter` (identity headers, cookies, path)
//! run exactly as in the server, on the header Pingora would send upstream.
//!
//! The baseline (`pingora_only`) does what a bare Pingora proxy does in the same
//! span: parse the request, make the peer, clone the header for upstream. The
//! difference is the gateway's own work per request; the summary prints both,
//! with allocations per request from the counting allocator.
//!
//! Setup: a real SQLite store on a temp file, seeded with `benches::seed` (the
//! load harness's tenant: 2FA on, line-and-internet, one line), the gateway's
//! `App` built from a `gateway.yaml` like the harness's; each session is looked
//! up once so that the measured requests hit the session cache, as they do in
//! steady state.

use std::fmt;
use std::hint::black_box;
use std::io::Cursor;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use criterion::{Criterion, Throughput};
use gateway::app::App;
use gateway::policy_state::PolicyState;
use gateway::proxy::Gateway;
use gateway::store::Store;
use pingora::http::RequestHeader;
use pingora::protocols::l4::socket::SocketAddr;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::{GetProxyDigest, GetSocketDigest, GetTimingDigest, SocketDigest, TimingDigest};
use pingora::protocols::{Peek, Shutdown, Ssl, UniqueID, UniqueIDType};
use pingora::proxy::{ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[global_allocator]
static GLOBAL: benches::Counting = benches::Counting;

const LINE: &str = "CAF0000000042";

/// An in-memory client connection: reads the request bytes, swallows writes,
/// and reports a peer address the way a TCP socket's digest does.
struct Conn {
    io: Cursor<Vec<u8>>,
    digest: Arc<SocketDigest>,
}

impl Conn {
    fn new(request: &[u8], peer: std::net::SocketAddr) -> Conn {
        let digest = SocketDigest::from_raw_fd(-1);
        let _ = digest.peer_addr.set(Some(SocketAddr::Inet(peer)));
        Conn { io: Cursor::new(request.to_vec()), digest: Arc::new(digest) }
    }
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Conn")
    }
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[async_trait]
impl Shutdown for Conn {
    async fn shutdown(&mut self) {}
}
impl UniqueID for Conn {
    fn id(&self) -> UniqueIDType {
        0
    }
}
impl Ssl for Conn {}
impl GetTimingDigest for Conn {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        Vec::new()
    }
}
impl GetProxyDigest for Conn {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        None
    }
}
impl GetSocketDigest for Conn {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        Some(self.digest.clone())
    }
}
impl Peek for Conn {}

/// What a browser sends for a file download through the gateway.
fn browser_request(host: &str, session: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET /files/2024/report.pdf HTTP/1.1\r\n\
         Host: {host}\r\n\
         User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0\r\n\
         Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
         Accept-Language: ja,en-US;q=0.7,en;q=0.3\r\n\
         Accept-Encoding: gzip, deflate, br, zstd\r\n\
         Referer: http://{host}/files/2024/\r\n\
         Cookie: gw_lang=en; _ga=GA1.1.1844323321.1731900000; theme=dark; gw_session={session}\r\n\
         {extra}\
         Upgrade-Insecure-Requests: 1\r\n\
         Sec-Fetch-Dest: document\r\n\
         Sec-Fetch-Mode: navigate\r\n\
         Sec-Fetch-Site: same-origin\r\n\
         Priority: u=0, i\r\n\r\n"
    )
    .into_bytes()
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    peer: std::net::SocketAddr,
}

/// The gateway's phases on one request; returns the header the origin would get.
async fn through_gateway(gw: &Gateway, case: &Case) -> RequestHeader {
    let mut session = Session::new_h1(Box::new(Conn::new(&case.bytes, case.peer)));
    assert!(session.read_request().await.unwrap_or(false), "the request must parse");
    let mut ctx = gw.new_ctx();
    let answered = gw.request_filter(&mut session, &mut ctx).await.unwrap_or(true);
    assert!(!answered, "{}: the gateway answered instead of forwarding", case.name);
    black_box(gw.upstream_peer(&mut session, &mut ctx).await.ok());
    let mut up = session.req_header().clone();
    let _ = gw.upstream_request_filter(&mut session, &mut up, &mut ctx).await;
    up
}

/// What a bare Pingora proxy does in the same span.
async fn pingora_only(origin: std::net::SocketAddr, case: &Case) -> RequestHeader {
    let mut session = Session::new_h1(Box::new(Conn::new(&case.bytes, case.peer)));
    assert!(session.read_request().await.unwrap_or(false), "the request must parse");
    black_box(Box::new(HttpPeer::new(origin, false, String::new())));
    session.req_header().clone()
}

struct Setup {
    _dir: tempfile::TempDir,
    gateway: Gateway,
    origin: std::net::SocketAddr,
    cases: Vec<Case>,
}

fn setup(rt: &tokio::runtime::Runtime) -> anyhow::Result<Setup> {
    let dir = tempfile::tempdir()?;
    let yaml = format!(
        "listen: \"127.0.0.1:18443\"\norigin: \"127.0.0.1:18080\"\ndatabase: \"sqlite://{db}\"\n\
         carrier:\n  trusted_networks: [\"127.0.0.2/32\"]\n  consent_regions: []\n\
         session:\n  secure_cookies: false\nmail:\n  transport: file\n  dir: mail\n\
         sms:\n  transport: file\n  dir: sms\nmetrics:\n  listen: off\npolicy_file: null\nthreads: 1\n",
        db = dir.path().join("gateway.db").display()
    );
    let path = dir.path().join("gateway.yaml");
    std::fs::write(&path, yaml)?;
    let cfg = config::load_gateway(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let origin = cfg.origin;
    let (app, seeded) = rt.block_on(async {
        let store = Store::connect(&cfg.database).await?;
        store.migrate().await?;
        let seeded = benches::seed::seed(&store, LINE).await?;
        let policy = Arc::new(PolicyState::new());
        policy.set_db(store.load_tenants().await?);
        anyhow::Ok((App::new(cfg, store, policy)?, seeded))
    })?;
    let gateway = Gateway::new(Arc::new(app))?;
    let cases = vec![
        Case {
            name: "ordinary host, session with 2FA done",
            bytes: browser_request("storage.localhost", &seeded.ordinary_session, ""),
            peer: "198.51.100.7:50000".parse()?,
        },
        Case {
            name: "line-auth host, registered line from carrier",
            bytes: browser_request("line.storage.localhost", &seeded.line_session, &format!("X-Line-Id: {LINE}\r\n")),
            peer: "127.0.0.2:50000".parse()?,
        },
    ];
    Ok(Setup { _dir: dir, gateway, origin, cases })
}

fn main() -> anyhow::Result<()> {
    let before = benches::allocations();
    black_box(Box::new(black_box(1u64)));
    assert!(benches::allocations() > before, "the counting allocator is not in use");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let s = setup(&rt)?;
    for case in &s.cases {
        // The first request of a session reads the store; later ones hit the cache.
        for _ in 0..2 {
            let up = rt.block_on(through_gateway(&s.gateway, case));
            let user = up.headers.get("x-auth-user").and_then(|v| v.to_str().ok());
            assert_eq!(user, Some("owner@bench.example"), "{}: the origin must get the identity", case.name);
            assert!(
                !up.headers.get_all("cookie").iter().any(|v| v.as_bytes().windows(10).any(|w| w == b"gw_session")),
                "{}: the session cookie must not reach the origin",
                case.name
            );
        }
    }

    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(50)
        .configure_from_args();
    {
        let mut g = c.benchmark_group("request");
        g.throughput(Throughput::Elements(1));
        for (i, case) in s.cases.iter().enumerate() {
            let key = if i == 0 { "ordinary" } else { "line" };
            g.bench_function(format!("pingora_only/{key}"), |b| b.iter(|| rt.block_on(pingora_only(s.origin, case))));
            g.bench_function(format!("gateway_phases/{key}"), |b| {
                b.iter(|| rt.block_on(through_gateway(&s.gateway, case)))
            });
        }
        g.finish();
    }
    c.final_summary();

    const N: u64 = 50_000;
    println!();
    println!("summary per request (allocations: counting allocator; ns: std::time::Instant, median of 5 rounds):");
    for case in &s.cases {
        let base = || drop(black_box(rt.block_on(pingora_only(s.origin, case))));
        let full = || drop(black_box(rt.block_on(through_gateway(&s.gateway, case))));
        let (base_a, full_a) = (benches::allocs_per_op(N, base), benches::allocs_per_op(N, full));
        let (base_ns, full_ns) = (benches::ns_per_op(N, base), benches::ns_per_op(N, full));
        println!("  {}:", case.name);
        println!("    Pingora parse + peer + upstream header   allocations {base_a:>6.2}   ns {base_ns:>8.1}");
        println!("    the same through the gateway's phases    allocations {full_a:>6.2}   ns {full_ns:>8.1}");
        println!(
            "    the gateway's own work                   allocations {:>6.2}   ns {:>8.1}",
            full_a - base_a,
            full_ns - base_ns
        );
    }
    Ok(())
}
