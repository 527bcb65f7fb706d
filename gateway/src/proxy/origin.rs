//! The origin as Pingora's upstream peer, prepared once at start-up: plain
//! HTTP, or HTTPS with the SNI, the trusted authorities and the checks of
//! `origin_tls`.
//!
//! An `https://` origin is never reached in plain text: a failed handshake is a
//! failed request (502), there is no fallback.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use pingora::upstreams::peer::HttpPeer;
use pingora::utils::tls::{WrappedX509, parse_x509};
use x509_parser::prelude::{FromDer, X509Certificate};

pub enum Origin {
    Plain(SocketAddr),
    /// Cloned for each request: the peer carries the TLS settings.
    Tls(Box<HttpPeer>),
}

impl Origin {
    pub fn new(cfg: &config::GatewayConfig) -> anyhow::Result<Origin> {
        let Some(tls) = &cfg.origin_tls else {
            return Ok(Origin::Plain(cfg.origin));
        };
        let mut peer = HttpPeer::new(cfg.origin, true, tls.sni.clone());
        // Pingora skips every check when the SNI is empty; config never gives
        // an empty one, and this keeps it so.
        if tls.sni.is_empty() {
            bail!("origin_tls: the origin's TLS name is empty");
        }
        peer.options.verify_cert = tls.verify;
        peer.options.verify_hostname = tls.verify;
        if let Some(ca) = &tls.ca {
            peer.options.ca = Some(trusted(ca)?);
        }
        if !tls.verify {
            tracing::warn!(
                origin = %cfg.origin,
                sni = %tls.sni,
                "origin_tls.verify is false: the origin's certificate is not checked, so anyone on the path can \
                 pose as the origin and read every request"
            );
        }
        Ok(Origin::Tls(Box::new(peer)))
    }

    pub fn peer(&self) -> Box<HttpPeer> {
        match self {
            Origin::Plain(addr) => Box::new(HttpPeer::new(*addr, false, String::new())),
            Origin::Tls(peer) => peer.clone(),
        }
    }
}

/// The CA file as Pingora's per-peer trust list. Each certificate is parsed
/// here by both parsers Pingora will use, so that a certificate they cannot
/// read stops the start, not a request (`parse_x509` would panic).
fn trusted(ca: &config::CaFile) -> anyhow::Result<Arc<[WrappedX509]>> {
    crate::tls_roots::from_ca_file(ca).with_context(|| format!("origin_tls.ca_file {}", ca.path.display()))?;
    let mut out = Vec::with_capacity(ca.certs.len());
    for (i, der) in ca.certs.iter().enumerate() {
        X509Certificate::from_der(der)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("origin_tls.ca_file {}: certificate {}", ca.path.display(), i + 1))?;
        out.push(WrappedX509::new(der.clone(), parse_x509));
    }
    Ok(out.into())
}
