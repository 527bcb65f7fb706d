//! A throwaway certificate authority made by the test, and the certificates
//! it signs: TLS tests trust this CA alone. Shared by the gateway's tests (the
//! listener, the origin, PostgreSQL, SMTP, the SMS webhook) and config's.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A CA: its certificate (also written as `ca.pem` in its folder) and its key.
pub struct TestCa {
    pub cert_pem: String,
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: tempfile::TempDir,
}

/// A certificate it signed, and its key.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

/// A leaf written to the CA's folder.
pub struct ServerCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("self-signed CA certificate");
        let dir = tempfile::tempdir().expect("temporary folder");
        let cert_pem = issuer.pem();
        std::fs::write(dir.path().join("ca.pem"), &cert_pem).expect("write ca.pem");
        TestCa { cert_pem, issuer, dir }
    }

    pub fn pem(&self) -> String {
        self.cert_pem.clone()
    }

    pub fn der(&self) -> Vec<u8> {
        self.issuer.der().to_vec()
    }

    /// The CA certificate's file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A folder that lives as long as the CA, for the tests' other files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A certificate for `names` (host names or IP addresses), signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).expect("parameters");
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign leaf");
        Leaf { cert_pem: cert.pem(), key_pem: key.serialize_pem(), der: cert.der().to_vec() }
    }

    /// A leaf for `names`, written to this CA's folder as `<stem>.pem` and `<stem>.key`.
    pub fn server_cert(&self, names: &[&str], stem: &str) -> ServerCert {
        let leaf = self.leaf(names);
        let (cert_file, key_file) = leaf.write(self.dir.path(), stem);
        ServerCert { cert_pem: leaf.cert_pem, key_pem: leaf.key_pem, cert_file, key_file }
    }
}

impl Leaf {
    /// Writes `<stem>.pem` (the certificate) and `<stem>.key` into `dir`.
    pub fn write(&self, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        let (cert, key) = (dir.join(format!("{stem}.pem")), dir.join(format!("{stem}.key")));
        std::fs::write(&cert, &self.cert_pem).expect("write certificate");
        std::fs::write(&key, &self.key_pem).expect("write key");
        (cert, key)
    }
}

impl ServerCert {
    /// A rustls server configuration presenting this certificate (ring).
    pub fn rustls_server_config(&self) -> std::sync::Arc<rustls::ServerConfig> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("certificate PEM");
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).expect("key PEM");
        let config = rustls::ServerConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server certificate and key");
        std::sync::Arc::new(config)
    }
}
