//! Per-address login throttle: a fixed one-minute window per client address, in
//! front of the password check, so that a stranger can neither guess quickly
//! nor burn through other people's lockout counters cheaply.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use moka::sync::Cache;

pub const WINDOW: Duration = Duration::from_secs(60);

pub struct Throttle {
    limit: u32,
    windows: Cache<IpAddr, Arc<AtomicU32>>,
}

impl Throttle {
    /// `limit` attempts per address per minute; 0 turns the throttle off.
    pub fn new(limit: u32) -> Throttle {
        Throttle { limit, windows: Cache::builder().max_capacity(1_000_000).time_to_live(WINDOW).build() }
    }

    /// Counts one attempt; false when the address is over its limit. An unknown
    /// address shares one window with every other unknown address.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        if self.limit == 0 {
            return true;
        }
        let key = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let counter = self.windows.get_with(key, || Arc::new(AtomicU32::new(0)));
        counter.fetch_add(1, Ordering::Relaxed) < self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address() {
        let t = Throttle::new(3);
        let a = Some(IpAddr::from([192, 0, 2, 1]));
        let b = Some(IpAddr::from([192, 0, 2, 2]));
        assert!(t.allow(a) && t.allow(a) && t.allow(a));
        assert!(!t.allow(a));
        assert!(t.allow(b));
        let off = Throttle::new(0);
        assert!((0..100).all(|_| off.allow(a)));
    }
}
