//! Session cookies and the cache in front of the session table.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use crate::store::{SessionRecord, Store, StoreError};
use crate::tokens;

/// What the cookie header says about the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieFact {
    Missing,
    /// Present but not one well-formed token (or present twice): fails closed.
    Malformed,
    Present([u8; 32]),
}

/// Finds the session cookie among all `Cookie` headers without allocating.
pub fn read_cookie<'a>(cookie_headers: impl Iterator<Item = &'a [u8]>, name: &str) -> CookieFact {
    let mut found: Option<&[u8]> = None;
    for header in cookie_headers {
        for pair in header.split(|b| *b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|b| *b == b'=') else { continue };
            if &pair[..eq] != name.as_bytes() {
                continue;
            }
            if found.is_some() {
                return CookieFact::Malformed;
            }
            found = Some(&pair[eq + 1..]);
        }
    }
    match found {
        None => CookieFact::Missing,
        Some(v) => match std::str::from_utf8(v).ok().and_then(tokens::decode_token) {
            Some(id) => CookieFact::Present(id),
            None => CookieFact::Malformed,
        },
    }
}

/// Reads one named cookie's raw value (for the CSRF cookie); None if absent or repeated.
pub fn cookie_value<'a>(cookie_headers: impl Iterator<Item = &'a [u8]>, name: &str) -> Option<String> {
    let mut found = None;
    for header in cookie_headers {
        for pair in header.split(|b| *b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|b| *b == b'=') else { continue };
            if &pair[..eq] == name.as_bytes() {
                if found.is_some() {
                    return None;
                }
                found = std::str::from_utf8(&pair[eq + 1..]).ok().map(str::to_owned);
            }
        }
    }
    found
}

/// The `Cookie` header without the named cookies, all headers joined into one.
pub fn without_cookies<'a>(cookie_headers: impl Iterator<Item = &'a [u8]>, names: &[&str]) -> String {
    let mut out = String::new();
    for header in cookie_headers {
        for pair in header.split(|b| *b == b';') {
            let pair = pair.trim_ascii();
            if pair.is_empty() {
                continue;
            }
            let name = pair.split(|b| *b == b'=').next().unwrap_or(b"");
            if names.iter().any(|n| n.as_bytes() == name) {
                continue;
            }
            let Ok(text) = std::str::from_utf8(pair) else { continue };
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(text);
        }
    }
    out
}

pub struct CookieSpec<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub secure: bool,
    pub http_only: bool,
    /// None: a browser-session cookie; Some(0): delete it.
    pub max_age: Option<u64>,
}

/// A host-only cookie (no Domain attribute), so it never reaches a sibling host.
pub fn set_cookie(c: &CookieSpec<'_>) -> String {
    let mut s = format!("{}={}; Path=/; SameSite=Lax", c.name, c.value);
    if c.http_only {
        s.push_str("; HttpOnly");
    }
    if c.secure {
        s.push_str("; Secure");
    }
    if let Some(age) = c.max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    s
}

/// Found sessions are cached briefly; unknown ids are remembered for a few
/// seconds so that a flood of made-up cookies does not become a flood of queries.
/// Every cached entry is dropped when the store's change counter moves.
pub struct SessionCache {
    hits: Cache<[u8; 32], Arc<SessionRecord>>,
    misses: Cache<[u8; 32], ()>,
}

impl SessionCache {
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        SessionCache {
            hits: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            misses: Cache::builder().max_capacity(capacity).time_to_live(ttl.min(Duration::from_secs(5))).build(),
        }
    }

    /// The live session for a cookie's id, or None. `now` is Unix seconds.
    pub async fn lookup(&self, store: &Store, id: &[u8; 32], now: i64) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let key = tokens::digest(id);
        if let Some(rec) = self.hits.get(&key) {
            return Ok((rec.expires_at > now).then_some(rec));
        }
        if self.misses.contains_key(&key) {
            return Ok(None);
        }
        match store.session_by_hash(&tokens::hex(&key)).await? {
            Some(rec) => {
                let rec = Arc::new(rec);
                self.hits.insert(key, rec.clone());
                Ok((rec.expires_at > now).then_some(rec))
            }
            None => {
                self.misses.insert(key, ());
                Ok(None)
            }
        }
    }

    pub fn insert(&self, id: &[u8; 32], rec: SessionRecord) {
        let key = tokens::digest(id);
        self.misses.invalidate(&key);
        self.hits.insert(key, Arc::new(rec));
    }

    pub fn remove(&self, id: &[u8; 32]) {
        self.hits.invalidate(&tokens::digest(id));
    }

    pub fn clear(&self) {
        self.hits.invalidate_all();
        self.misses.invalidate_all();
    }

    pub fn entry_count(&self) -> u64 {
        self.hits.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cookies_are_removed_for_the_origin() {
        let h = [b"a=1; gw_session=x; gw_csrf=y".as_slice(), b"b=2".as_slice()];
        assert_eq!(without_cookies(h.into_iter(), &["gw_session", "gw_csrf"]), "a=1; b=2");
        assert_eq!(without_cookies([b"gw_session=x".as_slice()].into_iter(), &["gw_session"]), "");
    }

    #[test]
    fn cookie_parsing_fails_closed() {
        let tok = tokens::random_token();
        let good = format!("a=b; gw_session={tok}; c=d");
        assert!(matches!(read_cookie([good.as_bytes()].into_iter(), "gw_session"), CookieFact::Present(_)));
        assert_eq!(read_cookie([b"a=b".as_slice()].into_iter(), "gw_session"), CookieFact::Missing);
        assert_eq!(read_cookie([b"gw_session=".as_slice()].into_iter(), "gw_session"), CookieFact::Malformed);
        assert_eq!(read_cookie([b"gw_session=../../etc".as_slice()].into_iter(), "gw_session"), CookieFact::Malformed);
        let twice = format!("gw_session={tok}; gw_session={tok}");
        assert_eq!(read_cookie([twice.as_bytes()].into_iter(), "gw_session"), CookieFact::Malformed);
        let split = [format!("gw_session={tok}"), format!("gw_session={tok}")];
        assert_eq!(read_cookie(split.iter().map(|s| s.as_bytes()), "gw_session"), CookieFact::Malformed);
        let long = format!("gw_session={tok}x");
        assert_eq!(read_cookie([long.as_bytes()].into_iter(), "gw_session"), CookieFact::Malformed);
        // A cookie whose name merely ends with ours is someone else's.
        let other = format!("xgw_session={tok}");
        assert_eq!(read_cookie([other.as_bytes()].into_iter(), "gw_session"), CookieFact::Missing);
    }
}
