//! The state every request shares: configuration, store, policy, session cache.

use std::sync::Arc;

use crate::password::Hasher;
use crate::policy_state::PolicyState;
use crate::session::SessionCache;
use crate::store::Store;

pub struct App {
    pub cfg: config::GatewayConfig,
    pub store: Store,
    pub policy: Arc<PolicyState>,
    pub sessions: SessionCache,
    pub hasher: Hasher,
    pub login_throttle: crate::throttle::Throttle,
    pub mailer: Arc<crate::mail::Mailer>,
    pub sms: Arc<crate::sms::SmsSender>,
    pub totp_key: crate::second_factor::TotpKey,
    /// Code entries (SMS, authenticator, recovery) per client address and per user.
    pub code_throttle_ip: crate::throttle::Throttle,
    pub code_throttle_user: crate::throttle::Throttle<i64>,
    pub federation: crate::federation::Federation,
    /// The change follower's handle (`crate::changes`).
    pub changes: crate::changes::handle::Changes,
}

impl App {
    pub fn new(cfg: config::GatewayConfig, store: Store, policy: Arc<PolicyState>) -> anyhow::Result<App> {
        Ok(App {
            sessions: SessionCache::new(cfg.session.cache_capacity, cfg.session.cache_ttl, cfg.session.idle_timeout),
            hasher: Hasher::new(cfg.login.hash_concurrency)?,
            login_throttle: crate::throttle::Throttle::new(cfg.login.throttle_per_minute),
            mailer: Arc::new(crate::mail::Mailer::new(&cfg.mail)?),
            sms: Arc::new(crate::sms::SmsSender::new(&cfg.sms)?),
            totp_key: crate::second_factor::TotpKey::load_or_create(&cfg)?,
            code_throttle_ip: crate::throttle::Throttle::new(30),
            code_throttle_user: crate::throttle::Throttle::new(10),
            federation: crate::federation::Federation::new()?,
            changes: crate::changes::handle::Changes::default(),
            cfg,
            store,
            policy,
        })
    }

    /// The account operations, with this gateway's session cache.
    pub fn accounts(&self) -> crate::accounts::Accounts<'_> {
        crate::accounts::Accounts {
            store: &self.store,
            cfg: &self.cfg,
            mailer: &self.mailer,
            sessions: Some(&self.sessions),
        }
    }

    /// The database when it is shared by several instances (PostgreSQL):
    /// throttles count there too.
    fn shared_counts(&self) -> Option<&Store> {
        (self.store.backend() == "postgres").then_some(&self.store)
    }

    /// One sign-in attempt (password, link, provider start) from this address.
    pub async fn allow_login(&self, ip: Option<std::net::IpAddr>) -> bool {
        let key = crate::throttle::address_key(ip);
        self.login_throttle.allow_shared("login", key, self.shared_counts()).await
    }

    /// One code entry (SMS, authenticator, recovery) from this address for this user.
    pub async fn allow_code(&self, ip: Option<std::net::IpAddr>, user_id: i64) -> bool {
        let key = crate::throttle::address_key(ip);
        self.code_throttle_ip.allow_shared("code_ip", key, self.shared_counts()).await
            && self.allow_code_for_user(user_id).await
    }

    /// One code entry for this user, from anywhere.
    pub async fn allow_code_for_user(&self, user_id: i64) -> bool {
        self.code_throttle_user.allow_shared("code_user", user_id, self.shared_counts()).await
    }

    pub fn product(&self) -> &str {
        &self.cfg.ui.product_name
    }
}
