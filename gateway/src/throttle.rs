//! Per-address login throttle: a fixed one-minute window per client address, in
//! front of the password check, so that a stranger can neither guess quickly
//! nor burn through other people's lockout counters cheaply.
//!
//! With several instances (PostgreSQL) every window is also counted in the
//! database, so N instances still allow the limit once, not N times. The
//! count in memory goes first: a key over the limit here is refused without
//! a query, which keeps a flood from becoming a flood of writes.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use moka::sync::Cache;

pub const WINDOW: Duration = Duration::from_secs(60);

/// A fixed one-minute window per key (a client address, a user id).
pub struct Throttle<K = IpAddr> {
    limit: u32,
    windows: Cache<K, Arc<AtomicU32>>,
}

impl<K: std::hash::Hash + Eq + Send + Sync + 'static> Throttle<K> {
    /// `limit` attempts per key per minute; 0 turns the throttle off.
    pub fn new(limit: u32) -> Throttle<K> {
        Throttle { limit, windows: Cache::builder().max_capacity(1_000_000).time_to_live(WINDOW).build() }
    }

    /// Counts one attempt; false when the key is over its limit.
    pub fn allow_key(&self, key: K) -> bool {
        if self.limit == 0 {
            return true;
        }
        let counter = self.windows.get_with(key, || Arc::new(AtomicU32::new(0)));
        counter.fetch_add(1, Ordering::Relaxed) < self.limit
    }
}

impl<K: std::hash::Hash + Eq + Send + Sync + std::fmt::Display + Clone + 'static> Throttle<K> {
    /// Counts one attempt here and, when `shared` is the database of several
    /// instances, there too; false when either count is over the limit. If
    /// the database cannot count, this instance's count decides (logged).
    pub async fn allow_shared(&self, scope: &str, key: K, shared: Option<&crate::store::Store>) -> bool {
        if !self.allow_key(key.clone()) {
            return false;
        }
        let Some(store) = shared else { return true };
        if self.limit == 0 {
            return true;
        }
        let now = crate::store::now();
        let start = now - now.rem_euclid(WINDOW.as_secs() as i64);
        match store.count_attempt(scope, &key.to_string(), start).await {
            Ok(hits) => hits <= i64::from(self.limit),
            Err(e) => {
                tracing::warn!(error = %e, scope, "the shared throttle cannot count; this instance's count decides");
                true
            }
        }
    }
}

impl Throttle<IpAddr> {
    /// Counts one attempt from an address; an unknown address shares one window
    /// with every other unknown address.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        self.allow_key(address_key(ip))
    }
}

/// The key an address is counted under; an unknown address shares one window
/// with every other unknown address.
pub fn address_key(ip: Option<IpAddr>) -> IpAddr {
    ip.map_or(IpAddr::from([0, 0, 0, 0]), client_key)
}

/// The key of everything counted per client address: an IPv4 address, or the
/// /64 of an IPv6 one, since a single subscriber is routinely given a whole /64
/// and could otherwise rotate through 2^64 addresses. An IPv4-mapped IPv6
/// address is the IPv4 client it maps.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address() {
        let t: Throttle = Throttle::new(3);
        let a = Some(IpAddr::from([192, 0, 2, 1]));
        let b = Some(IpAddr::from([192, 0, 2, 2]));
        assert!(t.allow(a) && t.allow(a) && t.allow(a));
        assert!(!t.allow(a));
        assert!(t.allow(b));
        let off: Throttle = Throttle::new(0);
        assert!((0..100).all(|_| off.allow(a)));
    }

    #[tokio::test]
    async fn the_shared_count_holds_across_instances_and_costs_no_query_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            crate::store::Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        // Not across a window's end: the counts would start again midway.
        if crate::store::now().rem_euclid(60) > 55 {
            tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        }
        let now = crate::store::now();
        let window = now - now.rem_euclid(WINDOW.as_secs() as i64);
        // Another instance already counted two attempts from this address.
        for _ in 0..2 {
            store.count_attempt("login", "192.0.2.7", window).await.unwrap();
        }
        let t: Throttle = Throttle::new(3);
        let ip = IpAddr::from([192, 0, 2, 7]);
        assert!(t.allow_shared("login", ip, Some(&store)).await, "the third attempt overall");
        assert!(!t.allow_shared("login", ip, Some(&store)).await, "the fourth, though only this instance's second");
        assert!(!t.allow_shared("login", ip, Some(&store)).await);
        // Over the limit here: refused without counting in the database.
        for _ in 0..5 {
            assert!(!t.allow_shared("login", ip, Some(&store)).await);
        }
        assert_eq!(store.count_attempt("login", "192.0.2.7", window).await.unwrap(), 6, "2 + 3 queried, 5 not");
        // Without a shared store the count is this instance's alone.
        let alone: Throttle = Throttle::new(3);
        assert!(alone.allow_shared("login", ip, None).await);
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let t: Throttle = Throttle::new(2);
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert!(t.allow(ip("2001:db8:0:1::1")) && t.allow(ip("2001:db8:0:1:ffff:ffff:ffff:ffff")));
        assert!(!t.allow(ip("2001:db8:0:1::2")), "another address of the same /64");
        assert!(t.allow(ip("2001:db8:0:2::1")), "the next /64 is another client");
        // An IPv4 address written as IPv4-mapped IPv6 is that IPv4 client.
        assert!(t.allow(ip("192.0.2.9")) && t.allow(ip("::ffff:192.0.2.9")));
        assert!(!t.allow(ip("192.0.2.9")));
    }
}
