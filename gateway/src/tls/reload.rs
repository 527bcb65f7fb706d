//! What makes the certificates be read again: a change in a directory that
//! holds one of the files (here), and SIGHUP (`crate::hangup`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::CertStore;

/// Deploy tools write a certificate and its key in several steps (often two
/// renames); wait this long after the last event before reading them.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Keeps the directory watch alive; dropping it stops the reloads.
pub struct CertWatcher {
    _watcher: RecommendedWatcher,
}

/// Watches the directories of every certificate and key file. Any change in
/// them reloads the store: renames of a parent link (as in mounted secrets)
/// name no file of ours, and the store skips entries whose content is unchanged.
pub fn watch(store: Arc<CertStore>) -> anyhow::Result<CertWatcher> {
    let dirs: BTreeSet<PathBuf> = store
        .tls()
        .certificates
        .iter()
        .flat_map(|c| [&c.cert, &c.key])
        .filter_map(|p| p.parent().map(|d| d.to_path_buf()))
        .collect();
    let (tx, rx) = mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
        // Reads, ours included, change nothing.
        Ok(ev) if matches!(ev.kind, EventKind::Access(_)) => {}
        Ok(_) => {
            let _ = tx.send(());
        }
        Err(e) => tracing::warn!(error = %e, "certificate directory watch error"),
    })?;
    for dir in &dirs {
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
    }
    std::thread::Builder::new().name("cert-watcher".to_owned()).spawn(move || {
        while rx.recv().is_ok() {
            loop {
                match rx.recv_timeout(DEBOUNCE) {
                    Ok(()) => continue,
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            store.reload();
        }
    })?;
    tracing::info!(directories = dirs.len(), "watching the certificate files");
    Ok(CertWatcher { _watcher: watcher })
}
