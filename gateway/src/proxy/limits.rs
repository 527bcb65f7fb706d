//! Connection limits at the listener (SPEC section 11): the whole request
//! header has a deadline, an idle keep-alive connection is closed, and one
//! address holds at most so many connections.
//!
//! Pingora 0.9 has none of the three: its read timeout is per read (a byte now
//! and then resets it), its keep-alive wait is infinite for HTTP/1.1, and its
//! `ConnectionFilter` sees the accept but not the close, so it cannot count.
//! [`Guarded`] therefore wraps the proxy as the listener's `ServerApp`: it
//! counts each connection from accept to close, and runs Pingora's HTTP/1
//! keep-alive loop itself over a stream ([`Deadlined`]) whose reads fail once
//! the current deadline passes. Proxy and auth UI keep sharing one listener.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use pingora::apps::{HttpServerApp, ServerApp};
use pingora::protocols::http::ServerSession;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::TlsRef;
use pingora::protocols::{
    ALPN, GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream, TimingDigest,
    UniqueID, UniqueIDType,
};
use pingora::server::ShutdownWatch;
use policy::NetworkSet;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::throttle::client_key;

/// The limits, from `connections` in gateway.yaml.
#[derive(Debug)]
pub struct Limits {
    header_timeout: Duration,
    idle_timeout: Duration,
    max_per_address: u32,
    max_per_trusted: u32,
    /// Trusted proxies and carrier networks: many people's connections arrive
    /// from each of their addresses.
    trusted: NetworkSet,
    open: Mutex<HashMap<IpAddr, u32>>,
    /// Every connection admitted and not yet closed: a drain ends when this is 0.
    total: AtomicUsize,
}

impl Limits {
    pub fn new(cfg: &config::GatewayConfig) -> Arc<Limits> {
        let c = &cfg.connections;
        Arc::new(Limits {
            header_timeout: c.header_timeout,
            idle_timeout: c.idle_timeout,
            max_per_address: c.max_per_address,
            max_per_trusted: c.max_per_trusted_address,
            trusted: cfg.trusted_proxies.iter().chain(&cfg.carrier.trusted_networks).copied().collect(),
            open: Mutex::new(HashMap::new()),
            total: AtomicUsize::new(0),
        })
    }

    /// Counts a new connection from `peer`; None when its address (its /64 for
    /// IPv6) already holds as many as it may. An unknown peer is not counted.
    pub fn admit(self: &Arc<Self>, peer: Option<IpAddr>) -> Option<Permit> {
        let Some(peer) = peer else { return Some(self.permit(None)) };
        let cap = if self.trusted.contains(peer) { self.max_per_trusted } else { self.max_per_address };
        if cap == 0 {
            return Some(self.permit(None));
        }
        let key = client_key(peer);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        drop(open);
        Some(self.permit(Some(key)))
    }

    fn permit(self: &Arc<Self>, key: Option<IpAddr>) -> Permit {
        self.total.fetch_add(1, Ordering::Relaxed);
        Permit { limits: self.clone(), key }
    }

    /// Client connections open now (both listeners).
    pub fn open_connections(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn open_for(&self, ip: IpAddr) -> u32 {
        self.open.lock().unwrap().get(&client_key(ip)).copied().unwrap_or(0)
    }
}

/// One admitted connection; dropping it (the connection closed) frees its place.
pub struct Permit {
    limits: Arc<Limits>,
    key: Option<IpAddr>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.limits.total.fetch_sub(1, Ordering::Relaxed);
        let Some(key) = self.key else { return };
        let mut open = self.limits.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&key);
            }
        }
    }
}

/// The proxy behind the limits.
pub struct Guarded<A> {
    pub inner: Arc<A>,
    pub limits: Arc<Limits>,
    /// TLS termination for connections on the TLS listener, done here after the
    /// cap (see `tls::terminate`).
    pub tls: Option<crate::tls::Terminator>,
    /// The gateway's answers in place of Pingora's bare ones.
    pub bare: Arc<super::bare::BareAnswers>,
}

/// At shutdown, how long a keep-alive connection may still bring one more
/// request (answered with `Connection: close`) before idle ones are closed: a
/// client that sent its next request just then would otherwise see the
/// connection close under it.
const LAST_CALL: Duration = Duration::from_secs(1);

#[async_trait]
impl<A: HttpServerApp + Send + Sync + 'static> ServerApp for Guarded<A> {
    async fn process_new(self: &Arc<Self>, stream: Stream, shutdown: &ShutdownWatch) -> Option<Stream> {
        let peer = stream.get_socket_digest().and_then(|d| d.peer_addr().and_then(|a| a.as_inet()).map(|a| a.ip()));
        let Some(_permit) = self.limits.admit(peer) else {
            tracing::debug!(peer = ?peer, "connection refused: too many from this address");
            // Dropping the stream closes the connection.
            return None;
        };
        let stream = match &self.tls {
            Some(tls) if tls.is_for(&stream) => tls.accept(stream).await?,
            _ => stream,
        };
        let options = self.inner.server_options();
        // Cleartext HTTP/2 (h2c) is told from HTTP/1 by a peek inside Pingora's
        // loop; should it ever be turned on, such listeners get the cap only.
        let h2c = options.is_some_and(|o| o.h2c) && stream.get_ssl_digest().is_none();
        let other_protocol = h2c
            || options.is_some_and(|o| o.force_custom)
            || matches!(stream.selected_alpn_proto(), Some(ALPN::H2) | Some(ALPN::Custom(_)));
        if other_protocol {
            // HTTP/2 multiplexes requests; its own idle timeout applies there
            // (`h2_idle_timeout`, set from `connections.idle_timeout`), but only
            // once Pingora's h2 handshake is done, which waits for the client's
            // preface without a limit. The preface ("PRI * HTTP/2.0", an empty
            // line, "SM", an empty line) reads as a request line and the end of
            // a header to [`Phase`], so the header deadline bounds exactly it,
            // and the stream passes through untouched afterwards.
            let stream: Stream = if matches!(stream.selected_alpn_proto(), Some(ALPN::H2)) {
                let clock = Arc::new(Mutex::new(Phase::header(self.limits.header_timeout)));
                Box::new(Deadlined::new(stream, clock, self.limits.header_timeout, None))
            } else {
                stream
            };
            return ServerApp::process_new(&self.inner, stream, shutdown).await;
        }

        // Pingora's own HTTP/1 loop (`impl ServerApp for T: HttpServerApp`), with
        // a deadline set before each request.
        let clock = Arc::new(Mutex::new(Phase::header(self.limits.header_timeout)));
        let stream: Stream =
            Box::new(Deadlined::new(stream, clock.clone(), self.limits.header_timeout, Some(self.bare.clone())));
        let mut session = ServerSession::new_http1(stream);
        session.set_keepalive(if *shutdown.borrow() { None } else { Some(60) });
        session.set_keepalive_reuses_remaining(options.and_then(|o| o.keepalive_request_limit));
        let mut result = self.inner.process_new_http(session, shutdown).await;
        while let Some((stream, persistent)) = result.map(|r| r.consume()) {
            *clock.lock().unwrap_or_else(|p| p.into_inner()) = Phase::idle(self.limits.idle_timeout);
            let mut session = ServerSession::new_http1(stream);
            if let Some(p) = persistent {
                p.apply_to_session(&mut session);
            }
            result = self.inner.process_new_http(session, shutdown).await;
        }
        None
    }

    /// Called once the listeners are closed; closes the idle keep-alive
    /// connections after [`LAST_CALL`].
    async fn cleanup(&self) {
        tokio::time::sleep(LAST_CALL).await;
        self.inner.http_cleanup().await;
    }
}

/// Where a connection is between requests, and when its wait ends.
#[derive(Debug)]
struct Phase {
    state: State,
    deadline: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the first byte of the next request.
    Idle,
    /// Reading a request header: whether the current line has a byte other
    /// than CR so far; whether a non-empty line (the request line) has been seen.
    Header { open: bool, seen_line: bool },
    /// The header is in: reads are the body's, under Pingora's own timeouts.
    Body,
}

impl Phase {
    fn header(timeout: Duration) -> Phase {
        Phase { state: State::Header { open: false, seen_line: false }, deadline: Instant::now() + timeout }
    }

    fn idle(timeout: Duration) -> Phase {
        Phase { state: State::Idle, deadline: Instant::now() + timeout }
    }

    /// Follows the bytes just read: the first byte after idling starts the
    /// header's deadline; the empty line that ends the header lifts it.
    fn saw(&mut self, bytes: &[u8], header_timeout: Duration) {
        if self.state == State::Idle {
            *self = Phase::header(header_timeout);
        }
        let State::Header { mut open, mut seen_line } = self.state else { return };
        // Line by line with memchr rather than byte by byte: this runs on every
        // request head, and a line's content only matters up to its first byte
        // that is not CR.
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', bytes) {
            let content = open || bytes[start..nl].iter().any(|&b| b != b'\r');
            if !content && seen_line {
                self.state = State::Body;
                return;
            }
            seen_line |= content;
            open = false;
            start = nl + 1;
        }
        open |= bytes[start..].iter().any(|&b| b != b'\r');
        self.state = State::Header { open, seen_line };
    }
}

/// The connection's stream, whose reads fail with `TimedOut` once the current
/// phase's deadline passes.
pub struct Deadlined {
    inner: Stream,
    clock: Arc<Mutex<Phase>>,
    header_timeout: Duration,
    timer: Pin<Box<Sleep>>,
    /// HTTP/1 only: Pingora's bare error heads are replaced (`proxy::bare`).
    bare: Option<Arc<super::bare::BareAnswers>>,
    /// Whether the connection is over TLS (the replacement then has HSTS).
    over_tls: bool,
    /// A replacement being written: its bytes, how many are out, and the
    /// length of the write it stands for.
    replacing: Option<(bytes::Bytes, usize, usize)>,
}

impl Deadlined {
    fn new(
        inner: Stream,
        clock: Arc<Mutex<Phase>>,
        header_timeout: Duration,
        bare: Option<Arc<super::bare::BareAnswers>>,
    ) -> Deadlined {
        let deadline = clock.lock().unwrap_or_else(|p| p.into_inner()).deadline;
        let over_tls = inner.get_ssl_digest().is_some();
        Deadlined {
            over_tls,
            inner,
            clock,
            header_timeout,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            bare,
            replacing: None,
        }
    }

    /// Writes the replacement under way; Ready(Ok(n)) once all of it is out,
    /// `n` being the length of the write it replaced.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Option<Poll<io::Result<usize>>> {
        let (bytes, done, stands_for) = self.replacing.as_mut()?;
        while *done < bytes.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]) {
                Poll::Ready(Ok(0)) => {
                    self.replacing = None;
                    return Some(Poll::Ready(Err(io::ErrorKind::WriteZero.into())));
                }
                Poll::Ready(Ok(n)) => *done += n,
                Poll::Ready(Err(e)) => {
                    self.replacing = None;
                    return Some(Poll::Ready(Err(e)));
                }
                Poll::Pending => return Some(Poll::Pending),
            }
        }
        let n = *stands_for;
        self.replacing = None;
        Some(Poll::Ready(Ok(n)))
    }

    /// Starts replacing `buf` when it is one of Pingora's bare error heads.
    fn replaces(&mut self, buf: &[u8]) -> bool {
        if self.replacing.is_none()
            && let Some(instead) = self.bare.as_ref().and_then(|b| b.instead(buf, self.over_tls))
        {
            tracing::debug!("Pingora's bare error answer replaced by the gateway's");
            self.replacing = Some((instead.clone(), 0, buf.len()));
        }
        self.replacing.is_some()
    }
}

impl std::fmt::Debug for Deadlined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadlined").field("inner", &self.inner).finish()
    }
}

impl AsyncRead for Deadlined {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let mut phase = this.clock.lock().unwrap_or_else(|p| p.into_inner());
        if phase.state == State::Body {
            drop(phase);
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                phase.saw(&buf.filled()[before..], this.header_timeout);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                // Re-arming the timer costs a trip through tokio's timer wheel, and
                // the idle deadline moves later after every response. So the timer
                // is moved only when the deadline comes earlier; when it fires at
                // an older, earlier deadline it is re-armed once, to the current one.
                if phase.deadline < this.timer.deadline() {
                    this.timer.as_mut().reset(phase.deadline);
                }
                loop {
                    match this.timer.as_mut().poll(cx) {
                        Poll::Ready(()) if Instant::now() < phase.deadline => {
                            this.timer.as_mut().reset(phase.deadline);
                        }
                        Poll::Ready(()) => {
                            let what = if phase.state == State::Idle { "idle keep-alive" } else { "request header" };
                            tracing::debug!(what, "connection closed: deadline passed");
                            return Poll::Ready(Err(io::Error::new(
                                io::ErrorKind::TimedOut,
                                format!("{what} deadline passed"),
                            )));
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
        }
    }
}

impl AsyncWrite for Deadlined {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replaces(buf)
            && let Some(p) = this.poll_replacement(cx)
        {
            return p;
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && this.replaces(first)
            && let Some(p) = this.poll_replacement(cx)
        {
            return p;
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[async_trait]
impl Shutdown for Deadlined {
    async fn shutdown(&mut self) {
        self.inner.shutdown().await
    }
}

impl UniqueID for Deadlined {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for Deadlined {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<pingora::protocols::tls::SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for Deadlined {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for Deadlined {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: ProxyDigest) {
        self.inner.set_proxy_digest(digest)
    }
}

impl GetSocketDigest for Deadlined {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest)
    }
}

#[async_trait]
impl Peek for Deadlined {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(cap: u32, trusted_cap: u32) -> Arc<Limits> {
        let mut cfg = config::GatewayConfig::default();
        cfg.connections.max_per_address = cap;
        cfg.connections.max_per_trusted_address = trusted_cap;
        cfg.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
        Limits::new(&cfg)
    }

    #[test]
    fn caps_each_address_and_frees_on_close() {
        let l = limits(2, 0);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let p1 = l.admit(Some(a)).unwrap();
        let _p2 = l.admit(Some(a)).unwrap();
        assert!(l.admit(Some(a)).is_none());
        assert!(l.admit(Some("192.0.2.2".parse().unwrap())).is_some(), "another address");
        assert_eq!(l.open_connections(), 2, "a refused connection is not counted");
        drop(p1);
        assert_eq!(l.open_for(a), 1);
        assert_eq!(l.open_connections(), 1);
        assert!(l.admit(Some(a)).is_some(), "a closed connection frees its place");
        // Trusted peers have their own cap (0: none).
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let held: Vec<_> = (0..100).map(|_| l.admit(Some(proxy)).unwrap()).collect();
        assert_eq!(held.len(), 100);
        assert!(l.admit(None).is_some(), "an unknown peer is not counted");
    }

    #[test]
    fn ipv6_counts_per_64() {
        let l = limits(1, 0);
        let _p = l.admit(Some("2001:db8::1".parse().unwrap())).unwrap();
        assert!(l.admit(Some("2001:db8::2".parse().unwrap())).is_none());
        assert!(l.admit(Some("2001:db8:0:1::1".parse().unwrap())).is_some());
    }

    #[test]
    fn the_header_ends_at_the_first_empty_line() {
        let t = Duration::from_secs(1);
        let mut p = Phase::idle(t);
        p.saw(b"\r\nGET / HTTP/1.1\r\nHost: a", t);
        assert!(matches!(p.state, State::Header { .. }), "a leading empty line does not end it");
        p.saw(b"\r\n", t);
        assert!(matches!(p.state, State::Header { .. }));
        p.saw(b"\r", t);
        p.saw(b"\nbody", t);
        assert_eq!(p.state, State::Body);
        let mut p = Phase::header(t);
        p.saw(b"GET / HTTP/1.1\n\n", t);
        assert_eq!(p.state, State::Body, "bare LF lines too");
        // The HTTP/2 connection preface ends a "header" too: the deadline then
        // covers it alone, and HTTP/2 frames pass through.
        let mut p = Phase::header(t);
        p.saw(b"PRI * HTTP/2.0\r\n\r", t);
        assert!(matches!(p.state, State::Header { .. }));
        p.saw(b"\nSM\r\n\r\n\x00\x00", t);
        assert_eq!(p.state, State::Body);
    }

    /// The byte-by-byte reading `saw` replaced: where the header ends, if it does.
    fn header_end_reference(bytes: &[u8]) -> Option<usize> {
        let (mut line, mut seen_line) = (0usize, false);
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' if line == 0 && seen_line => return Some(i),
                b'\n' => {
                    seen_line |= line > 0;
                    line = 0;
                }
                b'\r' => {}
                _ => line += 1,
            }
        }
        None
    }

    #[test]
    fn the_header_end_agrees_with_a_byte_by_byte_reading_in_any_chunking() {
        let t = Duration::from_secs(1);
        let alphabet = [b'\r', b'\n', b'a', b' '];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| alphabet[(next() % 4) as usize]).collect();
            let expected = header_end_reference(&bytes);
            let mut p = Phase::header(t);
            let mut rest = &bytes[..];
            let mut ended_at = None;
            let mut fed = 0;
            while !rest.is_empty() {
                let n = 1 + (next() as usize % rest.len());
                p.saw(&rest[..n], t);
                if p.state == State::Body {
                    ended_at = Some((fed, fed + n));
                    break;
                }
                fed += n;
                rest = &rest[n..];
            }
            // The chunk in which the header ended must hold the reference's end.
            match (expected, ended_at) {
                (None, None) => {}
                (Some(end), Some((from, to))) => assert!((from..to).contains(&end), "{bytes:?}"),
                _ => panic!("{bytes:?}: reference {expected:?}, chunked {ended_at:?}"),
            }
        }
    }
}
