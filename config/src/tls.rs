//! The `tls:` block of gateway.yaml: the TLS listener, one certificate per
//! hostname (chosen by SNI), HSTS. Certificate files are read and checked here,
//! both at load and by the gateway at every reload, so that a bad file is
//! refused for the same reasons both times.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Deserializer};

use crate::scalar::parse_str;
use crate::{duration, names, net};

/// TLS termination on the gateway's own listener.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The TLS listener; the plain `listen` keeps serving beside it.
    #[serde(deserialize_with = "net::socket_addr")]
    pub listen: SocketAddr,
    /// The certificates, each with the names it is presented for.
    pub certificates: Vec<CertificateFiles>,
    /// `Strict-Transport-Security: max-age` in seconds; 0 sends no HSTS.
    #[serde(default = "default_hsts_max_age")]
    pub hsts_max_age: u64,
    /// Adds `includeSubDomains`: off by default, as the gateway cannot know
    /// that every name under its hostnames is served over TLS.
    #[serde(default)]
    pub hsts_include_subdomains: bool,
    /// A TLS handshake must finish within this time of the connection's
    /// opening, or the connection is closed.
    #[serde(default = "default_handshake_timeout", deserialize_with = "duration::deserialize")]
    pub handshake_timeout: Duration,
}

fn default_hsts_max_age() -> u64 {
    365 * 86_400
}

fn default_handshake_timeout() -> Duration {
    Duration::from_secs(10)
}

/// One certificate chain and its key, as files; paths are resolved against
/// the configuration's directory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateFiles {
    /// The names (SNI) this certificate is presented for: hostnames, or
    /// `*.example.net` for every name one label below `example.net`.
    #[serde(deserialize_with = "tls_hosts")]
    pub hosts: Vec<String>,
    /// The chain, leaf first, PEM.
    pub cert: PathBuf,
    /// The leaf's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

fn tls_hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Host(String);
    impl<'de> Deserialize<'de> for Host {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            parse_str(d, "a hostname or *.hostname", |s| match s.trim().strip_prefix("*.") {
                Some(rest) => names::normalize_hostname(rest).map(|h| Host(format!("*.{h}"))),
                None => names::normalize_hostname(s.trim()).map(Host),
            })
        }
    }
    Ok(Vec::<Host>::deserialize(d)?.into_iter().map(|h| h.0).collect())
}

/// Whether `pattern` (a name, or `*.` and a name) covers the lower-case `name`.
/// A wildcard stands for exactly one label, as in certificates.
pub fn host_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(parent) => {
            name.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(parent))
        }
        None => pattern.eq_ignore_ascii_case(name),
    }
}

impl TlsConfig {
    /// The certificate entry presented for `name` (any case): an exact name
    /// first, then a wildcard. `None`: no certificate covers it.
    pub fn entry_for(&self, name: &str) -> Option<usize> {
        let exact = self
            .certificates
            .iter()
            .position(|c| c.hosts.iter().any(|h| !h.starts_with("*.") && h.eq_ignore_ascii_case(name)));
        exact.or_else(|| {
            self.certificates.iter().position(|c| c.hosts.iter().any(|h| h.starts_with("*.") && host_matches(h, name)))
        })
    }

    /// The names certificate `index` must be valid for: its own exact names
    /// and those of `served` (the configured hostnames) it is presented for.
    pub fn names_to_check(&self, index: usize, served: &[&str]) -> Vec<String> {
        let Some(entry) = self.certificates.get(index) else { return Vec::new() };
        let mut out: Vec<String> = entry.hosts.iter().filter(|h| !h.starts_with("*.")).cloned().collect();
        for name in served {
            if self.entry_for(name) == Some(index) && !out.iter().any(|n| n == name) {
                out.push((*name).to_owned());
            }
        }
        out
    }

    /// The `Strict-Transport-Security` value; `None` when turned off.
    pub fn hsts_value(&self) -> Option<String> {
        match (self.hsts_max_age, self.hsts_include_subdomains) {
            (0, _) => None,
            (age, false) => Some(format!("max-age={age}")),
            (age, true) => Some(format!("max-age={age}; includeSubDomains")),
        }
    }
}

/// Why a certificate pair cannot be used, and which of its two files is to blame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CertificateError {
    /// `true` when the key file is at fault (unreadable, or not the certificate's key).
    pub in_key: bool,
    pub message: String,
}

impl CertificateError {
    fn cert(message: String) -> Self {
        CertificateError { in_key: false, message }
    }

    fn key(message: String) -> Self {
        CertificateError { in_key: true, message }
    }
}

/// Reads a certificate chain and its key and checks that they can serve:
/// the key is the leaf's, and the leaf is valid for every name in `names`.
pub fn load_certified_key(files: &CertificateFiles, names: &[String]) -> Result<Arc<CertifiedKey>, CertificateError> {
    let chain = read_chain(&files.cert).map_err(CertificateError::cert)?;
    let key = read_key(&files.key).map_err(CertificateError::key)?;
    let provider = rustls::crypto::ring::default_provider();
    let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => CertificateError::key(format!(
            "the key in {} is not the key of the certificate in {}",
            files.key.display(),
            files.cert.display()
        )),
        e => CertificateError::key(format!("the key in {} cannot be used: {e}", files.key.display())),
    })?;
    let leaf = certified.end_entity_cert().map_err(|e| CertificateError::cert(e.to_string()))?;
    let parsed = rustls::server::ParsedCertificate::try_from(leaf).map_err(|e| {
        CertificateError::cert(format!("{}: the certificate cannot be parsed: {e}", files.cert.display()))
    })?;
    for name in names {
        let server_name = ServerName::try_from(name.as_str())
            .map_err(|_| CertificateError::cert(format!("{name:?} is not a name a certificate can hold")))?;
        if rustls::client::verify_server_name(&parsed, &server_name).is_err() {
            return Err(CertificateError::cert(format!(
                "the certificate in {} is not valid for {name:?}: its subject alternative names do not include it",
                files.cert.display()
            )));
        }
    }
    Ok(Arc::new(certified))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the certificate file {}: {e}", path.display()))?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not a PEM certificate chain: {e}", path.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no CERTIFICATE block in the file", path.display()));
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| format!("{}: no usable PEM private key: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_is_one_label() {
        assert!(host_matches("*.example.net", "a.example.net"));
        assert!(host_matches("*.example.net", "A.Example.net"));
        assert!(!host_matches("*.example.net", "example.net"));
        assert!(!host_matches("*.example.net", "a.b.example.net"));
        assert!(!host_matches("*.example.net", ".example.net"));
        assert!(host_matches("storage.example.net", "storage.example.net"));
        assert!(!host_matches("storage.example.net", "xstorage.example.net"));
    }

    #[test]
    fn exact_names_win_over_wildcards() {
        let entry = |hosts: &[&str]| CertificateFiles {
            hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            cert: "c".into(),
            key: "k".into(),
        };
        let tls = TlsConfig {
            listen: "127.0.0.1:8443".parse().unwrap(),
            certificates: vec![entry(&["*.example.net"]), entry(&["line.example.net"])],
            hsts_max_age: 0,
            hsts_include_subdomains: false,
            handshake_timeout: Duration::from_secs(1),
        };
        assert_eq!(tls.entry_for("line.example.net"), Some(1));
        assert_eq!(tls.entry_for("LINE.example.net"), Some(1));
        assert_eq!(tls.entry_for("storage.example.net"), Some(0));
        assert_eq!(tls.entry_for("example.net"), None);
        assert_eq!(tls.names_to_check(0, &["storage.example.net", "line.example.net"]), vec!["storage.example.net"]);
        assert_eq!(tls.hsts_value(), None);
    }
}
