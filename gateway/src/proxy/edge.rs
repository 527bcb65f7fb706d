//! What only the proxy needs from the configuration, prepared once: hostnames,
//! the networks whose headers are believed, the headers to strip and add.

use policy::NetworkSet;

use super::host::Hosts;
use super::identity::{ForwardedHosts, Rewrite, StripList};

pub struct Edge {
    pub hosts: Hosts,
    pub trusted_proxies: NetworkSet,
    pub carrier_networks: NetworkSet,
    pub line_header: http::HeaderName,
    pub region_header: Option<http::HeaderName>,
    pub consent_regions: Vec<String>,
    pub rewrite: Rewrite,
    pub forwarded_hosts: ForwardedHosts,
    pub origin: super::origin::Origin,
    /// `Strict-Transport-Security` for answers over TLS; `None` without TLS or with HSTS off.
    pub hsts: Option<http::HeaderValue>,
}

impl Edge {
    pub fn new(cfg: &config::GatewayConfig) -> anyhow::Result<Edge> {
        let line_header = http::HeaderName::from_bytes(cfg.carrier.line_header.to_ascii_lowercase().as_bytes())?;
        let mut carrier_headers = vec![cfg.carrier.line_header.as_str()];
        if let Some(r) = &cfg.carrier.region_header {
            carrier_headers.push(r.as_str());
        }
        Ok(Edge {
            hosts: Hosts { ordinary: cfg.hosts.ordinary.clone(), line_auth: cfg.hosts.line_auth.clone() },
            trusted_proxies: cfg.trusted_proxies.iter().copied().collect(),
            carrier_networks: cfg.carrier.trusted_networks.iter().copied().collect(),
            rewrite: Rewrite::new(StripList::new(&carrier_headers, &cfg.remove_headers), Some(line_header.clone()))?,
            forwarded_hosts: ForwardedHosts::new(cfg),
            consent_regions: cfg.carrier.consent_regions.iter().map(|r| r.to_ascii_lowercase()).collect(),
            region_header: match &cfg.carrier.region_header {
                Some(h) => Some(http::HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes())?),
                None => None,
            },
            line_header,
            origin: super::origin::Origin::new(cfg)?,
            hsts: match cfg.tls.as_ref().and_then(|t| t.hsts_value()) {
                Some(v) => Some(http::HeaderValue::from_str(&v)?),
                None => None,
            },
        })
    }
}
