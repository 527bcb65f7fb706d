//! The shape of `gateway.yaml`, with every default. Loading lives in
//! `gateway_load.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

use crate::database::redact_database_url;
use crate::names::HeaderKey;
use crate::secret::Secret;
use crate::tls_client::{CaFile, OriginTls};
use crate::{duration, names, net};

fn local(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// The whole gateway configuration, resolved: secrets read, relative paths made
/// relative to the file's directory, the origin's name looked up.
#[derive(Clone)]
pub struct GatewayConfig {
    /// The gateway listener, serving both hostnames.
    pub listen: SocketAddr,
    /// The two hostnames the gateway answers to.
    pub hosts: Hosts,
    /// The storage origin requests are proxied to (resolved at load).
    pub origin: SocketAddr,
    /// TLS towards the origin; `Some` exactly when `origin` is an `https://` URL.
    pub origin_tls: Option<OriginTls>,
    /// `sqlite://ABSOLUTE-PATH[?query]`, `sqlite::memory:` or a PostgreSQL URL.
    /// May hold a password: log it only through [`GatewayConfig::database_redacted`].
    pub database: String,
    /// Lets the gateway reach PostgreSQL on another host without TLS (`sslmode`
    /// `disable`, `allow` or `prefer`, the last being the default). Off: refused at start.
    pub database_allow_plain_text: bool,
    /// Peers allowed to speak `X-Forwarded-For`.
    pub trusted_proxies: Vec<IpNet>,
    /// Where line ids come from and which peers may assert them.
    pub carrier: Carrier,
    /// Session cookie and cache settings.
    pub session: SessionSettings,
    /// Limits on the login endpoint.
    pub login: LoginSettings,
    /// Emailed links (password reset, unlock, invitations).
    pub links: LinkSettings,
    /// How mail is sent.
    pub mail: MailSettings,
    /// How SMS are sent.
    pub sms: SmsSettings,
    /// The Prometheus listener.
    pub metrics: MetricsSettings,
    /// The ops policy file, resolved; `None` when set to `null`.
    pub policy_file: Option<PathBuf>,
    /// Whether `policy_file` was written in the file: a missing default file
    /// means "no ops policy", a missing named one is an error.
    pub policy_file_explicit: bool,
    /// Text shown on the gateway's own pages.
    pub ui: UiSettings,
    /// Worker threads; 0 means one per CPU.
    pub threads: usize,
    /// Keys used by the gateway itself.
    pub secrets: SecretSettings,
    /// How wide a tenant's source network may be.
    pub tenant_networks: TenantNetworkSettings,
    /// Deadlines and caps on client connections.
    pub connections: ConnectionLimits,
    /// Request headers never passed to the origin, beyond the built-in list.
    pub remove_headers: Vec<String>,
    /// Where the public reaches each hostname: links in mails are built from these only.
    pub public_urls: PublicUrls,
    /// TLS termination on a listener of the gateway's own; `None`: plain HTTP only.
    pub tls: Option<crate::tls::TlsConfig>,
    /// The file this was loaded from.
    pub path: PathBuf,
    /// The directory relative paths were resolved against.
    pub base_dir: PathBuf,
    /// How long the origin may take to accept a connection and to answer.
    pub origin_timeouts: crate::OriginTimeouts,
    /// SIGTERM's grace and drain, and the upgrade socket.
    pub shutdown: crate::ShutdownSettings,
    /// How the gateway logs, and where the access log goes (its path resolved).
    pub log: crate::log::LogSettings,
    /// Where the gateway writes (`state_dir`, resolved): relative state paths
    /// (the SQLite file, `mail.dir`, `sms.dir`, the generated TOTP key) are
    /// resolved against it.
    pub state_dir: PathBuf,
}

impl GatewayConfig {
    /// The database URL with any password masked.
    pub fn database_redacted(&self) -> String {
        redact_database_url(&self.database)
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: local(8080),
            hosts: Hosts::default(),
            origin: local(9000),
            origin_tls: None,
            database: "sqlite://data/gateway.db".to_owned(),
            database_allow_plain_text: false,
            trusted_proxies: Vec::new(),
            carrier: Carrier::default(),
            session: SessionSettings::default(),
            login: LoginSettings::default(),
            links: LinkSettings::default(),
            mail: MailSettings::default(),
            sms: SmsSettings::default(),
            metrics: MetricsSettings::default(),
            policy_file: Some(PathBuf::from("policy.yaml")),
            policy_file_explicit: false,
            ui: UiSettings::default(),
            threads: 0,
            secrets: SecretSettings::default(),
            tenant_networks: TenantNetworkSettings::default(),
            connections: ConnectionLimits::default(),
            remove_headers: Vec::new(),
            public_urls: PublicUrls::default(),
            tls: None,
            path: PathBuf::from("gateway.yaml"),
            base_dir: PathBuf::from("."),
            origin_timeouts: crate::OriginTimeouts::default(),
            shutdown: crate::ShutdownSettings::default(),
            log: crate::log::LogSettings::default(),
            state_dir: PathBuf::from("."),
        }
    }
}

// Hand-written so that a password inside the database URL never reaches a log.
impl fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("listen", &self.listen)
            .field("hosts", &self.hosts)
            .field("origin", &self.origin)
            .field("origin_tls", &self.origin_tls)
            .field("database", &self.database_redacted())
            .field("database_allow_plain_text", &self.database_allow_plain_text)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("carrier", &self.carrier)
            .field("session", &self.session)
            .field("login", &self.login)
            .field("links", &self.links)
            .field("mail", &self.mail)
            .field("sms", &self.sms)
            .field("metrics", &self.metrics)
            .field("policy_file", &self.policy_file)
            .field("policy_file_explicit", &self.policy_file_explicit)
            .field("ui", &self.ui)
            .field("threads", &self.threads)
            .field("secrets", &self.secrets)
            .field("tenant_networks", &self.tenant_networks)
            .field("connections", &self.connections)
            .field("remove_headers", &self.remove_headers)
            .field("public_urls", &self.public_urls)
            .field("tls", &self.tls)
            .field("path", &self.path)
            .field("base_dir", &self.base_dir)
            .field("origin_timeouts", &self.origin_timeouts)
            .field("shutdown", &self.shutdown)
            .field("log", &self.log)
            .field("state_dir", &self.state_dir)
            .finish()
    }
}

/// The two hostnames, lower-case, without a trailing dot or a port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hosts {
    /// Ordinary access: internet or registered networks.
    #[serde(deserialize_with = "names::hostname")]
    pub ordinary: String,
    /// Line authentication: requests arrive through the carrier with a line id.
    #[serde(deserialize_with = "names::hostname")]
    pub line_auth: String,
}

impl Default for Hosts {
    fn default() -> Self {
        Hosts { ordinary: "storage.localhost".to_owned(), line_auth: "line.storage.localhost".to_owned() }
    }
}

/// The carrier that asserts line ids.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Carrier {
    /// Only peers in these networks may assert a line id.
    #[serde(deserialize_with = "net::nets")]
    pub trusted_networks: Vec<IpNet>,
    /// The header carrying the line id.
    #[serde(deserialize_with = "names::header_name")]
    pub line_header: String,
    /// The header carrying the line's region; `None` when the carrier sends none.
    #[serde(deserialize_with = "names::optional_header_name")]
    pub region_header: Option<String>,
    /// Regions whose lines need the user's consent.
    pub consent_regions: Vec<String>,
}

impl Default for Carrier {
    fn default() -> Self {
        Carrier {
            trusted_networks: Vec::new(),
            line_header: "X-Line-Id".to_owned(),
            region_header: Some("X-Line-Region".to_owned()),
            consent_regions: vec!["west".to_owned()],
        }
    }
}

/// Session cookie, lifetimes and the session cache.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// The cookie's name.
    #[serde(deserialize_with = "names::cookie_name")]
    pub cookie_name: String,
    /// Mark cookies `Secure`; off only for plain-HTTP development.
    pub secure_cookies: bool,
    /// Absolute lifetime of a session.
    #[serde(deserialize_with = "duration::deserialize")]
    pub lifetime: Duration,
    /// A session unused this long ends.
    #[serde(deserialize_with = "duration::deserialize")]
    pub idle_timeout: Duration,
    /// Sessions kept in memory.
    pub cache_capacity: u64,
    /// How long a cached session is trusted before the database is asked again.
    #[serde(deserialize_with = "duration::deserialize")]
    pub cache_ttl: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            cookie_name: "gw_session".to_owned(),
            secure_cookies: true,
            lifetime: Duration::from_secs(12 * 3600),
            idle_timeout: Duration::from_secs(2 * 3600),
            cache_capacity: 100_000,
            cache_ttl: Duration::from_secs(30),
        }
    }
}

/// Limits on the login endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginSettings {
    /// Largest accepted form body.
    pub max_body_bytes: usize,
    /// Password hashes computed at once (each is memory-hard).
    #[serde(deserialize_with = "at_least_one")]
    pub hash_concurrency: usize,
    /// Login attempts per source address per minute.
    pub throttle_per_minute: u32,
    /// Consecutive wrong second-factor codes (SMS, authenticator, recovery,
    /// break-glass), across logins, that lock the user's second factor.
    #[serde(deserialize_with = "at_least_one_u32")]
    pub second_factor_lock_after: u32,
    /// The sign-in buttons below the password form, in this order.
    pub providers: Vec<crate::providers::LoginProvider>,
    /// Lets a tenant's directory be on a loopback address over plain http.
    /// For tests only: what an owner types is otherwise kept off loopback,
    /// private and link-local addresses.
    pub directories_on_loopback: bool,
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            max_body_bytes: 16 * 1024,
            hash_concurrency: 2,
            throttle_per_minute: 30,
            second_factor_lock_after: 10,
            providers: Vec::new(),
            directories_on_loopback: false,
        }
    }
}

fn at_least_one_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = crate::scalar::parse_u64(d, "a whole number of at least 1", |n| match n {
        0 => Err("must be at least 1".to_owned()),
        n if n > u64::from(u32::MAX) => Err("this number is too large".to_owned()),
        n => Ok(n),
    })?;
    u32::try_from(n).map_err(|_| serde::de::Error::custom("this number is too large"))
}

fn at_least_one<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = crate::scalar::parse_u64(d, "a whole number of at least 1", |n| {
        if n == 0 { Err("must be at least 1".to_owned()) } else { Ok(n) }
    })?;
    usize::try_from(n).map_err(|_| serde::de::Error::custom("this number is too large"))
}

/// Emailed links.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkSettings {
    /// How long a link works.
    #[serde(deserialize_with = "duration::deserialize")]
    pub validity: Duration,
}

impl Default for LinkSettings {
    fn default() -> Self {
        LinkSettings { validity: Duration::from_secs(14 * 86_400) }
    }
}

/// How mail leaves the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// One `.eml` file per message in `mail.dir` (development).
    #[default]
    File,
    /// An SMTP relay (the `mail.smtp` block).
    Smtp,
}

/// Mail settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// File or SMTP.
    pub transport: MailTransport,
    /// Where the file transport writes; resolved against `state_dir`.
    pub dir: PathBuf,
    /// The sender address.
    #[serde(deserialize_with = "names::non_empty")]
    pub from: String,
    /// The relay; required when `transport` is `smtp`.
    pub smtp: Option<SmtpSettings>,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            transport: MailTransport::File,
            dir: PathBuf::from("data/mail"),
            from: "noreply@example.net".to_owned(),
            smtp: None,
        }
    }
}

/// Connection security towards the SMTP relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a relay on localhost only).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// An SMTP relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The relay's hostname.
    #[serde(deserialize_with = "names::non_empty")]
    pub host: String,
    /// The relay's port.
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// Connection security.
    #[serde(default)]
    pub tls: SmtpTls,
    /// Login name, if the relay wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Login password.
    #[serde(default)]
    pub password: Option<Secret>,
    /// Trust only the authorities in this PEM file for the relay's certificate
    /// (a private CA); without it, the public roots compiled into the gateway.
    #[serde(default)]
    pub ca_file: Option<CaFile>,
}

fn default_smtp_port() -> u16 {
    587
}

/// How SMS leave the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransport {
    /// One JSON file per message in `sms.dir` (development).
    #[default]
    File,
    /// An HTTP POST per message (the `sms.webhook` block).
    Webhook,
}

/// SMS settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// File or webhook.
    pub transport: SmsTransport,
    /// Where the file transport writes; resolved against `state_dir`.
    pub dir: PathBuf,
    /// The webhook; required when `transport` is `webhook`.
    pub webhook: Option<WebhookSettings>,
    /// Country calling codes SMS may be sent to, digits only (`"81"`, Japan, by
    /// default); a number elsewhere is refused before anything is sent (toll fraud).
    #[serde(deserialize_with = "country_codes")]
    pub allowed_country_codes: Vec<String>,
    /// SMS one tenant may send per UTC day, all its users together; 0: no limit.
    pub daily_budget_per_tenant: u32,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            transport: SmsTransport::File,
            dir: PathBuf::from("data/sms"),
            webhook: None,
            allowed_country_codes: vec!["81".to_owned()],
            daily_budget_per_tenant: 50,
        }
    }
}

/// One E.164 country calling code: 1 to 3 digits, not starting with 0; a
/// leading `+` is accepted and dropped.
struct CountryCode(String);

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::scalar::parse_str(d, "a country calling code such as \"81\"", |s| {
            let digits = s.trim().strip_prefix('+').unwrap_or(s.trim());
            let ok = (1..=3).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0');
            if ok {
                Ok(CountryCode(digits.to_owned()))
            } else {
                Err(format!("{s:?} is not a country calling code: write 1 to 3 digits, e.g. \"81\" for Japan"))
            }
        })
    }
}

fn country_codes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let codes = Vec::<CountryCode>::deserialize(d)?;
    if codes.is_empty() {
        return Err(serde::de::Error::custom(
            "sms.allowed_country_codes is empty: list at least one code (e.g. \"81\"), or SMS could go nowhere",
        ));
    }
    Ok(codes.into_iter().map(|c| c.0).collect())
}

/// An SMS gateway reached by HTTP POST.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Where to POST.
    #[serde(deserialize_with = "names::http_url")]
    pub url: String,
    /// Extra headers, typically an API key; values are secrets.
    #[serde(default, deserialize_with = "webhook_headers")]
    pub headers: BTreeMap<String, Secret>,
    /// The request body; `{to}` and `{body}` are replaced (JSON-escaped).
    #[serde(default = "default_body_template")]
    pub body_template: String,
    /// For an `https://` URL: trust only the authorities in this PEM file (a
    /// private CA); without it, the public roots compiled into the gateway.
    #[serde(default)]
    pub ca_file: Option<CaFile>,
}

fn default_body_template() -> String {
    r#"{"to":"{to}","body":"{body}"}"#.to_owned()
}

fn webhook_headers<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Secret>, D::Error> {
    d.deserialize_map(HeadersVisitor)
}

// A visitor rather than `BTreeMap<HeaderKey, _>` so that each name is checked
// where it is written and a header given twice is refused, not overwritten.
struct HeadersVisitor;

impl<'de> serde::de::Visitor<'de> for HeadersVisitor {
    type Value = BTreeMap<String, Secret>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping of header names to values")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(HeaderKey(name)) = map.next_key()? {
            let value: Secret = map.next_value()?;
            if out.keys().any(|k: &String| k.eq_ignore_ascii_case(&name)) {
                return Err(serde::de::Error::custom(format!("header {name:?} is given twice")));
            }
            out.insert(name, value);
        }
        Ok(out)
    }
}

/// The metrics listener's default port. The exporters' range 9100-9999 is fully
/// handed out on Prometheus's port allocation list (9100 is node_exporter's,
/// usually running on the same machine); 9079 lies outside it and outside the
/// 9090s of Prometheus's own components.
pub const DEFAULT_METRICS_PORT: u16 = 9079;

/// The Prometheus listener.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Where `/metrics`, `/healthz` and `/readyz` are served; `None` (`off`) disables.
    #[serde(deserialize_with = "net::optional_listener")]
    pub listen: Option<SocketAddr>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings { listen: Some(local(DEFAULT_METRICS_PORT)) }
    }
}

/// Text on the gateway's own pages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiSettings {
    /// The product name in titles and emails.
    #[serde(deserialize_with = "names::non_empty")]
    pub product_name: String,
    /// The language of pages when the browser states no preference we offer,
    /// and of mails the command line sends. Japanese: the service's users.
    pub default_language: Language,
}

/// The languages of the gateway's pages and mails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Ja,
    En,
}

impl Default for UiSettings {
    fn default() -> Self {
        UiSettings { product_name: "Storage".to_owned(), default_language: Language::Ja }
    }
}

/// Keys the gateway itself uses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretSettings {
    /// Encrypts stored TOTP secrets.
    pub totp_key: Option<Secret>,
}

/// How wide a tenant's registered source network may be (SPEC section 11):
/// every address in it counts as on a registered line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantNetworkSettings {
    /// The shortest IPv4 prefix a tenant may register: /16 by default.
    #[serde(deserialize_with = "ipv4_prefix")]
    pub widest_ipv4_prefix: u8,
    /// The shortest IPv6 prefix a tenant may register: /32 by default.
    #[serde(deserialize_with = "ipv6_prefix")]
    pub widest_ipv6_prefix: u8,
}

impl Default for TenantNetworkSettings {
    fn default() -> Self {
        let limits = policy::NetworkLimits::default();
        TenantNetworkSettings {
            widest_ipv4_prefix: limits.widest_ipv4_prefix,
            widest_ipv6_prefix: limits.widest_ipv6_prefix,
        }
    }
}

/// Deadlines and caps on client connections (SPEC section 11): a slow or idle
/// client cannot hold a connection, and one address cannot hold many.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// The whole request header must arrive within this time of its first byte
    /// (of the connection's opening, for the first request).
    #[serde(deserialize_with = "duration::deserialize")]
    pub header_timeout: Duration,
    /// A keep-alive connection with no request under way is closed after this.
    #[serde(deserialize_with = "duration::deserialize")]
    pub idle_timeout: Duration,
    /// Open connections per client address (an IPv6 client is its /64); 0: no cap.
    pub max_per_address: u32,
    /// The same for peers in `trusted_proxies` or `carrier.trusted_networks`,
    /// which carry many people's connections; 0: no cap.
    pub max_per_trusted_address: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_per_address: 256,
            max_per_trusted_address: 0,
        }
    }
}

impl TenantNetworkSettings {
    /// The limits every door (UI, CLI, policy file, snapshot) checks against.
    pub fn limits(&self) -> policy::NetworkLimits {
        policy::NetworkLimits {
            widest_ipv4_prefix: self.widest_ipv4_prefix,
            widest_ipv6_prefix: self.widest_ipv6_prefix,
        }
    }
}

fn prefix_between<'de, D: Deserializer<'de>>(d: D, max: u64) -> Result<u8, D::Error> {
    // /0 is everything; refused whatever the limit says.
    let n = crate::scalar::parse_u64(d, "a prefix length", |n| {
        if (1..=max).contains(&n) { Ok(n) } else { Err(format!("must be a prefix length from 1 to {max}")) }
    })?;
    u8::try_from(n).map_err(|_| serde::de::Error::custom("this number is too large"))
}

fn ipv4_prefix<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    prefix_between(d, 32)
}

fn ipv6_prefix<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    prefix_between(d, 128)
}

/// The public base URLs (`scheme://host[:port]`, nothing after), as written;
/// [`GatewayConfig::public_url`] gives the one to use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublicUrls {
    /// How the public reaches the ordinary hostname, e.g. `https://storage.example.net`.
    #[serde(deserialize_with = "names::optional_base_url")]
    pub ordinary: Option<String>,
    /// How the carrier's users reach the line-auth hostname.
    #[serde(deserialize_with = "names::optional_base_url")]
    pub line_auth: Option<String>,
}

impl GatewayConfig {
    /// The base URL of emailed links and other absolute URLs for a hostname:
    /// `public_urls`, else derived from `hosts` (https on the `tls` listener's
    /// port, unless 443; else https without a port when cookies are `Secure`,
    /// as TLS is then in front on 443; plain http on the listener's port
    /// otherwise, for development). Never the request's `Host`.
    pub fn public_url(&self, line_auth: bool) -> String {
        let (written, host) = if line_auth {
            (&self.public_urls.line_auth, &self.hosts.line_auth)
        } else {
            (&self.public_urls.ordinary, &self.hosts.ordinary)
        };
        let tls_port = self.tls.as_ref().map(|t| t.listen.port());
        match (written, tls_port) {
            (Some(url), _) => url.clone(),
            (None, Some(443)) => format!("https://{host}"),
            (None, Some(port)) => format!("https://{host}:{port}"),
            (None, None) if self.session.secure_cookies => format!("https://{host}"),
            (None, None) => format!("http://{host}:{}", self.listen.port()),
        }
    }

    /// `public_urls` entries left to their derived default, for a warning.
    pub fn public_urls_missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.public_urls.ordinary.is_none() {
            out.push("public_urls.ordinary");
        }
        if self.public_urls.line_auth.is_none() {
            out.push("public_urls.line_auth");
        }
        out
    }
}
