//! TLS termination in the gateway (SPEC section 10): a certificate per
//! hostname by SNI, HTTP/2 by ALPN through the same rules as HTTP/1,
//! `__Host-`/`Secure` cookies and HSTS, certificates replaced without a
//! restart, and handshakes that are bounded in time and count.
//!
//! The certificates come from a throwaway CA made by the test; clients trust
//! that CA alone.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::support::*;
use crate::test_ca::{Leaf, TestCa};

const LINE: &str = "CAF0123456789";

struct Tls {
    env: Env,
    port: u16,
    ca: TestCa,
    dir: PathBuf,
    ordinary: Leaf,
    line: Leaf,
}

impl Tls {
    /// A gateway with a certificate for each hostname on a TLS listener beside
    /// the plain one; `extra` is more top-level YAML.
    async fn start(extra: &str) -> Tls {
        let mut env = Env::new(Db::Sqlite).await.expect("SQLite always runs");
        // Over TLS cookies are Secure; the file says so by leaving the default.
        env.tweak_config("session:\n  secure_cookies: false\n", "");
        let ca = TestCa::new("gateway e2e test CA");
        let dir = env.dir.path().join("tls");
        std::fs::create_dir_all(&dir).expect("tls dir");
        let ordinary = ca.leaf(&[ORDINARY]);
        ordinary.write(&dir, "ordinary");
        let line = ca.leaf(&[LINE_HOST]);
        line.write(&dir, "line");
        let port = free_port();
        let text = std::fs::read_to_string(&env.config).expect("config");
        let tls = format!(
            "tls:\n  listen: \"127.0.0.1:{port}\"\n  handshake_timeout: 2s\n  certificates:\n\
             \x20   - hosts: [\"{ORDINARY}\"]\n      cert: tls/ordinary.pem\n      key: tls/ordinary.key\n\
             \x20   - hosts: [\"{LINE_HOST}\"]\n      cert: tls/line.pem\n      key: tls/line.key\n{extra}"
        );
        std::fs::write(&env.config, format!("{text}{tls}")).expect("write config");
        env.seed_tenant("acme", "alice@acme.example", "user");
        env.ok(&["tenant", "set-2fa", "acme", "off"]);
        env.ok(&["tenant", "lines", "add", "acme", LINE]);
        env.start().await;
        Tls { env, port, ca, dir, ordinary, line }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// A TLS connection from `from` naming `sni` (none: an address, so no SNI).
    async fn connect(
        &self,
        from: &str,
        sni: Option<&str>,
        verify: Verify<'_>,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        let tcp = tcp_from(from, self.addr()).await?;
        let name = match sni {
            Some(n) => ServerName::try_from(n.to_owned()).expect("name"),
            None => ServerName::IpAddress(IpAddr::from([127, 0, 0, 1]).into()),
        };
        TlsConnector::from(Arc::new(client_config(verify, &[b"h2", b"http/1.1"]))).connect(name, tcp).await
    }

    /// The certificate the gateway presents for `sni`, checked against the test CA.
    async fn presented(&self, sni: &str) -> Vec<u8> {
        let tls = self.connect(INTERNET, Some(sni), Verify::Ca(&self.ca)).await.expect("handshake");
        tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec()).expect("a certificate")
    }

    /// Signs in over HTTP/2 through the login form from `from` on `host`;
    /// returns the login answer, with the jar holding the cookies set.
    async fn login(&self, jar: &mut Jar, from: &str, host: &str, headers: &[(&str, &str)]) -> Resp {
        let page =
            self.h2(from, host, Req::get(host, "/auth/login?rd=/files/report.pdf").headers(headers).jar(jar)).await;
        jar.take(&page);
        let csrf = csrf_from(&page.body);
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("email", "alice@acme.example"),
                ("password", PASSWORD),
                ("csrf", &csrf),
                ("rd", "/files/report.pdf"),
            ])
            .finish();
        let post = Req::get(host, "/auth/login").post(form).headers(headers).jar(jar);
        let r = self.h2(from, host, post).await;
        jar.take(&r);
        r
    }

    /// One request over a fresh HTTP/2 connection from `from` with SNI `sni`,
    /// written by hand so that `:authority` and `Host` can say what a test needs.
    async fn h2(&self, from: &str, sni: &str, req: Req) -> Resp {
        let tls = self.connect(from, Some(sni), Verify::Ca(&self.ca)).await.expect("handshake");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]), "ALPN must choose h2");
        let (mut client, conn) = h2::client::handshake(tls).await.expect("h2 handshake");
        tokio::spawn(conn);
        let mut head =
            http::Request::builder().method(req.method).uri(format!("https://{}{}", req.authority, req.path));
        for (k, v) in &req.headers {
            head = head.header(k.as_str(), v.as_str());
        }
        let no_body = req.body.is_empty();
        let (resp, mut send) = client.send_request(head.body(()).expect("request"), no_body).expect("send");
        if !no_body {
            send.send_data(req.body.into(), true).expect("send body");
        }
        let resp = resp.await.expect("h2 response");
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        let mut body = resp.into_body();
        let mut out = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.expect("body");
            let _ = body.flow_control().release_capacity(chunk.len());
            out.extend_from_slice(&chunk);
        }
        Resp { status, headers, body: String::from_utf8_lossy(&out).into_owned() }
    }

    /// One HTTP/1.1 request over TLS (ALPN http/1.1), read to the close.
    async fn h1(&self, host: &str, path: &str) -> (String, String) {
        let tcp = tcp_from(INTERNET, self.addr()).await.expect("connect");
        let config = client_config(Verify::Ca(&self.ca), &[b"http/1.1"]);
        let name = ServerName::try_from(host.to_owned()).expect("name");
        let mut tls = TlsConnector::from(Arc::new(config)).connect(name, tcp).await.expect("handshake");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        let req = format!("GET {path} HTTP/1.1\r\nHost: {host}:{}\r\nConnection: close\r\n\r\n", self.port);
        tls.write_all(req.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        let text = String::from_utf8_lossy(&out).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        (head.to_owned(), body.to_owned())
    }
}

/// A request for [`Tls::h2`].
struct Req {
    method: &'static str,
    authority: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn get(authority: &str, path: &str) -> Req {
        Req {
            method: "GET",
            authority: authority.to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn post(mut self, form: String) -> Req {
        self.method = "POST";
        self.body = form.into_bytes();
        self.headers(&[("content-type", "application/x-www-form-urlencoded")])
    }

    fn headers(mut self, headers: &[(&str, &str)]) -> Req {
        self.headers.extend(headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self
    }

    fn jar(self, jar: &Jar) -> Req {
        match jar.header() {
            Some(cookie) => self.headers(&[("cookie", &cookie)]),
            None => self,
        }
    }
}

struct Resp {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

impl Resp {
    fn set_cookies(&self) -> Vec<&str> {
        self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect()
    }

    /// The origin's JSON echo of what it received.
    fn echo(&self) -> serde_json::Value {
        assert_eq!(self.status, 200, "expected the origin's answer: {}", self.body);
        serde_json::from_str(&self.body).expect("origin json")
    }
}

/// The values the origin received for header `name`.
fn echoed(echo: &serde_json::Value, name: &str) -> Vec<String> {
    echo["headers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| p[0].as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
                .filter_map(|p| p[1].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The cookies a test's browser would hold (name=value), one host's worth.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn take(&mut self, r: &Resp) {
        for c in r.set_cookies() {
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.0.retain(|(n, _)| n != name);
                self.0.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; "))
    }
}

async fn tcp_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from.parse().expect("ip"), 0))?;
    socket.connect(to).await
}

enum Verify<'a> {
    /// The test CA is the only root.
    Ca(&'a TestCa),
    /// Any certificate at all: to show that the gateway presented none.
    Anything,
}

fn client_config(verify: Verify<'_>, alpn: &[&[u8]]) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocol versions");
    let mut config = match verify {
        Verify::Ca(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(CertificateDer::from(ca.der())).expect("test CA");
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Verify::Anything => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider)))
            .with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn hsts(h: &http::HeaderMap) -> Option<&str> {
    h.get("strict-transport-security").and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_name_gets_its_certificate_and_h2_reaches_the_origin() {
    let t = Tls::start("").await;

    // SNI picks the certificate: the peer's certificate is the one made for the name.
    assert_eq!(t.presented(ORDINARY).await, t.ordinary.der);
    assert_eq!(t.presented(LINE_HOST).await, t.line.der);
    assert_eq!(t.presented("STORAGE.localhost").await, t.ordinary.der, "SNI is case-insensitive");
    // An unknown name, or none, gets no certificate at all (a client accepting
    // any certificate still fails), while a known one passes that client.
    for sni in [Some("evil.example"), None] {
        let r = t.connect(INTERNET, sni, Verify::Anything).await;
        assert!(r.is_err(), "SNI {sni:?}: the handshake must fail");
    }
    assert!(t.connect(INTERNET, Some(ORDINARY), Verify::Anything).await.is_ok());

    // Sign-in over TLS (HTTP/2): cookies are __Host- and Secure, answers carry HSTS.
    let mut jar = Jar::default();
    let r = t.login(&mut jar, INTERNET, ORDINARY, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(hsts(&r.headers), Some("max-age=31536000"));
    let cookies = r.set_cookies();
    let session = cookies.iter().find(|v| v.starts_with("__Host-gw_session=")).expect("a __Host- session cookie");
    assert!(session.contains("; Secure") && session.contains("Path=/"), "{session}");
    assert!(!session.contains("Domain="), "{session}");

    // Through the proxy over h2: the origin gets the identity and https, and
    // Host made from :authority.
    let authority = format!("{ORDINARY}:{}", t.port);
    let req = Req::get(&authority, "/files/report.pdf").headers(&[("x-auth-user", "mallory")]).jar(&jar);
    let r = t.h2(INTERNET, ORDINARY, req).await;
    assert_eq!(hsts(&r.headers), Some("max-age=31536000"), "proxied answers carry HSTS too");
    let echo = r.echo();
    assert_eq!(echoed(&echo, "x-auth-user"), vec!["alice@acme.example"]);
    assert_eq!(echoed(&echo, "x-auth-tenant"), vec!["acme"]);
    assert_eq!(echoed(&echo, "x-forwarded-proto"), vec!["https"]);
    assert_eq!(echoed(&echo, "x-forwarded-host"), vec![authority.clone()]);
    assert_eq!(echoed(&echo, "host"), vec![authority.clone()]);

    // HTTP/1.1 over TLS goes through the same rules.
    let (head, _) = t.h1(ORDINARY, "/files/report.pdf").await;
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(head.to_ascii_lowercase().contains("strict-transport-security: max-age=31536000"), "{head}");
    // Pingora's own 400 for a head it cannot parse is replaced by ours, HSTS included.
    let (head, _) = t.h1(ORDINARY, "/a HTTP/1.1\r\nNo colon here\r\nX-Pad:").await;
    let lower = head.to_ascii_lowercase();
    assert!(head.starts_with("HTTP/1.1 400") && !lower.contains("pingora"), "{head}");
    assert!(lower.contains("strict-transport-security: max-age=31536000"), "{head}");

    // The plain listener answers without HSTS: it means nothing over http.
    let r = reqwest::get(format!("http://127.0.0.1:{}/healthz", t.env.port)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(hsts(r.headers()), None);
    t.env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_authority_is_checked_like_host() {
    let t = Tls::start("").await;
    let before = t.env.origin_count();

    // An authority that is neither hostname: 421, whatever the SNI was.
    let r = t.h2(INTERNET, ORDINARY, Req::get("evil.example", "/files")).await;
    assert_eq!(r.status, 421);
    assert!(hsts(&r.headers).is_some());
    // :authority and a Host header that disagree: neither is believed.
    // (Pingora itself already answers these 400; `proxy::host` would say 421.)
    let r = t.h2(INTERNET, ORDINARY, Req::get(ORDINARY, "/files").headers(&[("host", LINE_HOST)])).await;
    assert!(matches!(r.status, 400 | 421), "Host must not contradict :authority: {}", r.status);
    let r = t.h2(INTERNET, LINE_HOST, Req::get(LINE_HOST, "/files").headers(&[("host", "evil.example")])).await;
    assert!(matches!(r.status, 400 | 421), "{}", r.status);
    // The same request with a matching Host, or none, is ordinary: no session, 401.
    let r = t.h2(INTERNET, ORDINARY, Req::get(ORDINARY, "/files").headers(&[("host", ORDINARY)])).await;
    assert_eq!(r.status, 401);
    let r = t.h2(INTERNET, ORDINARY, Req::get(&format!("{ORDINARY}:{}", t.port), "/files")).await;
    assert_eq!(r.status, 401);
    assert_eq!(t.env.origin_count(), before, "nothing reached the origin");

    // The line header is believed over h2 only from the carrier network.
    let mut carrier = Jar::default();
    let r = t.login(&mut carrier, CARRIER, LINE_HOST, &[("x-line-id", LINE)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let req = Req::get(LINE_HOST, "/files").headers(&[("x-line-id", LINE)]).jar(&carrier);
    let echo = t.h2(CARRIER, LINE_HOST, req).await.echo();
    assert_eq!(echoed(&echo, "x-auth-line"), vec![LINE]);
    assert_eq!(echoed(&echo, "x-auth-method"), vec!["password+line"]);

    let spoofed = t.env.metric("gateway_spoofed_line_headers_total").await;
    let mut internet = Jar::default();
    let r = t.login(&mut internet, INTERNET, LINE_HOST, &[("x-line-id", LINE)]).await;
    assert_eq!(r.status, 403, "a line header from the internet must not sign in on the line host");
    let before = t.env.origin_count();
    // The carrier's session and line header, replayed from the internet.
    let req = Req::get(LINE_HOST, "/files").headers(&[("x-line-id", LINE)]).jar(&carrier);
    let r = t.h2(INTERNET, LINE_HOST, req).await;
    assert_eq!(r.status, 403);
    assert_eq!(t.env.origin_count(), before);
    assert!(t.env.metric("gateway_spoofed_line_headers_total").await >= spoofed + 2.0);
    t.env.cleanup().await;
}

/// Writes a new certificate and key the way deploy tools do: each to a
/// temporary name, then renamed over the old one.
fn replace(t: &Tls, stem: &str, cert_pem: &str, key_pem: &str) {
    for (ext, text) in [("pem", cert_pem), ("key", key_pem)] {
        let tmp = t.dir.join(format!(".{stem}.{ext}.tmp"));
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, t.dir.join(format!("{stem}.{ext}"))).expect("rename");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_replaced_without_a_restart() {
    let t = Tls::start("").await;
    assert_eq!(t.presented(ORDINARY).await, t.ordinary.der);
    let ok = t.env.metric("gateway_tls_reloads_total{result=\"ok\"}").await;
    let errors = t.env.metric("gateway_tls_reloads_total{result=\"error\"}").await;
    let loaded = t.env.metric("gateway_tls_last_reload_success_timestamp_seconds").await;
    assert!(loaded > 1.7e9, "the certificates read at start are not stamped: {loaded}");

    // A good replacement is used for new handshakes; the other name keeps its own.
    let renewed = t.ca.leaf(&[ORDINARY]);
    replace(&t, "ordinary", &renewed.cert_pem, &renewed.key_pem);
    eventually("the renewed certificate is presented", || async { t.presented(ORDINARY).await == renewed.der }).await;
    assert_eq!(t.presented(LINE_HOST).await, t.line.der);
    assert!(t.env.metric("gateway_tls_reloads_total{result=\"ok\"}").await >= ok + 1.0);
    assert!(t.env.metric("gateway_tls_last_reload_success_timestamp_seconds").await > loaded);

    // A broken replacement (not PEM; a key of another certificate; a
    // certificate for another name) is refused and counted; the last good one stays.
    let stranger = t.ca.leaf(&[ORDINARY]);
    let elsewhere = t.ca.leaf(&["elsewhere.example"]);
    let broken = [
        ("garbage".to_owned(), renewed.key_pem.clone()),
        (renewed.cert_pem.clone(), stranger.key_pem.clone()),
        (elsewhere.cert_pem.clone(), elsewhere.key_pem.clone()),
    ];
    for (n, (cert, key)) in broken.iter().enumerate() {
        replace(&t, "ordinary", cert, key);
        let want = errors + 1.0 + n as f64;
        eventually("the broken replacement is counted", || async {
            t.env.metric("gateway_tls_reloads_total{result=\"error\"}").await >= want
        })
        .await;
        assert_eq!(t.presented(ORDINARY).await, renewed.der, "broken replacement {n} must not be used");
    }
    assert!(t.env.log().contains("certificate refused, the previous one stays in force"));

    // SIGHUP reads the files again (here: unchanged) and leaves the gateway serving.
    replace(&t, "ordinary", &renewed.cert_pem, &renewed.key_pem);
    let pid = t.env.gateway_pid().expect("gateway running");
    // SAFETY: kill(2) on the child process this test started.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGHUP) }, 0);
    eventually("SIGHUP is logged", || async { t.env.log().contains("SIGHUP: certificates read again") }).await;
    assert_eq!(t.presented(ORDINARY).await, renewed.der);
    assert_eq!(t.presented(LINE_HOST).await, t.line.der);
    t.env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_handshakes_are_cut_off_and_counted() {
    let t = Tls::start("connections:\n  max_per_address: 3\n  header_timeout: 2s\n").await;
    // 127.0.0.4 opens TLS connections and never finishes a handshake: one
    // sends nothing, two send the first bytes of a ClientHello only.
    let slow = "127.0.0.4";
    let opened = Instant::now();
    let mut stalled = Vec::new();
    for partial in [&b""[..], b"\x16\x03\x01\x02\x00\x01", b"\x16\x03\x01"] {
        let mut s = tcp_from(slow, t.addr()).await.expect("connect");
        s.write_all(partial).await.expect("write");
        stalled.push(s);
    }
    // The cap counts connections before their handshake: a fourth is closed at
    // once (once the first three are surely admitted: each is its own task).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut fourth = tcp_from(slow, t.addr()).await.expect("connect");
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(1), fourth.read(&mut buf)).await;
    assert!(
        matches!(n, Ok(Ok(0)) | Ok(Err(_))),
        "a connection past the cap must be closed at once: {n:?}\n{}",
        t.env.log()
    );

    // A finished handshake choosing h2, then silence: the HTTP/2 preface is
    // held to the header deadline (2 s).
    let mut silent = t.connect(INTERNET, Some(ORDINARY), Verify::Ca(&t.ca)).await.expect("handshake");
    assert_eq!(silent.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));

    // Meanwhile everyone else is served, over TLS and plain.
    assert_eq!(t.presented(ORDINARY).await, t.ordinary.der);
    let r = reqwest::get(format!("http://127.0.0.1:{}/healthz", t.env.port)).await.unwrap();
    assert_eq!(r.status(), 200);

    // Each stalled handshake is closed by the gateway within its deadline (2 s).
    for (i, s) in stalled.iter_mut().enumerate() {
        let n = tokio::time::timeout(Duration::from_secs(6), s.read(&mut buf)).await;
        assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "stalled handshake {i} was not closed: {n:?}");
    }
    // (The gateway's SETTINGS frame comes first; then the close.)
    let mut seen = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(6), silent.read_to_end(&mut seen)).await;
    assert!(n.is_ok(), "an h2 connection without a preface was not closed; read {} bytes", seen.len());
    let took = opened.elapsed();
    assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(6), "closed after {took:?}");
    eventually("the timeouts are counted", || async {
        t.env.metric("gateway_tls_handshake_failures_total{reason=\"timeout\"}").await >= 3.0
    })
    .await;
    // Their places are free again.
    let mut again = tcp_from(slow, t.addr()).await.expect("connect");
    again.write_all(b"\x16").await.expect("write");
    let n = tokio::time::timeout(Duration::from_millis(500), again.read(&mut buf)).await;
    assert!(n.is_err(), "a new connection from the address is admitted (and waits): {n:?}");
    t.env.cleanup().await;
}

/// A form whose body never comes is cut off at the header deadline: over
/// HTTP/2 nothing else would, and each such stream holds a task for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_body_that_never_comes_is_cut_off_over_h2() {
    let t = Tls::start("connections:\n  header_timeout: 2s\n").await;
    let tls = t.connect(INTERNET, Some(ORDINARY), Verify::Ca(&t.ca)).await.expect("handshake");
    let (mut client, conn) = h2::client::handshake(tls).await.expect("h2 handshake");
    tokio::spawn(conn);
    let head = http::Request::builder()
        .method("POST")
        .uri(format!("https://{ORDINARY}/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", "10")
        .body(())
        .expect("request");
    // The body is announced and never sent; the stream stays open on our side.
    let (resp, _body_never_sent) = client.send_request(head, false).expect("send");
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(8), resp).await;
    let took = started.elapsed();
    assert!(answer.is_ok(), "the stream was still held after 8 s\n{}", t.env.log());
    assert!(took >= Duration::from_millis(1500), "answered before the deadline ({took:?}): {answer:?}");
    if let Ok(Ok(r)) = &answer {
        assert!(r.status().as_u16() >= 400, "a form without its body got {}", r.status());
    }
    t.env.cleanup().await;
}
