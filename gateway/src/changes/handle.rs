//! The follower's handle, held by [`crate::app::App`]: pages ask the
//! follower to catch up and wait for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::policy_state::PolicyState;
use crate::store::Store;

/// The handle pages hold: ask the follower to catch up, and wait for it.
pub struct Changes {
    pub(super) kick: Notify,
    pub(super) applied: watch::Sender<i64>,
    pub(super) following: AtomicBool,
}

impl Default for Changes {
    fn default() -> Self {
        Changes { kick: Notify::new(), applied: watch::Sender::new(0), following: AtomicBool::new(false) }
    }
}

impl Changes {
    /// Makes a change this request saved hold in this instance before the
    /// answer goes out: the follower reads the log now, and this waits until it
    /// applied everything up to the newest change (2 s at most; after that the
    /// change still holds, at the follower's next read). Without a follower
    /// (tests of single pages), reloads every tenant itself.
    pub async fn caught_up(&self, store: &Store, policy: &PolicyState) {
        if !self.following.load(Ordering::Relaxed) {
            match store.load_tenants().await {
                Ok(rows) => policy.set_db(rows),
                Err(e) => tracing::warn!(error = %e, "reloading tenants failed"),
            }
            return;
        }
        let target = match store.last_change().await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "a saved change waits for the next read of the change log");
                return;
            }
        };
        let mut rx = self.applied.subscribe();
        self.kick.notify_one();
        let waited = tokio::time::timeout(Duration::from_secs(2), rx.wait_for(|n| *n >= target)).await;
        if waited.is_err() {
            tracing::warn!(target, "a saved change waits for the next read of the change log");
        }
    }
}
