//! The database's health, checked in the background so that `/readyz` can
//! say whether this instance can sign people in without ever asking the
//! database on the request itself.

use std::time::Duration;

use crate::metrics;
use crate::outage::Outage;
use crate::store::Store;

/// How often the database is asked.
pub const INTERVAL: Duration = Duration::from_secs(2);
/// How long one check may take before it counts as failed.
pub const TIMEOUT: Duration = Duration::from_millis(1500);
/// Failed checks in a row before the database counts as down: one slow
/// answer under load (the pool busy) must not take every instance out of
/// the load balancer at once.
pub const DOWN_AFTER: u32 = 2;

/// Runs for the life of the process on the control runtime: `SELECT 1`
/// every [`INTERVAL`], setting `metrics::DB_UP` and `gateway_database_up`.
pub async fn watch(store: Store) {
    let mut outage = Outage::new("the database health check");
    let mut failed_in_a_row = 0u32;
    let mut ticker = tokio::time::interval(INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let result = match tokio::time::timeout(TIMEOUT, store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} ms", TIMEOUT.as_millis())),
        };
        match result {
            Ok(()) => {
                failed_in_a_row = 0;
                outage.ok();
                metrics::set_database_up(true);
            }
            Err(e) => {
                failed_in_a_row = failed_in_a_row.saturating_add(1);
                outage.failed(&e);
                if failed_in_a_row >= DOWN_AFTER {
                    metrics::set_database_up(false);
                }
            }
        }
    }
}
