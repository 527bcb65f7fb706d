//! SIGTERM, SIGQUIT and SIGINT (SPEC section 10), in place of Pingora's own
//! watcher, which closes the listeners the moment SIGTERM arrives while
//! `/readyz` still says ready.
//!
//! - SIGTERM: `/readyz` answers 503 at once; everything else is served as
//!   before for `shutdown.grace`, so a load balancer polling `/readyz` stops
//!   sending new connections before the listener closes. Then Pingora's
//!   graceful shutdown closes the listeners, and requests in flight have up
//!   to `shutdown.drain`; the process exits 0 as soon as no connection is left.
//! - SIGQUIT: the listening sockets go to a new process started with
//!   `serve --upgrade` (over `shutdown.upgrade_socket`); Pingora keeps
//!   accepting for five seconds more, then this process drains the same way.
//! - SIGINT: at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
use pingora::server::{ExecutionPhase, ShutdownSignal, ShutdownSignalWatch};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::broadcast;

use crate::metrics;
use crate::proxy::limits::Limits;

/// The watcher handed to Pingora's `Server::run`.
pub struct Signals {
    pub grace: Duration,
}

async fn next(s: &mut Option<Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        // Not catchable: the default action (ending the process) stays.
        None => std::future::pending().await,
    }
}

/// Once draining, Pingora listens to no signal, and ours are still caught
/// (tokio never gives a handler back): without this, SIGINT or a second
/// SIGTERM would do nothing and only SIGKILL would end a slow drain.
fn stop_at_once_on_a_second_signal() {
    let spawned = std::thread::Builder::new().name("gateway-stop".into()).spawn(|| {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return;
        };
        rt.block_on(async {
            let mut term = catch(SignalKind::terminate(), "SIGTERM");
            let mut int = catch(SignalKind::interrupt(), "SIGINT");
            tokio::select! {
                _ = next(&mut term) => {}
                _ = next(&mut int) => {}
            }
        });
        tracing::warn!("a second signal while draining: stopping at once");
        std::process::exit(1);
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot watch for a second signal while draining");
    }
}

fn catch(kind: SignalKind, name: &str) -> Option<Signal> {
    signal(kind).inspect_err(|e| tracing::error!(error = %e, "cannot catch {name}")).ok()
}

#[async_trait]
impl ShutdownSignalWatch for Signals {
    async fn recv(&self) -> ShutdownSignal {
        let mut term = catch(SignalKind::terminate(), "SIGTERM");
        let mut quit = catch(SignalKind::quit(), "SIGQUIT");
        let mut int = catch(SignalKind::interrupt(), "SIGINT");
        tokio::select! {
            _ = next(&mut term) => {
                metrics::SHUTTING_DOWN.store(true, Ordering::Relaxed);
                tracing::info!(
                    grace_seconds = self.grace.as_secs(),
                    "SIGTERM: /readyz answers 503 from now on; serving on for the grace period, then draining"
                );
                tokio::select! {
                    _ = tokio::time::sleep(self.grace) => {}
                    _ = next(&mut int) => {
                        tracing::info!("SIGINT during the grace period: stopping at once");
                        return ShutdownSignal::FastShutdown;
                    }
                }
                tracing::info!("grace period over: closing the listeners and draining");
                stop_at_once_on_a_second_signal();
                ShutdownSignal::GracefulTerminate
            }
            // `/readyz` stays as it is: during a hand-over the listening socket
            // is shared with the new process, which answers it too.
            _ = next(&mut quit) => {
                tracing::info!("SIGQUIT: handing the listening sockets to the new process, then draining");
                stop_at_once_on_a_second_signal();
                ShutdownSignal::GracefulUpgrade
            }
            _ = next(&mut int) => {
                tracing::info!("SIGINT: stopping at once");
                ShutdownSignal::FastShutdown
            }
        }
    }
}

/// Ends the process once the listeners are closed and the last client
/// connection is gone; Pingora alone would sit out the whole drain time.
/// Runs on the control runtime.
pub async fn exit_when_drained(mut phases: broadcast::Receiver<ExecutionPhase>, limits: Arc<Limits>) {
    loop {
        match phases.recv().await {
            Ok(ExecutionPhase::ShutdownGracePeriod) => break,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
    // A connection the accept loop took just before it stopped is counted
    // only once its task runs: give those a moment before the first look.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        if limits.open_connections() == 0 {
            tracing::info!("drained: no connection left; exiting");
            crate::access_log::flush_before_exit();
            std::process::exit(0);
        }
    }
}

/// The upgrade socket for this configuration, its folder made if missing.
/// The old and the new process compute the same path from the same file.
pub fn upgrade_socket(cfg: &config::GatewayConfig) -> anyhow::Result<PathBuf> {
    let (path, defaulted) = match &cfg.shutdown.upgrade_socket {
        Some(p) => (p.clone(), false),
        None => match std::env::var_os("RUNTIME_DIRECTORY") {
            // systemd's RuntimeDirectory= (several are separated by ':').
            Some(dirs) => {
                let first = dirs.to_string_lossy().split(':').next().unwrap_or_default().to_owned();
                (PathBuf::from(first).join("upgrade.sock"), false)
            }
            None => {
                let uid = own_uid();
                let dir = std::env::temp_dir().join(format!("gateway-{uid}"));
                (dir.join(format!("upgrade-{}.sock", cfg.listen.port())), true)
            }
        },
    };
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        bail!("shutdown.upgrade_socket {} has no folder", path.display());
    };
    crate::private_fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the upgrade socket's folder {}", dir.display()))?;
    check_folder(dir, defaulted)?;
    // sun_path holds 108 bytes; Pingora would panic on a longer path.
    if path.as_os_str().len() >= 100 {
        bail!("shutdown.upgrade_socket {} is too long for a Unix socket (at most 99 bytes)", path.display());
    }
    Ok(path)
}

/// Pingora makes the socket 0666: the folder is what keeps other users from
/// handing the new process sockets of their own. A folder someone else owns
/// or may write to or enter is refused.
fn check_folder(dir: &Path, defaulted: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir).with_context(|| format!("upgrade socket folder {}", dir.display()))?;
    let me = own_uid();
    if meta.uid() != me && meta.uid() != 0 {
        bail!("the upgrade socket's folder {} belongs to another user (uid {})", dir.display(), meta.uid());
    }
    if meta.mode() & 0o022 != 0 {
        bail!(
            "the upgrade socket's folder {} may be written by other users (mode {:o}); use a folder of the gateway's own",
            dir.display(),
            meta.mode() & 0o7777
        );
    }
    if meta.mode() & 0o011 != 0 {
        let hint = if defaulted { "" } else { " (under systemd: RuntimeDirectoryMode=0700)" };
        bail!(
            "other users may enter the upgrade socket's folder {} (mode {:o}) and hand a new gateway sockets of their own during an upgrade; make it 0700{hint}",
            dir.display(),
            meta.mode() & 0o7777
        );
    }
    Ok(())
}

/// The process's user id, read from /proc (no libc call needed).
fn own_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_socket_lives_in_a_private_folder() {
        let mut cfg = config::GatewayConfig { listen: "127.0.0.1:18123".parse().unwrap(), ..Default::default() };
        if std::env::var_os("RUNTIME_DIRECTORY").is_none() {
            let p = upgrade_socket(&cfg).unwrap();
            assert!(p.ends_with("upgrade-18123.sock"), "{}", p.display());
            use std::os::unix::fs::MetadataExt;
            assert_eq!(std::fs::metadata(p.parent().unwrap()).unwrap().mode() & 0o077, 0);
        }
        let shared = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        cfg.shutdown.upgrade_socket = Some(shared.path().join("up.sock"));
        let e = upgrade_socket(&cfg).unwrap_err().to_string();
        assert!(e.contains("written by other users"), "{e}");
        std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let e = upgrade_socket(&cfg).unwrap_err().to_string();
        assert!(e.contains("may enter"), "{e}");
        cfg.shutdown.upgrade_socket = Some(shared.path().join("x".repeat(120)));
        std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(upgrade_socket(&cfg).unwrap_err().to_string().contains("too long"));
    }
}
