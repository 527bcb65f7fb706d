//! What the gateway needs to open TLS towards the servers it talks to: a CA file
//! (private authorities), and the origin's TLS settings.
//!
//! A CA file is read and checked when the configuration is loaded, so that a
//! wrong path or a file without a certificate is reported at its own line and
//! column, not at the first connection.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Deserializer};

use crate::scalar::parse_str;
use crate::{context, names};

/// A whole public trust bundle is about 200 KiB; the cap keeps a mistaken path
/// (`/dev/zero`, a disk image) from stalling the load.
const MAX_CA_FILE_BYTES: u64 = 4 << 20;

/// The certificates of a PEM file of certificate authorities.
#[derive(Clone, PartialEq, Eq)]
pub struct CaFile {
    /// The file, resolved against the configuration's directory.
    pub path: PathBuf,
    /// Each `CERTIFICATE` block, DER-encoded, in file order.
    pub certs: Vec<Vec<u8>>,
}

impl fmt::Debug for CaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaFile({}, {} certificate(s))", self.path.display(), self.certs.len())
    }
}

impl CaFile {
    /// Reads `path` and keeps its certificates; other PEM blocks are ignored,
    /// and a file with none is refused (it would trust nobody, silently).
    pub fn read(path: &Path) -> Result<CaFile, String> {
        use std::io::Read;
        let cannot = |e: std::io::Error| format!("cannot read the CA file {}: {e}", path.display());
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(cannot)?;
        if bytes.len() as u64 > MAX_CA_FILE_BYTES {
            return Err(format!(
                "the CA file {} is larger than {} MiB; is it the right file?",
                path.display(),
                MAX_CA_FILE_BYTES >> 20
            ));
        }
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .map(|c| c.map(|c| c.as_ref().to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("the CA file {} is not valid PEM: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "the CA file {} holds no certificate (expected PEM blocks \"-----BEGIN CERTIFICATE-----\")",
                path.display()
            ));
        }
        Ok(CaFile { path: path.to_path_buf(), certs })
    }
}

impl<'de> Deserialize<'de> for CaFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, "the path of a PEM file of CA certificates", |s| {
            if s.trim().is_empty() {
                return Err("the CA file path is empty".to_owned());
            }
            CaFile::read(&context::resolve(Path::new(s.trim())))
        })
    }
}

/// How the gateway talks TLS to an `https://` origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginTls {
    /// The name sent as SNI and checked against the origin's certificate:
    /// `origin_tls.sni`, else the host of the `origin` URL.
    pub sni: String,
    /// Trust only these authorities; `None`: the system's trust store.
    pub ca: Option<CaFile>,
    /// Check the certificate; `false` only where the link is otherwise
    /// protected, and warned about at start-up.
    pub verify: bool,
}

/// The `origin_tls` block as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OriginTlsFile {
    #[serde(default)]
    pub(crate) ca_file: Option<CaFile>,
    #[serde(default, deserialize_with = "optional_sni")]
    pub(crate) sni: Option<String>,
    #[serde(default = "yes")]
    pub(crate) verify: bool,
}

fn yes() -> bool {
    true
}

fn optional_sni<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Sni(String);
    impl<'de> Deserialize<'de> for Sni {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            names::hostname(d).map(Sni)
        }
    }
    Ok(Option::<Sni>::deserialize(d)?.map(|s| s.0))
}

/// The `origin` value: where to connect, and for `https://`, the host name the
/// certificate is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OriginAddr {
    pub(crate) addr: SocketAddr,
    pub(crate) https_host: Option<String>,
}

pub(crate) fn origin<'de, D: Deserializer<'de>>(d: D) -> Result<OriginAddr, D::Error> {
    parse_str(d, "ip:port, name:port, http://host[:port] or https://host[:port]", parse_origin)
}

/// `ip:port` and `name:port` are plain HTTP, as before URLs were accepted;
/// `http://` and `https://` take a default port. A name is resolved once, at load.
pub(crate) fn parse_origin(s: &str) -> Result<OriginAddr, String> {
    let t = s.trim();
    let (https, rest) = if let Some(r) = t.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = t.strip_prefix("http://") {
        (false, r)
    } else if t.contains("://") {
        return Err(format!("{s:?}: the origin is reached over http:// or https:// only"));
    } else {
        return crate::net::resolve_addr(t).map(|addr| OriginAddr { addr, https_host: None });
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) || authority.contains(char::is_whitespace) {
        return Err(format!("{s:?}: give the origin as scheme://host[:port], without a path, query or user"));
    }
    let default_port = if https { 443 } else { 80 };
    let (host, port) = split_host_port(authority, default_port).map_err(|e| format!("{s:?}: {e}"))?;
    let (addr, name) = if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        (SocketAddr::new(ip, port), ip.to_string())
    } else {
        let name = names::normalize_hostname(host).map_err(|e| format!("{s:?}: {e}"))?;
        let addr = (name.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {name:?}: {e}"))?
            .next()
            .ok_or_else(|| format!("{name:?} resolves to no address"))?;
        (addr, name)
    };
    Ok(OriginAddr { addr, https_host: https.then_some(name) })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; the host without brackets.
fn split_host_port(authority: &str, default_port: u16) -> Result<(&str, u16), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("an IPv6 address is missing its ']'")?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or("expected ':' and a port after ']'")?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => default_port,
        Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0).ok_or(format!("{p:?} is not a port"))?,
    };
    if host.is_empty() {
        return Err("the host is empty".to_owned());
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_forms() {
        let plain = parse_origin("127.0.0.1:9000").unwrap();
        assert_eq!((plain.addr.port(), plain.https_host), (9000, None));
        let http = parse_origin("http://127.0.0.1").unwrap();
        assert_eq!((http.addr.port(), http.https_host), (80, None));
        let https = parse_origin("https://LocalHost.:8443/").unwrap();
        assert_eq!((https.addr.port(), https.https_host.as_deref()), (8443, Some("localhost")));
        assert!(https.addr.ip().is_loopback());
        let v6 = parse_origin("https://[::1]").unwrap();
        assert_eq!((v6.addr.port(), v6.https_host.as_deref()), (443, Some("::1")));
    }

    #[test]
    fn origin_refusals() {
        for bad in ["ftp://h:1", "https://", "https://h/path", "https://u@h", "https://h:0", "https://h:x", "h"] {
            assert!(parse_origin(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn ca_file_needs_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").unwrap();
        assert!(CaFile::read(&empty).unwrap_err().contains("holds no certificate"));
        assert!(CaFile::read(&dir.path().join("missing.pem")).unwrap_err().contains("cannot read"));
        assert!(CaFile::read(Path::new("/dev/zero")).unwrap_err().contains("larger than 4 MiB"));
    }
}
