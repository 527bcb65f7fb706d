//! Reading `gateway.yaml` into a [`GatewayConfig`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

use crate::error::ConfigError;
use crate::gateway::{
    Carrier, ConnectionLimits, GatewayConfig, Hosts, LinkSettings, LoginSettings, MailSettings, MailTransport,
    MetricsSettings, PublicUrls, SecretSettings, SessionSettings, SmsSettings, SmsTransport, TenantNetworkSettings,
    UiSettings,
};
use crate::locate::{locate, locate_item};
use crate::tls_client::{OriginAddr, OriginTls, OriginTlsFile};
use crate::{context, database, names, net, state_dir, tls_client, yaml};

/// Reads and validates a gateway configuration file.
pub fn load_gateway(path: &Path) -> Result<GatewayConfig, ConfigError> {
    let text = read_text(path)?;
    parse_gateway(&text, path)
}

/// Validates gateway configuration `text`; `path` is named in errors and its
/// directory is the base for relative paths.
pub fn parse_gateway(text: &str, path: &Path) -> Result<GatewayConfig, ConfigError> {
    parse_gateway_with_env(text, path, std::env::var_os("STATE_DIRECTORY").as_deref())
}

/// [`parse_gateway`] with the value of `$STATE_DIRECTORY` given rather than read
/// from the process (tests cannot set variables safely while others run).
pub fn parse_gateway_with_env(
    text: &str,
    path: &Path,
    state_directory: Option<&std::ffi::OsStr>,
) -> Result<GatewayConfig, ConfigError> {
    let base_dir = base_dir_of(path);
    let state_dir = state_dir::resolve(text, path, &base_dir, state_directory)?;
    let file: GatewayFile = context::scoped(&base_dir, false, || {
        context::set_state_dir(&state_dir);
        yaml::from_str(text, path)
    })?;
    if file.origin_tls.is_some() && file.origin.https_host.is_none() {
        return Err(ConfigError::at(
            path,
            locate(text, &["origin_tls"]),
            "origin_tls is set but origin is not an https:// URL; write origin: https://HOST[:PORT]".to_owned(),
        ));
    }
    let config = file.into_config(path, base_dir, state_dir);
    check(&config, text)?;
    Ok(config)
}

pub(crate) fn read_text(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::new(path, format!("cannot read the file: {e}")))
}

/// The file's directory, absolute when the working directory is known, so that
/// resolved paths survive a later change of directory.
pub(crate) fn base_dir_of(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::path::absolute(&dir).unwrap_or(dir)
}

/// The file as written; differs from [`GatewayConfig`] only in what cannot be
/// known from a single value (where it came from, whether a key was present).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayFile {
    #[serde(default = "default_listen", deserialize_with = "net::socket_addr")]
    listen: SocketAddr,
    #[serde(default)]
    hosts: Hosts,
    #[serde(default = "default_origin", deserialize_with = "tls_client::origin")]
    origin: OriginAddr,
    #[serde(default)]
    origin_tls: Option<OriginTlsFile>,
    #[serde(default = "default_database", deserialize_with = "database::deserialize")]
    database: String,
    #[serde(default)]
    database_allow_plain_text: bool,
    #[serde(default, deserialize_with = "net::nets")]
    trusted_proxies: Vec<IpNet>,
    #[serde(default)]
    carrier: Carrier,
    #[serde(default)]
    session: SessionSettings,
    #[serde(default)]
    login: LoginSettings,
    #[serde(default)]
    links: LinkSettings,
    #[serde(default)]
    mail: MailSettings,
    #[serde(default)]
    sms: SmsSettings,
    #[serde(default)]
    metrics: MetricsSettings,
    #[serde(default, deserialize_with = "present")]
    policy_file: Option<Option<PathBuf>>,
    #[serde(default)]
    ui: UiSettings,
    #[serde(default)]
    threads: usize,
    #[serde(default)]
    secrets: SecretSettings,
    #[serde(default)]
    tenant_networks: TenantNetworkSettings,
    #[serde(default)]
    connections: ConnectionLimits,
    #[serde(default, deserialize_with = "names::header_names")]
    remove_headers: Vec<String>,
    #[serde(default)]
    public_urls: PublicUrls,
    #[serde(default)]
    tls: Option<crate::tls::TlsConfig>,
    #[serde(default)]
    origin_timeouts: crate::OriginTimeouts,
    #[serde(default)]
    shutdown: crate::ShutdownSettings,
    #[serde(default)]
    log: crate::log::LogSettings,
    /// Already read by [`state_dir::resolve`]; declared so the key is known.
    #[serde(default, deserialize_with = "state_dir::written", rename = "state_dir")]
    _state_dir: Option<PathBuf>,
}

fn default_listen() -> SocketAddr {
    GatewayConfig::default().listen
}

fn default_origin() -> OriginAddr {
    OriginAddr { addr: GatewayConfig::default().origin, https_host: None }
}

// The default is resolved like a written value, so it depends on the state folder.
fn default_database() -> String {
    let written = GatewayConfig::default().database;
    database::normalize_database_url(&written, &context::state_dir()).unwrap_or(written)
}

/// Tells "written as null" (`Some(None)`) from "not written" (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<PathBuf>>, D::Error> {
    Option::<PathBuf>::deserialize(d).map(Some)
}

impl GatewayFile {
    fn into_config(self, path: &Path, base_dir: PathBuf, state_dir: PathBuf) -> GatewayConfig {
        let resolve = |p: &Path| {
            if p.is_absolute() { p.to_path_buf() } else { base_dir.join(p) }
        };
        let in_state = |p: &Path| {
            if p.is_absolute() { p.to_path_buf() } else { state_dir.join(p) }
        };
        let mut mail = self.mail;
        mail.dir = in_state(&mail.dir);
        let mut sms = self.sms;
        sms.dir = in_state(&sms.dir);
        let policy_file_explicit = self.policy_file.is_some();
        let policy_file = match self.policy_file {
            Some(written) => written,
            None => GatewayConfig::default().policy_file,
        }
        .map(|p| resolve(&p));
        let tls = self.tls.map(|mut tls| {
            for c in &mut tls.certificates {
                c.cert = resolve(&c.cert);
                c.key = resolve(&c.key);
            }
            tls
        });
        GatewayConfig {
            listen: self.listen,
            hosts: self.hosts,
            origin: self.origin.addr,
            origin_tls: self.origin.https_host.map(|host| {
                let written = self.origin_tls.unwrap_or(OriginTlsFile { ca_file: None, sni: None, verify: true });
                OriginTls { sni: written.sni.unwrap_or(host), ca: written.ca_file, verify: written.verify }
            }),
            database: self.database,
            database_allow_plain_text: self.database_allow_plain_text,
            trusted_proxies: self.trusted_proxies,
            carrier: self.carrier,
            session: self.session,
            login: self.login,
            links: self.links,
            mail,
            sms,
            metrics: self.metrics,
            policy_file,
            policy_file_explicit,
            ui: self.ui,
            threads: self.threads,
            secrets: self.secrets,
            tenant_networks: self.tenant_networks,
            connections: self.connections,
            remove_headers: self.remove_headers,
            public_urls: self.public_urls,
            tls,
            path: path.to_path_buf(),
            origin_timeouts: self.origin_timeouts,
            shutdown: crate::ShutdownSettings {
                upgrade_socket: self.shutdown.upgrade_socket.as_deref().map(resolve),
                ..self.shutdown
            },
            log: crate::log::LogSettings {
                access: match self.log.access {
                    crate::log::AccessLog::File(p) => crate::log::AccessLog::File(resolve(&p)),
                    other => other,
                },
                ..self.log
            },
            base_dir,
            state_dir,
        }
    }
}

/// Checks that involve more than one value; they are placed by key.
fn check(config: &GatewayConfig, text: &str) -> Result<(), ConfigError> {
    let at = |keys: &[&str], message: String| ConfigError::at(&config.path, locate(text, keys), message);
    if config.hosts.ordinary == config.hosts.line_auth {
        return Err(at(
            &["hosts", "line_auth"],
            format!(
                "hosts.line_auth is the same as hosts.ordinary ({:?}); the two hostnames must differ",
                config.hosts.line_auth
            ),
        ));
    }
    if database::is_postgres(&config.database) && config.secrets.totp_key.is_none() {
        // Each instance would otherwise make its own key, and an authenticator
        // enrolled through one would fail through every other.
        return Err(at(
            &["database"],
            "secrets.totp_key must be set when the database is PostgreSQL: every instance must encrypt \
             authenticator secrets with the same key (32 random bytes as base64, e.g. from `openssl rand -base64 32`)"
                .to_owned(),
        ));
    }
    if config.mail.transport == MailTransport::Smtp && config.mail.smtp.is_none() {
        return Err(at(
            &["mail", "transport"],
            "mail.transport is smtp but there is no mail.smtp block (host, port, tls, username, password)".to_owned(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let entry = |index: usize, message: String| {
        ConfigError::at(&config.path, locate_item(text, &["login", "providers"], index), message)
    };
    for (index, p) in config.login.providers.iter().enumerate() {
        if !seen.insert(p.id.as_str()) {
            return Err(entry(index, format!("login.providers: the id {:?} is used twice; ids must differ", p.id)));
        }
        if let Some(missing) = p.missing() {
            let kind = match p.kind {
                crate::ProviderKind::Oidc => "oidc",
                crate::ProviderKind::Oauth2 => "oauth2",
            };
            return Err(entry(index, format!("login.providers: {:?} (kind {kind}) needs {missing}", p.id)));
        }
    }
    if let Some(smtp) = &config.mail.smtp
        && smtp.ca_file.is_some()
        && smtp.tls == crate::SmtpTls::None
    {
        return Err(at(
            &["mail", "smtp", "ca_file"],
            "mail.smtp.ca_file is set but mail.smtp.tls is none: the CA file would never be used".to_owned(),
        ));
    }
    if let Some(hook) = &config.sms.webhook
        && hook.ca_file.is_some()
        && !hook.url.starts_with("https://")
    {
        return Err(at(
            &["sms", "webhook", "ca_file"],
            "sms.webhook.ca_file is set but sms.webhook.url is not https://: the CA file would never be used"
                .to_owned(),
        ));
    }
    if config.sms.transport == SmsTransport::Webhook && config.sms.webhook.is_none() {
        return Err(at(
            &["sms", "transport"],
            "sms.transport is webhook but there is no sms.webhook block (url, headers, body_template)".to_owned(),
        ));
    }
    if let Some(tls) = &config.tls {
        crate::tls_check::check(config, tls, text)?;
    }
    Ok(())
}
