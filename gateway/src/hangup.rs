//! SIGHUP (SPEC section 10) reads the ops policy file and the certificates
//! again. Pingora handles SIGTERM, SIGINT and SIGQUIT only; unhandled, SIGHUP
//! (what `systemctl reload` and many operators send) would end the process, so
//! it is caught whether or not there is anything to read.

use std::sync::Arc;

use crate::metrics;
use crate::policy_state::PolicyState;
use crate::tls::CertStore;

/// Waits for SIGHUP for as long as the runtime runs; each one reloads.
pub async fn on_sighup(cfg: Arc<config::GatewayConfig>, policy: Arc<PolicyState>, certs: Option<Arc<CertStore>>) {
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP; the policy file and certificates reload on change only");
            return;
        }
    };
    while hup.recv().await.is_some() {
        tracing::info!("SIGHUP: reading the policy file and certificates again");
        match crate::policy_state::initial_ops_policy(&cfg) {
            Ok(Some(ops)) => {
                policy.set_file(ops);
                metrics::POLICY_RELOADS.with_label_values(&["ok"]).inc();
                metrics::policy_reloaded();
                tracing::info!("policy file reloaded");
            }
            Ok(None) => {}
            Err(e) => {
                metrics::POLICY_RELOADS.with_label_values(&["error"]).inc();
                tracing::error!("policy file rejected, the previous policy stays in force: {e}");
            }
        }
        // After logrotate moved the access log away: a new file.
        crate::access_log::reopen();
        if let Some(store) = &certs {
            let done = store.reload();
            tracing::info!(replaced = done.replaced, refused = done.refused, "SIGHUP: certificates read again");
        }
    }
}
