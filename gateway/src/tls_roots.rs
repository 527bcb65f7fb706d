//! A rustls trust store from a configured CA file (`sms.webhook.ca_file`);
//! the store trusts that file's authorities and nothing else.

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

/// Every certificate of the file must be usable: one that rustls refuses is an
/// error at start-up, not a silently smaller trust store.
pub fn from_ca_file(ca: &config::CaFile) -> Result<RootCertStore, rustls::Error> {
    let mut roots = RootCertStore::empty();
    for der in &ca.certs {
        roots.add(CertificateDer::from(der.clone()))?;
    }
    Ok(roots)
}
