//! The state every request shares: configuration, store, policy, session cache.

use std::sync::Arc;

use policy::NetworkSet;

use crate::password::Hasher;
use crate::policy_state::PolicyState;
use crate::proxy::host::Hosts;
use crate::proxy::identity::StripList;
use crate::session::SessionCache;
use crate::store::Store;

pub struct App {
    pub cfg: config::GatewayConfig,
    pub store: Store,
    pub policy: Arc<PolicyState>,
    pub sessions: SessionCache,
    pub hasher: Hasher,
    pub hosts: Hosts,
    pub trusted_proxies: NetworkSet,
    pub carrier_networks: NetworkSet,
    pub line_header: http::HeaderName,
    pub strip: StripList,
    pub forwarded_hosts: crate::proxy::identity::ForwardedHosts,
    pub login_throttle: crate::throttle::Throttle,
    pub mailer: Arc<crate::mail::Mailer>,
    pub sms: Arc<crate::sms::SmsSender>,
    pub totp_key: crate::second_factor::TotpKey,
    /// Code entries (SMS, authenticator, recovery) per client address and per user.
    pub code_throttle_ip: crate::throttle::Throttle,
    pub code_throttle_user: crate::throttle::Throttle<i64>,
    pub consent_regions: Vec<String>,
    pub region_header: Option<http::HeaderName>,
}

impl App {
    pub fn new(cfg: config::GatewayConfig, store: Store, policy: Arc<PolicyState>) -> anyhow::Result<App> {
        let line_header = http::HeaderName::from_bytes(cfg.carrier.line_header.to_ascii_lowercase().as_bytes())?;
        let mut carrier_headers = vec![cfg.carrier.line_header.as_str()];
        if let Some(r) = &cfg.carrier.region_header {
            carrier_headers.push(r.as_str());
        }
        Ok(App {
            sessions: SessionCache::new(cfg.session.cache_capacity, cfg.session.cache_ttl, cfg.session.idle_timeout),
            hasher: Hasher::new(cfg.login.hash_concurrency)?,
            hosts: Hosts { ordinary: cfg.hosts.ordinary.clone(), line_auth: cfg.hosts.line_auth.clone() },
            trusted_proxies: cfg.trusted_proxies.iter().copied().collect(),
            carrier_networks: cfg.carrier.trusted_networks.iter().copied().collect(),
            strip: StripList::new(&carrier_headers, &cfg.remove_headers),
            forwarded_hosts: crate::proxy::identity::ForwardedHosts::new(&cfg),
            login_throttle: crate::throttle::Throttle::new(cfg.login.throttle_per_minute),
            mailer: Arc::new(crate::mail::Mailer::new(&cfg.mail)?),
            sms: Arc::new(crate::sms::SmsSender::new(&cfg.sms)?),
            totp_key: crate::second_factor::TotpKey::load_or_create(&cfg)?,
            code_throttle_ip: crate::throttle::Throttle::new(30),
            code_throttle_user: crate::throttle::Throttle::new(10),
            consent_regions: cfg.carrier.consent_regions.iter().map(|r| r.to_ascii_lowercase()).collect(),
            region_header: match &cfg.carrier.region_header {
                Some(h) => Some(http::HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes())?),
                None => None,
            },
            line_header,
            cfg,
            store,
            policy,
        })
    }

    pub fn product(&self) -> &str {
        &self.cfg.ui.product_name
    }

    /// The language for a page the proxy writes itself (refusals): the visitor's
    /// explicit choice, else `Accept-Language`.
    pub fn ui_for(&self, req: &pingora::http::RequestHeader) -> crate::ui::html::Ui<'_> {
        use crate::ui::lang::{self, Lang};
        let cookie =
            crate::session::cookie_value(req.headers.get_all("cookie").iter().map(|v| v.as_bytes()), lang::COOKIE);
        let accept = req.headers.get(http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        crate::ui::html::Ui::plain(Lang::choose(cookie.as_deref(), accept), self.product())
    }
}
