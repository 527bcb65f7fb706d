//! The TLS handshake, run by the listener's app (`proxy::limits::Guarded`)
//! rather than by Pingora's accept loop: there it would run before the
//! per-address connection cap is applied, under a fixed 60-second timeout, so
//! a client could hold many half-open handshakes. Here the connection is first
//! admitted under the cap, and the handshake must finish within
//! `tls.handshake_timeout`.

use std::sync::Arc;
use std::time::Duration;

use pingora::listeners::tls::{Acceptor, TlsSettings};
use pingora::protocols::Stream;
use pingora::protocols::l4::stream::Stream as L4Stream;

use super::CertStore;
use crate::metrics;

pub struct Terminator {
    acceptor: Acceptor,
    /// Connections that arrive on this local port are TLS.
    port: u16,
    handshake_timeout: Duration,
}

impl Terminator {
    pub fn new(store: Arc<CertStore>) -> anyhow::Result<Terminator> {
        let tls = store.tls();
        let (port, handshake_timeout) = (tls.listen.port(), tls.handshake_timeout);
        // The paths are unused: the resolver chooses the certificate.
        let mut settings = TlsSettings::intermediate("", "").map_err(|e| anyhow::anyhow!("tls settings: {e}"))?;
        settings.set_cert_resolver(store);
        settings.enable_h2();
        Ok(Terminator { acceptor: settings.build(), port, handshake_timeout })
    }

    /// Whether `stream` came in on the TLS listener.
    pub fn is_for(&self, stream: &Stream) -> bool {
        let local = stream.get_socket_digest().and_then(|d| d.local_addr().and_then(|a| a.as_inet()).map(|a| a.port()));
        local == Some(self.port)
    }

    /// The stream after a completed handshake; `None` (the connection is
    /// dropped, so closed) when it fails or does not finish in time.
    pub async fn accept(&self, stream: Stream) -> Option<Stream> {
        let raw = match stream.into_any().downcast::<L4Stream>() {
            Ok(raw) => *raw,
            Err(_) => {
                tracing::error!("TLS listener: the accepted connection is not a plain socket; closing it");
                return None;
            }
        };
        match tokio::time::timeout(self.handshake_timeout, self.acceptor.tls_handshake(raw)).await {
            Ok(Ok(tls)) => Some(Box::new(tls)),
            Ok(Err(e)) => {
                metrics::TLS_HANDSHAKE_FAILURES.with_label_values(&["error"]).inc();
                tracing::debug!(error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                metrics::TLS_HANDSHAKE_FAILURES.with_label_values(&["timeout"]).inc();
                tracing::debug!("TLS handshake deadline passed; connection closed");
                None
            }
        }
    }
}
