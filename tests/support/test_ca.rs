//! A throwaway certificate authority made by the test, and server certificates
//! it signs, written as PEM files into a temporary folder.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A CA: its certificate (PEM, also as `ca.pem` in the folder) and its key.
pub struct TestCa {
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
    dir: tempfile::TempDir,
}

/// A server certificate and its key, as PEM text and as files.
pub struct ServerCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("self-signed CA certificate");
        let dir = tempfile::tempdir().expect("temporary folder");
        let cert_pem = cert.pem();
        std::fs::write(dir.path().join("ca.pem"), &cert_pem).expect("write ca.pem");
        TestCa { cert_pem, issuer: Issuer::new(params, key), dir }
    }

    /// The CA certificate's file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A folder that lives as long as the CA, for the tests' other files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A server certificate for `names` (host names or IP addresses), written
    /// as `<file_stem>.crt` and `<file_stem>.key`.
    pub fn server_cert(&self, names: &[&str], file_stem: &str) -> ServerCert {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("parameters");
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("server"));
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &self.issuer).expect("server certificate");
        let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
        let cert_file = self.dir.path().join(format!("{file_stem}.crt"));
        let key_file = self.dir.path().join(format!("{file_stem}.key"));
        std::fs::write(&cert_file, &cert_pem).expect("write certificate");
        std::fs::write(&key_file, &key_pem).expect("write key");
        ServerCert { cert_pem, key_pem, cert_file, key_file }
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
