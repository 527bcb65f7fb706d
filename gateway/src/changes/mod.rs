//! Following the store's change log: each change applied to this instance's
//! memory as narrowly as it allows (SPEC section 10). A revoked session evicts
//! that session; a user's change evicts that user's sessions; a tenant's change
//! reloads that tenant. Nothing that happens at login or logout reloads the
//! whole policy.
//!
//! Changes arrive two ways. On PostgreSQL each one is notified
//! (`LISTEN gateway_changes`) as it commits; a periodic read of the log after
//! the last change applied is the fallback, so a lost notification (the
//! listener reconnecting, a restart) delays a change by at most
//! [`FALLBACK_POLL`] and never loses it. With SQLite there is one gateway, and
//! the read alone carries what the command line changed.
//!
//! The follower is the only writer of the database's part of the policy: a
//! page that changed a tenant asks it to catch up ([`handle::Changes::caught_up`])
//! rather than reloading on its own, so two reloads can never race and store
//! an older row over a newer one.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::app::App;
use crate::metrics;
use crate::outage::Outage;
use crate::store::{CHANGES_CHANNEL, Change, Store};

pub mod handle;

/// How often the log is read when notifications carry the changes.
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);
/// How often it is read when nothing notifies (SQLite: the command line).
pub const POLL: Duration = Duration::from_millis(250);
/// Changes read at once; more than this behind, the instance reloads whole.
const BATCH: i64 = 5000;
/// A number skipped in the log (a write that rolled back, or one still
/// committing) is waited for this long before it is taken as never coming.
const HOLE_WAIT: Duration = Duration::from_secs(5);
/// After a whole reload, the last few changes are applied again: one that was
/// committing while the reload read the log may not be in what it loaded.
/// Applying a change twice is harmless (an eviction, a reload).
const REPLAY: i64 = 64;
/// Longer than this without reading the log (the database was down), and
/// changes may have been pruned unseen: reload whole.
const OUT_OF_TOUCH: Duration = Duration::from_secs(600);

/// What the follower has applied: every change up to `upto`, and those in
/// `above` past a gap.
struct Applied {
    upto: i64,
    above: BTreeSet<i64>,
    /// Since when `upto + 1` has been missing, for this `upto`: a gap that
    /// closes and another that opens are timed apart.
    gap_since: Option<(i64, Instant)>,
    /// A whole reload that failed (the database was unreachable): retried at
    /// every read until it succeeds, since the changes it stands for are
    /// already marked applied.
    owed: Option<&'static str>,
    /// Whole reloads failing while the database is down, logged with back-off.
    reload_failures: Outage,
}

impl Applied {
    fn new(upto: i64) -> Applied {
        Applied {
            upto,
            above: BTreeSet::new(),
            gap_since: None,
            owed: None,
            reload_failures: Outage::new("reloading every tenant (retried at every read)"),
        }
    }

    /// Whether change `seq` is new; if so it is marked applied.
    fn take(&mut self, seq: i64) -> bool {
        if seq <= self.upto || !self.above.insert(seq) {
            return false;
        }
        self.advance();
        true
    }

    fn advance(&mut self) {
        while self.above.remove(&(self.upto + 1)) {
            self.upto += 1;
        }
    }

    /// A gap older than [`HOLE_WAIT`] is a number that will never be written
    /// (a rolled-back insert): step over it.
    fn settle(&mut self, now: Instant) {
        if self.above.is_empty() {
            self.gap_since = None;
            return;
        }
        match self.gap_since {
            Some((at, since)) if at == self.upto => {
                if now.duration_since(since) >= HOLE_WAIT
                    && let Some(&first) = self.above.iter().next()
                {
                    self.upto = first - 1;
                    self.advance();
                    self.gap_since = if self.above.is_empty() { None } else { Some((self.upto, now)) };
                }
            }
            _ => self.gap_since = Some((self.upto, now)),
        }
    }

    /// After a whole reload that read the log at `at`.
    fn reset(&mut self, at: i64) {
        self.upto = (at - REPLAY).max(self.upto.min(at));
        self.above.clear();
        self.gap_since = None;
    }
}

/// Runs for the life of the process on the control runtime.
pub async fn follow(app: Arc<App>, start_at: i64) {
    let changes = &app.changes;
    changes.following.store(true, Ordering::Relaxed);
    let mut applied = Applied::new(0);
    // What was committing while the caller loaded at `start_at` is read again.
    applied.reset(start_at);
    let _ = changes.applied.send(applied.upto);
    let (tx, mut notified) = mpsc::channel::<Option<(i64, Option<Change>)>>(4096);
    // GATEWAY_CHANGES_NO_LISTEN: the periodic read alone, as when the
    // listener is down (the benches measure it).
    let postgres = app.store.backend() == "postgres";
    if postgres && std::env::var_os("GATEWAY_CHANGES_NO_LISTEN").is_none() {
        tokio::spawn(listen(app.store.clone(), tx));
    } else {
        drop(tx);
    }
    let interval = if postgres { FALLBACK_POLL } else { POLL };
    let mut last_read = Instant::now();
    // While the database is down the log is read (and fails) four times a
    // second; the log gets one line per outage and a few with back-off.
    let mut read_failures = Outage::new("reading the change log");
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = changes.kick.notified() => {}
            n = notified.recv(), if !notified.is_closed() => match n {
                Some(Some((seq, change))) => {
                    if applied.take(seq) {
                        metrics::CHANGE_FEED.with_label_values(&["notified"]).inc();
                        apply(&app, &mut applied, change, seq).await;
                    }
                    let _ = changes.applied.send(applied.upto);
                    continue;
                }
                // The listener reconnected: what was notified meanwhile is lost; read the log.
                Some(None) => metrics::CHANGE_FEED.with_label_values(&["reconnect"]).inc(),
                None => {}
            },
        }
        if last_read.elapsed() > OUT_OF_TOUCH {
            whole_reload(&app, &mut applied, "missed").await;
        } else if let Some(reason) = applied.owed {
            whole_reload(&app, &mut applied, reason).await;
        }
        match app.store.changes_after(applied.upto, BATCH).await {
            Ok(rows) if rows.len() as i64 >= BATCH => {
                read_failures.ok();
                last_read = Instant::now();
                whole_reload(&app, &mut applied, "missed").await;
            }
            Ok(rows) => {
                read_failures.ok();
                last_read = Instant::now();
                for (seq, change) in rows {
                    if applied.take(seq) {
                        metrics::CHANGE_FEED.with_label_values(&["polled"]).inc();
                        apply(&app, &mut applied, change, seq).await;
                    }
                }
                applied.settle(Instant::now());
            }
            Err(e) => {
                read_failures.failed(&e);
            }
        }
        let _ = changes.applied.send(applied.upto);
    }
}

async fn apply(app: &App, applied: &mut Applied, change: Option<Change>, seq: i64) {
    match change {
        Some(Change::Session(hash)) => {
            app.sessions.evict_hash(&hash);
            metrics::CHANGES_APPLIED.with_label_values(&["session"]).inc();
        }
        Some(Change::User(id)) => {
            app.sessions.evict_user(id);
            metrics::CHANGES_APPLIED.with_label_values(&["user"]).inc();
        }
        Some(Change::Tenant(id)) => {
            match app.store.load_tenant(id).await {
                Ok(row) => {
                    app.policy.set_tenant(id, row);
                }
                // The log says it changed and it cannot be read: fall back to
                // the whole reload, which keeps retrying until it can.
                Err(e) => {
                    tracing::warn!(error = %e, tenant = id, "reloading a changed tenant failed");
                    whole_reload(app, applied, "missed").await;
                }
            }
            metrics::CHANGES_APPLIED.with_label_values(&["tenant"]).inc();
        }
        Some(Change::All) => {
            metrics::CHANGES_APPLIED.with_label_values(&["all"]).inc();
            whole_reload(app, applied, "asked").await;
        }
        None => {
            tracing::warn!(seq, "a change this version does not know; reloading everything");
            whole_reload(app, applied, "unknown").await;
        }
    }
}

async fn whole_reload(app: &App, applied: &mut Applied, reason: &'static str) {
    let loaded =
        async { Ok::<_, crate::store::StoreError>((app.store.last_change().await?, app.store.load_tenants().await?)) };
    match loaded.await {
        Ok((at, rows)) => {
            app.policy.set_db(rows);
            app.sessions.clear();
            applied.reset(at);
            applied.owed = None;
            applied.reload_failures.ok();
            metrics::FULL_RELOADS.with_label_values(&[reason]).inc();
            tracing::info!(reason, at, "every tenant reloaded and the session cache emptied");
        }
        Err(e) => {
            applied.owed = Some(reason);
            applied.reload_failures.failed(&e);
        }
    }
}

/// Forwards notifications; `None` says the connection was lost and remade.
async fn listen(store: Store, tx: mpsc::Sender<Option<(i64, Option<Change>)>>) {
    let Some(pool) = store.postgres_pool() else { return };
    let mut failures = Outage::new("listening for changes (the periodic read carries them meanwhile)");
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                failures.failed(&e);
                tokio::time::sleep(FALLBACK_POLL).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANGES_CHANNEL).await {
            failures.failed(&e);
            tokio::time::sleep(FALLBACK_POLL).await;
            continue;
        }
        failures.ok();
        // Whatever was committed before LISTEN took effect is read from the log.
        if tx.send(None).await.is_err() {
            return;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    let Some(parsed) = Change::parse_payload(n.payload()) else {
                        tracing::warn!("unreadable change notification ignored; the periodic read carries it");
                        continue;
                    };
                    if tx.send(Some(parsed)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => {
                    if tx.send(None).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    failures.failed(&e);
                    tokio::time::sleep(FALLBACK_POLL).await;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_waited_for_then_stepped_over() {
        let mut a = Applied::new(10);
        assert!(a.take(11) && a.upto == 11);
        assert!(!a.take(11), "once only");
        assert!(!a.take(3), "older than what is applied");
        assert!(a.take(13), "past a gap");
        assert_eq!(a.upto, 11, "12 may still be committing");
        let t0 = Instant::now();
        a.settle(t0);
        assert!(a.take(12) && a.upto == 13, "it came");
        a.settle(t0);
        assert!(a.take(15));
        // A new gap (14), opened just before the old one's time would be up:
        // it gets its own full wait.
        a.settle(t0 + HOLE_WAIT - Duration::from_millis(1));
        a.settle(t0 + HOLE_WAIT + Duration::from_millis(1));
        assert_eq!(a.upto, 13, "14 is still waited for");
        a.settle(t0 + HOLE_WAIT * 2);
        assert_eq!(a.upto, 15, "14 never came: stepped over");
        // A write that takes longer than HOLE_WAIT to commit is not applied: the
        // database is in trouble then, and the next change to the same thing is.
        assert!(!a.take(14));
    }

    #[test]
    fn a_whole_reload_replays_the_last_few() {
        let mut a = Applied::new(1000);
        a.take(1002);
        a.reset(1002);
        assert_eq!(a.upto, 1000, "what was applied as it came stays applied");
        assert!(a.above.is_empty(), "1002 is read again");
        let mut behind = Applied::new(10);
        behind.reset(1000);
        assert_eq!(behind.upto, 1000 - REPLAY, "the last few before the reload's read are read again");
        let mut fresh = Applied::new(0);
        fresh.reset(10);
        assert_eq!(fresh.upto, 0, "never below what nothing was applied at");
    }
}
