//! Configuration of the line-auth gateway: `gateway.yaml` (listeners, hostnames,
//! database, transports, …) and the hot-reloaded ops policy file
//! (`policy.yaml`: path rules and tenants declared as code).
//!
//! Every problem is reported as a [`ConfigError`] carrying the file, and where
//! possible the line and column, of the offending value, so that
//! `gateway check-config` can print `file:line:column: message`.

mod context;
mod database;
mod duration;
mod error;
mod gateway;
mod gateway_load;
mod locate;
mod log;
mod names;
mod net;
mod policy_file;
mod providers;
mod scalar;
mod secret;
mod shutdown;
mod state_dir;
mod timeouts;
mod tls;
mod tls_check;
mod tls_client;
mod watcher;
mod yaml;

pub use database::{normalize_database_url, redact_database_url};
pub use duration::parse_duration;
pub use error::ConfigError;
pub use gateway::{
    Carrier, ConnectionLimits, DEFAULT_METRICS_PORT, GatewayConfig, Hosts, Language, LinkSettings, LoginSettings,
    MailSettings, MailTransport, MetricsSettings, PublicUrls, SecretSettings, SessionSettings, SmsSettings,
    SmsTransport, SmtpSettings, SmtpTls, TenantNetworkSettings, UiSettings, WebhookSettings,
};
pub use gateway_load::{load_gateway, parse_gateway, parse_gateway_with_env};
pub use log::{AccessLog, DEFAULT_LEVEL, LogFormat, LogSettings};
pub use names::{is_token, normalize_hostname};
pub use net::parse_net;
pub use policy_file::{
    DeclaredTenant, OpsPolicy, check_tenant_name, load_policy, load_policy_with, parse_policy, parse_policy_with,
};
pub use providers::{LoginProvider, ProviderKind, ProviderLabel, check_provider_url, check_url_for, is_internal_ip};
pub use secret::Secret;
pub use shutdown::ShutdownSettings;
pub use timeouts::OriginTimeouts;
pub use tls::{CertificateError, CertificateFiles, TlsConfig, host_matches, load_certified_key};
pub use tls_client::{CaFile, OriginTls};
pub use watcher::PolicyWatcher;
