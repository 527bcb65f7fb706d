//! The certificates in force, one per `tls.certificates` entry, behind an
//! `ArcSwap`: a handshake reads the current set without a lock, a reload swaps
//! in a new set and handshakes already under way keep the one they started with.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::metrics;

pub struct CertStore {
    tls: config::TlsConfig,
    /// The configured hostnames, which the certificates must stay valid for.
    served: [String; 2],
    current: ArcSwap<Vec<Arc<CertifiedKey>>>,
    /// What each entry's files held when last loaded (or last refused), so an
    /// event that changed nothing neither reloads nor counts.
    seen: Mutex<Vec<u64>>,
}

impl std::fmt::Debug for CertStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertStore").field("certificates", &self.tls.certificates).finish()
    }
}

/// What one reload did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reloaded {
    /// Entries whose new files are now in force.
    pub replaced: usize,
    /// Entries whose new files were refused; their previous certificate stays.
    pub refused: usize,
}

impl CertStore {
    /// Loads every certificate; any failure stops the start (config validation
    /// has already checked them, so this is a file changed in between).
    pub fn load(cfg: &config::GatewayConfig) -> anyhow::Result<Option<Arc<CertStore>>> {
        let Some(tls) = &cfg.tls else { return Ok(None) };
        let served = [cfg.hosts.ordinary.clone(), cfg.hosts.line_auth.clone()];
        let mut keys = Vec::new();
        let mut seen = Vec::new();
        for (index, entry) in tls.certificates.iter().enumerate() {
            let names = tls.names_to_check(index, &[&served[0], &served[1]]);
            seen.push(fingerprint(entry));
            keys.push(config::load_certified_key(entry, &names).map_err(|e| anyhow::anyhow!("tls: {e}"))?);
        }
        Ok(Some(Arc::new(CertStore {
            tls: tls.clone(),
            served,
            current: ArcSwap::from_pointee(keys),
            seen: Mutex::new(seen),
        })))
    }

    pub fn tls(&self) -> &config::TlsConfig {
        &self.tls
    }

    /// Reads every entry's files again. A changed entry that loads and checks
    /// is swapped in for new handshakes; one that does not keeps its previous
    /// certificate, is logged and counted.
    pub fn reload(&self) -> Reloaded {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<Arc<CertifiedKey>> = self.current.load().as_ref().clone();
        let mut done = Reloaded::default();
        for (index, entry) in self.tls.certificates.iter().enumerate() {
            let now = fingerprint(entry);
            if seen.get(index) == Some(&now) {
                continue;
            }
            if let Some(s) = seen.get_mut(index) {
                *s = now;
            }
            let names = self.tls.names_to_check(index, &[&self.served[0], &self.served[1]]);
            match config::load_certified_key(entry, &names) {
                Ok(key) => {
                    if let Some(slot) = keys.get_mut(index) {
                        *slot = key;
                    }
                    done.replaced += 1;
                    metrics::TLS_RELOADS.with_label_values(&["ok"]).inc();
                    metrics::tls_reloaded();
                    tracing::info!(cert = %entry.cert.display(), "certificate reloaded");
                }
                Err(e) => {
                    done.refused += 1;
                    metrics::TLS_RELOADS.with_label_values(&["error"]).inc();
                    tracing::error!(
                        cert = %entry.cert.display(),
                        "certificate refused, the previous one stays in force: {e}"
                    );
                }
            }
        }
        if done.replaced > 0 {
            self.current.store(Arc::new(keys));
        }
        done
    }
}

/// A hash of the entry's two files as they are now; an unreadable file hashes
/// its error, so that it is reported once and again when it changes.
fn fingerprint(entry: &config::CertificateFiles) -> u64 {
    let mut h = DefaultHasher::new();
    for path in [&entry.cert, &entry.key] {
        match std::fs::read(path) {
            Ok(bytes) => bytes.hash(&mut h),
            Err(e) => e.kind().hash(&mut h),
        }
    }
    h.finish()
}

impl ResolvesServerCert for CertStore {
    /// A client that names no host, or one no certificate is for, gets no
    /// certificate and the handshake fails: every request on such a connection
    /// would be answered 421 anyway, and presenting a certificate to whoever
    /// connects by address would tell scanners which names this address serves.
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name()?;
        let index = self.tls.entry_for(name)?;
        self.current.load().get(index).cloned()
    }
}
