//! The origin as Pingora's upstream peer, prepared once at start-up: plain
//! HTTP, or HTTPS with the SNI, the trusted authorities and the checks of
//! `origin_tls`.
//!
//! An `https://` origin is never reached in plain text: a failed handshake is a
//! failed request (502), there is no fallback.

use std::sync::Arc;

use anyhow::{Context, bail};
use pingora::upstreams::peer::HttpPeer;
use pingora::utils::tls::{WrappedX509, parse_x509};
use x509_parser::prelude::{FromDer, X509Certificate};

pub enum Origin {
    /// Cloned for each request, like the TLS one: the peer carries the timeouts.
    Plain(Box<HttpPeer>),
    /// Cloned for each request: the peer carries the TLS settings.
    Tls(Box<HttpPeer>),
}

/// `origin_timeouts`: past either the request fails with 504.
fn with_timeouts(mut peer: HttpPeer, cfg: &config::GatewayConfig) -> HttpPeer {
    let t = &cfg.origin_timeouts;
    peer.options.connection_timeout = Some(t.connect);
    // The TLS handshake counts towards the connect time.
    peer.options.total_connection_timeout = Some(t.connect);
    peer.options.read_timeout = Some(t.read);
    peer
}

impl Origin {
    pub fn new(cfg: &config::GatewayConfig) -> anyhow::Result<Origin> {
        let Some(tls) = &cfg.origin_tls else {
            return Ok(Origin::Plain(Box::new(with_timeouts(HttpPeer::new(cfg.origin, false, String::new()), cfg))));
        };
        // Pingora skips every check when the SNI is empty; config never gives
        // an empty one, and this keeps it so.
        if tls.sni.is_empty() {
            bail!("origin_tls: the origin's TLS name is empty");
        }
        let mut peer = with_timeouts(HttpPeer::new(cfg.origin, true, tls.sni.clone()), cfg);
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
            Origin::Plain(peer) | Origin::Tls(peer) => peer.clone(),
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

#[cfg(test)]
mod tests {
    use config::{CaFile, GatewayConfig, OriginTls};
    use pingora::upstreams::peer::Peer;

    use super::*;

    fn with_tls(sni: &str, certs: Vec<Vec<u8>>, verify: bool) -> GatewayConfig {
        let ca = (!certs.is_empty()).then(|| CaFile { path: "ca.pem".into(), certs });
        GatewayConfig { origin_tls: Some(OriginTls { sni: sni.into(), ca, verify }), ..GatewayConfig::default() }
    }

    fn test_ca_der() -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn an_https_origin_peer_checks_the_name_against_the_ca_file() {
        let origin = Origin::new(&with_tls("files.internal", vec![test_ca_der()], true)).unwrap();
        let peer = origin.peer();
        assert_eq!(peer.sni(), "files.internal");
        assert!(peer.is_tls() && peer.verify_cert() && peer.verify_hostname());
        assert_eq!(peer.get_ca().map(|ca| ca.len()), Some(1));
    }

    #[test]
    fn a_plain_origin_peer_has_no_tls() {
        let peer = Origin::new(&GatewayConfig::default()).unwrap().peer();
        assert!(!peer.is_tls());
    }

    #[test]
    fn a_ca_file_certificate_that_does_not_parse_stops_the_start() {
        // Valid PEM can wrap bytes that are no certificate; Pingora would panic on them.
        let err = Origin::new(&with_tls("files.internal", vec![vec![0x30, 0x03, 0x02, 0x01, 0x00]], true));
        let err = err.err().expect("refused").to_string();
        assert!(err.contains("origin_tls.ca_file"), "{err}");
        assert!(Origin::new(&with_tls("", vec![], true)).is_err());
    }
}
