//! Session cookies and the cache in front of the session table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

/// The prefix that makes a browser keep a cookie only if it was set over TLS,
/// host-only and for the whole site, so that no sibling host and no plain-HTTP
/// attacker can plant one of ours (SPEC section 10).
pub const HOST_PREFIX: &str = "__Host-";

/// Whether our cookies carry [`HOST_PREFIX`]: set once at start-up from
/// `session.secure_cookies` (`serve`), before any request is read. Every cookie
/// is named through here, so setting and reading always agree.
static PREFIXED: AtomicBool = AtomicBool::new(false);

pub fn use_host_prefix(on: bool) {
    PREFIXED.store(on, Ordering::Relaxed);
}

fn prefixed() -> bool {
    PREFIXED.load(Ordering::Relaxed)
}

/// Whether a cookie name on the wire is our cookie `name`: with the prefix on,
/// only the prefixed spelling is (an unprefixed one may have been planted).
fn is_ours(raw: &[u8], name: &str, prefixed: bool) -> bool {
    if prefixed { raw.strip_prefix(HOST_PREFIX.as_bytes()) == Some(name.as_bytes()) } else { raw == name.as_bytes() }
}

/// Finds the session cookie among all `Cookie` headers without allocating.
pub fn read_cookie<'a>(cookie_headers: impl Iterator<Item = &'a [u8]>, name: &str) -> CookieFact {
    read_cookie_as(cookie_headers, name, prefixed())
}

fn read_cookie_as<'a>(cookie_headers: impl Iterator<Item = &'a [u8]>, name: &str, prefixed: bool) -> CookieFact {
    let mut found: Option<&[u8]> = None;
    for header in cookie_headers {
        for pair in header.split(|b| *b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|b| *b == b'=') else { continue };
            if !is_ours(&pair[..eq], name, prefixed) {
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
    cookie_value_as(cookie_headers, name, prefixed())
}

fn cookie_value_as<'a>(cookie_headers: impl Iterator<Item = &'a [u8]>, name: &str, prefixed: bool) -> Option<String> {
    let mut found: Option<Option<String>> = None;
    for header in cookie_headers {
        for pair in header.split(|b| *b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|b| *b == b'=') else { continue };
            if is_ours(&pair[..eq], name, prefixed) {
                if found.is_some() {
                    return None;
                }
                // Counted even when unreadable, so that a second one is still "repeated".
                found = Some(std::str::from_utf8(&pair[eq + 1..]).ok().map(str::to_owned));
            }
        }
    }
    found.flatten()
}

/// Whether a cookie name on the wire is one of `names` in either spelling: the
/// origin gets neither.
fn any_ours(raw: &[u8], names: &[&str]) -> bool {
    let bare = raw.strip_prefix(HOST_PREFIX.as_bytes()).unwrap_or(raw);
    names.iter().any(|n| n.as_bytes() == bare)
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
            // Trimmed: an origin's cookie parser may ignore white space around the name.
            let name = pair.split(|b| *b == b'=').next().unwrap_or(b"").trim_ascii();
            if any_ours(name, names) {
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

/// The `Cookie` header the origin should get instead of the client's: `None`
/// when no cookie named in `names` is present (the usual case for origin
/// cookies: nothing is rebuilt or allocated), `Some("")` to drop the header.
pub fn without_own_cookies(headers: &http::HeaderMap, names: &[&str]) -> Option<String> {
    let values = || headers.get_all(http::header::COOKIE).iter().map(|v| v.as_bytes());
    let ours = values().flat_map(|h| h.split(|b| *b == b';')).any(|pair| {
        let name = pair.trim_ascii().split(|b| *b == b'=').next().unwrap_or(b"").trim_ascii();
        any_ours(name, names)
    });
    ours.then(|| without_cookies(values(), names))
}

pub struct CookieSpec<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub secure: bool,
    pub http_only: bool,
    /// None: a browser-session cookie; Some(0): delete it.
    pub max_age: Option<u64>,
}

/// A host-only cookie (no Domain attribute), so it never reaches a sibling host;
/// with the prefix on, named `__Host-…` and always `Secure`.
pub fn set_cookie(c: &CookieSpec<'_>) -> String {
    set_cookie_as(c, prefixed())
}

fn set_cookie_as(c: &CookieSpec<'_>, prefixed: bool) -> String {
    let prefix = if prefixed { HOST_PREFIX } else { "" };
    let mut s = format!("{prefix}{}={}; Path=/; SameSite=Lax", c.name, c.value);
    if c.http_only {
        s.push_str("; HttpOnly");
    }
    if c.secure || prefixed {
        s.push_str("; Secure");
    }
    if let Some(age) = c.max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    s
}

/// "Last seen" moves in memory and is written behind in batches: a session
/// used a thousand times a minute costs at most one write a minute.
const TOUCH_EVERY_SECS: i64 = 60;

/// A cached session with its sliding "last seen" time.
pub struct Cached {
    pub rec: SessionRecord,
    /// `X-Auth-User` for the origin, built once per cache fill rather than once
    /// per request (None if the stored email is not a valid header value).
    pub user_header: Option<http::HeaderValue>,
    last_seen: AtomicI64,
}

impl Cached {
    fn new(rec: SessionRecord) -> Cached {
        Cached {
            user_header: http::HeaderValue::from_str(&rec.email).ok(),
            last_seen: AtomicI64::new(rec.last_seen_at),
            rec,
        }
    }
}

/// Found sessions are cached briefly; unknown ids are remembered for a few
/// seconds so that a flood of made-up cookies does not become a flood of queries.
/// A change from the store evicts what it names: one session, or one user's.
pub struct SessionCache {
    hits: Cache<[u8; 32], Arc<Cached>>,
    misses: Cache<[u8; 32], ()>,
    idle_secs: i64,
    touched: Mutex<HashMap<[u8; 32], i64>>,
    /// Counts evictions, so that a read that raced one is not cached.
    evictions: AtomicU64,
}

impl SessionCache {
    pub fn new(capacity: u64, ttl: Duration, idle_timeout: Duration) -> Self {
        SessionCache {
            hits: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            misses: Cache::builder().max_capacity(capacity).time_to_live(ttl.min(Duration::from_secs(5))).build(),
            idle_secs: idle_timeout.as_secs() as i64,
            touched: Mutex::new(HashMap::new()),
            evictions: AtomicU64::new(0),
        }
    }

    /// The live session for a cookie's id, or None when it is unknown, expired or
    /// idle too long. `now` is Unix seconds. A hit counts as activity.
    pub async fn lookup(&self, store: &Store, id: &[u8; 32], now: i64) -> Result<Option<Arc<Cached>>, StoreError> {
        let key = tokens::digest(id);
        let entry = match self.hits.get(&key) {
            Some(c) => {
                crate::metrics::SESSION_CACHE_HIT.inc();
                c
            }
            None => {
                if self.misses.contains_key(&key) {
                    crate::metrics::SESSION_CACHE_NEGATIVE.inc();
                    return Ok(None);
                }
                crate::metrics::SESSION_CACHE_MISS.inc();
                match self.read_through(store, &key).await? {
                    Some(c) => c,
                    None => {
                        self.misses.insert(key, ());
                        return Ok(None);
                    }
                }
            }
        };
        let last = entry.last_seen.load(Ordering::Relaxed);
        if entry.rec.expires_at <= now || now - last > self.idle_secs {
            return Ok(None);
        }
        if now - last >= TOUCH_EVERY_SECS {
            entry.last_seen.store(now, Ordering::Relaxed);
            self.touched.lock().unwrap_or_else(|p| p.into_inner()).insert(key, now);
        }
        Ok(Some(entry))
    }

    /// Reads a session from the store and caches it, unless an eviction ran
    /// while the query was out: the row read may then be the one the eviction
    /// was about (a revoked session, a locked user), so it is read again.
    async fn read_through(&self, store: &Store, key: &[u8; 32]) -> Result<Option<Arc<Cached>>, StoreError> {
        let hash = tokens::hex(key);
        for _ in 0..3 {
            let epoch = self.evictions.load(Ordering::Acquire);
            let Some(rec) = store.session_by_hash(&hash).await? else { return Ok(None) };
            let c = Arc::new(Cached::new(rec));
            if self.evictions.load(Ordering::Acquire) == epoch {
                self.hits.insert(*key, c.clone());
                return Ok(Some(c));
            }
        }
        // Evictions keep coming: answer from the latest read, cache nothing.
        Ok(store.session_by_hash(&hash).await?.map(|rec| Arc::new(Cached::new(rec))))
    }

    pub fn insert(&self, id: &[u8; 32], rec: SessionRecord) {
        let key = tokens::digest(id);
        self.misses.invalidate(&key);
        self.hits.insert(key, Arc::new(Cached::new(rec)));
    }

    pub fn remove(&self, id: &[u8; 32]) {
        self.hits.invalidate(&tokens::digest(id));
    }

    /// Drops the session stored under this id hash (a change from the store).
    pub fn evict_hash(&self, id_hash: &str) {
        if let Some(key) = tokens::unhex(id_hash) {
            self.evictions.fetch_add(1, Ordering::AcqRel);
            self.hits.invalidate(&key);
            self.misses.invalidate(&key);
        }
    }

    /// Drops every cached session of one user, so the next request reads the
    /// user's role, email and lock again. A walk over the cache: users change
    /// far less often than sessions are used.
    pub fn evict_user(&self, user_id: i64) {
        self.evictions.fetch_add(1, Ordering::AcqRel);
        let keys: Vec<Arc<[u8; 32]>> =
            self.hits.iter().filter(|(_, c)| c.rec.user_id == user_id).map(|(k, _)| k).collect();
        for k in keys {
            self.hits.invalidate(&*k);
        }
    }

    pub fn clear(&self) {
        self.evictions.fetch_add(1, Ordering::AcqRel);
        self.hits.invalidate_all();
        self.misses.invalidate_all();
    }

    pub fn entry_count(&self) -> u64 {
        self.hits.entry_count()
    }

    /// The entry count with the cache's pending upkeep done first (the plain
    /// count lags behind inserts); for the metrics scrape, not the hot path.
    pub fn entry_count_now(&self) -> u64 {
        self.hits.run_pending_tasks();
        self.hits.entry_count()
    }

    /// The activity gathered since the last call, as (stored id hash, time).
    pub fn take_touched(&self) -> Vec<(String, i64)> {
        let mut map = self.touched.lock().unwrap_or_else(|p| p.into_inner());
        map.drain().map(|(k, at)| (tokens::hex(&k), at)).collect()
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
        let mut h = http::HeaderMap::new();
        h.append(http::header::COOKIE, http::HeaderValue::from_static("a=1; theirs=2"));
        assert_eq!(without_own_cookies(&h, &["gw_session"]), None, "origin cookies pass untouched");
        h.append(http::header::COOKIE, http::HeaderValue::from_static("gw_session=x"));
        assert_eq!(without_own_cookies(&h, &["gw_session"]).as_deref(), Some("a=1; theirs=2"));
    }

    #[test]
    fn the_host_prefix_is_all_or_nothing() {
        let tok = tokens::random_token();
        let both = format!("gw_session={tok}; __Host-gw_csrf=c; gw_csrf=planted");
        let h = || [both.as_bytes()].into_iter();
        assert!(matches!(read_cookie_as(h(), "gw_session", false), CookieFact::Present(_)));
        assert_eq!(read_cookie_as(h(), "gw_session", true), CookieFact::Missing, "unprefixed is not ours");
        let prefixed = format!("__Host-gw_session={tok}");
        assert!(matches!(
            read_cookie_as([prefixed.as_bytes()].into_iter(), "gw_session", true),
            CookieFact::Present(_)
        ));
        assert_eq!(cookie_value_as(h(), "gw_csrf", true).as_deref(), Some("c"));
        assert_eq!(cookie_value_as(h(), "gw_csrf", false).as_deref(), Some("planted"));
        let spec = CookieSpec { name: "gw_csrf", value: "v", secure: false, http_only: true, max_age: None };
        assert_eq!(set_cookie_as(&spec, true), "__Host-gw_csrf=v; Path=/; SameSite=Lax; HttpOnly; Secure");
        assert_eq!(set_cookie_as(&spec, false), "gw_csrf=v; Path=/; SameSite=Lax; HttpOnly");
        // The origin gets neither spelling.
        assert_eq!(without_cookies(h(), &["gw_session", "gw_csrf"]), "");
    }

    #[test]
    fn own_cookies_are_removed_whatever_the_spacing_around_the_name() {
        // Found by the cookie fuzz target: "gw_session =x" reached the origin,
        // whose cookie parser may well trim the name.
        let h =
            http::HeaderMap::from_iter([(http::header::COOKIE, "a=1; gw_session =x;  gw_csrf\t=y".parse().unwrap())]);
        assert_eq!(without_own_cookies(&h, &["gw_session", "gw_csrf"]).as_deref(), Some("a=1"));
    }

    #[test]
    fn a_repeated_cookie_has_no_value_even_if_one_is_not_utf8() {
        // Found by the cookie fuzz target: a first value that was not UTF-8
        // went uncounted, so the second was returned.
        let headers = [&b"gw_csrf=\xff; gw_csrf=tok"[..]];
        assert_eq!(cookie_value(headers.into_iter(), "gw_csrf"), None);
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
