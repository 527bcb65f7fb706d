//! Password hashing: argon2id with OWASP parameters, run on a few threads of
//! its own behind a semaphore. A login flood queues here instead of starving
//! the async workers that carry proxied traffic, and those threads run in the
//! idle scheduling class (and at nice +10), so on a busy core the people already
//! signed in are served first and the flood waits.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};

use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier};
use tokio::sync::{Semaphore, oneshot};

use crate::outage::Outage;

/// How much lower than the proxy's the hashing threads' priority is.
const HASH_NICE: i32 = 10;

/// How long a request waits for a hashing thread before it is told to come back
/// later. The wait cannot see a client that has gone away, so without a bound a
/// flood would keep the threads busy for its whole queue after it stopped.
pub const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// At most this many checks wait per hashing thread; one more is told to come
/// back later at once. A check takes 30-50 ms of a core, so this is one to two
/// seconds of work: under a flood a person learns it at once instead of after
/// `QUEUE_WAIT`, and a flood cannot park more connections than this
/// (`make bench-scale-conn` saw 2 000 waiting at 200 logins a second without it).
pub const MAX_WAITING_PER_THREAD: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the hashing pool is shut down")]
    Closed,
    #[error("every hashing thread stayed busy for {0:?}")]
    Busy(std::time::Duration),
    #[error("the hashing queue is full ({0} checks waiting)")]
    Full(usize),
    #[error("cannot start the hashing threads: {0}")]
    Spawn(std::io::Error),
}

type Job = Box<dyn FnOnce() + Send>;

/// `gateway_password_hashes_total{kind}`: argon2 runs, so that an operator (and
/// the attack suite) can see what a flood costs. `None` only if prometheus
/// rejected the constant name; hashing goes on uncounted then.
static HASHES: LazyLock<Option<prometheus::IntCounterVec>> = LazyLock::new(|| {
    let opts = prometheus::Opts::new("gateway_password_hashes_total", "Argon2 runs (new hashes and checks), by kind.");
    let c = prometheus::IntCounterVec::new(opts, &["kind"]).ok()?;
    // Registering twice (two hashers in one test process) is harmless.
    let _ = prometheus::register(Box::new(c.clone()));
    Some(c)
});

/// `gateway_password_checks_shed_total`: checks answered "busy" at once because
/// the queue was full (see `MAX_WAITING_PER_THREAD`).
static SHED: LazyLock<Option<prometheus::IntCounter>> = LazyLock::new(|| {
    let c = prometheus::IntCounter::new(
        "gateway_password_checks_shed_total",
        "Password checks and hashes refused at once because the hashing queue was full.",
    )
    .ok()?;
    let _ = prometheus::register(Box::new(c.clone()));
    Some(c)
});

/// A flood makes every check it sheds or times out fail alike: logged through an
/// [`Outage`] (one line when it starts, then with back-off, one when the queue
/// has emptied), not once per refused sign-in.
static OVERLOAD: LazyLock<Mutex<Outage>> = LazyLock::new(|| Mutex::new(Outage::new("the password hashing pool")));
/// Read whenever a check leaves an empty queue; the lock is taken only while overloaded.
static OVERLOADED: AtomicBool = AtomicBool::new(false);

fn overloaded(e: HashError) -> HashError {
    OVERLOAD.lock().unwrap_or_else(|p| p.into_inner()).failed(&e);
    OVERLOADED.store(true, Ordering::Relaxed);
    e
}

fn overload_ended() {
    if OVERLOADED.swap(false, Ordering::Relaxed) {
        OVERLOAD.lock().unwrap_or_else(|p| p.into_inner()).ok();
    }
}

fn count_hash(kind: &str) {
    if let Some(c) = HASHES.as_ref() {
        c.with_label_values(&[kind]).inc();
    }
}

#[derive(Clone)]
pub struct Hasher {
    /// At most this many hashes are queued or running: a waiter whose client
    /// has gone away leaves the queue instead of costing a hash.
    permits: Arc<Semaphore>,
    /// Checks waiting for a permit now, and how many may.
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    jobs: mpsc::Sender<Job>,
    /// Verified against when the email is unknown, so that an unknown email costs
    /// the same time as a wrong password.
    dummy: Arc<str>,
}

impl Hasher {
    /// Starts `concurrency` hashing threads; they end when the last clone of
    /// this `Hasher` is dropped.
    pub fn new(concurrency: usize) -> Result<Hasher, HashError> {
        let threads = concurrency.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("gateway-hash-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(HashError::Spawn)?;
        }
        let dummy = hash_blocking(&crate::tokens::random_token())?;
        for kind in ["hash", "verify"] {
            if let Some(c) = HASHES.as_ref() {
                let _ = c.with_label_values(&[kind]);
            }
        }
        let _ = SHED.as_ref();
        Ok(Hasher {
            permits: Arc::new(Semaphore::new(threads)),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting: threads.saturating_mul(MAX_WAITING_PER_THREAD),
            jobs,
            dummy: dummy.into(),
        })
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        let Some(waiting) = Waiting::enter(&self.waiting, self.max_waiting) else {
            if let Some(c) = SHED.as_ref() {
                c.inc();
            }
            return Err(overloaded(HashError::Full(self.max_waiting)));
        };
        let _permit = match tokio::time::timeout(QUEUE_WAIT, self.permits.acquire()).await {
            Ok(permit) => permit.map_err(|_| HashError::Closed)?,
            Err(_) => return Err(overloaded(HashError::Busy(QUEUE_WAIT))),
        };
        drop(waiting);
        if self.waiting.load(Ordering::Acquire) == 0 {
            overload_ended();
        }
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(f());
            }))
            .map_err(|_| HashError::Closed)?;
        result.await.map_err(|_| HashError::Closed)
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move || {
            count_hash("hash");
            hash_blocking(&password)
        })
        .await?
    }

    /// Verifies a password against a stored hash, or against the dummy hash when
    /// there is none; only `Some(hash)` can ever return true. An error means no
    /// answer (the pool is busy or gone): callers must not count it as a wrong
    /// password.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Result<bool, HashError> {
        let real = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy.to_string());
        let ok = self
            .run(move || {
                count_hash("verify");
                verify_blocking(&hash, &password)
            })
            .await?;
        Ok(ok && real)
    }
}

/// One check waiting for a hashing thread, counted in
/// `gateway_password_hash_queue_depth` until it gets one, times out or its
/// client goes away (the future dropped): a guard, so every way out counts.
/// None when `max` are waiting already.
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn enter(count: &Arc<AtomicUsize>, max: usize) -> Option<Waiting> {
        if count.fetch_add(1, Ordering::AcqRel) >= max {
            count.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        crate::metrics::HASH_QUEUE.inc();
        Some(Waiting(count.clone()))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
        crate::metrics::HASH_QUEUE.dec();
    }
}

/// Lowers the calling thread's CPU priority (on Linux both belong to the thread):
/// the idle scheduling class, so that a proxy thread waking up always preempts a
/// hash at once, and a nice value for kernels or sandboxes that refuse the class.
/// Failure only costs the priority, never the hashing.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread; the struct lives across the call.
        let (nice_rc, idle_rc) = unsafe {
            let tid = libc::gettid();
            let now = libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t);
            let nice_rc =
                libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, now.saturating_add(HASH_NICE).min(19));
            let param = libc::sched_param { sched_priority: 0 };
            (nice_rc, libc::sched_setscheduler(0, libc::SCHED_IDLE, &param))
        };
        if nice_rc != 0 || idle_rc != 0 {
            tracing::debug!(nice_rc, idle_rc, "could not lower the hashing thread's priority fully");
        }
    }
}

pub fn hash_blocking(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Hash(e.to_string()))
}

fn verify_blocking(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// The password rule: at least 8 characters and 3 of the 4 classes. Returns the
/// reason a password fails, in words a form can show.
pub fn check_rule(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < 8 {
        return Err("The password is shorter than 8 characters.");
    }
    if password.chars().count() > 256 {
        return Err("The password is longer than 256 characters.");
    }
    let classes = [
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return Err("The password needs at least 3 of: upper-case letters, lower-case letters, digits, symbols.");
    }
    Ok(())
}

pub const RULE_TEXT: &str =
    "At least 8 characters, using at least 3 of: upper-case letters, lower-case letters, digits, symbols.";

pub fn rule_text(lang: crate::ui::lang::Lang) -> &'static str {
    match lang {
        crate::ui::lang::Lang::En => RULE_TEXT,
        crate::ui::lang::Lang::Ja => "8文字以上で、英大文字・英小文字・数字・記号のうち3種類以上を含めてください。",
    }
}

/// [`check_rule`]'s reasons in the page's language.
pub fn rule_failure(lang: crate::ui::lang::Lang, password: &str) -> Option<&'static str> {
    let why = check_rule(password).err()?;
    Some(match lang {
        crate::ui::lang::Lang::En => why,
        crate::ui::lang::Lang::Ja => match why {
            "The password is shorter than 8 characters." => "パスワードが8文字未満です。",
            "The password is longer than 256 characters." => "パスワードが256文字を超えています。",
            _ => "英大文字・英小文字・数字・記号のうち3種類以上を含めてください。",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule() {
        assert!(check_rule("Abcdefg1").is_ok());
        assert!(check_rule("abcdefg1!").is_ok());
        assert!(check_rule("abcdefgh1").is_err());
        assert!(check_rule("Ab1!").is_err());
        assert!(check_rule("ABCDEFGH").is_err());
    }

    #[tokio::test]
    async fn verify_only_matches_the_right_password() {
        let h = Hasher::new(2).unwrap();
        let stored = h.hash("Correct-horse1".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify(Some(stored.clone()), "Correct-horse1".into()).await.unwrap());
        assert!(!h.verify(Some(stored), "correct-horse1".into()).await.unwrap());
        assert!(!h.verify(None, "anything".into()).await.unwrap());
        assert!(!h.verify(Some("garbage".into()), "x".into()).await.unwrap());
    }

    /// Takes the one thread of `h` (and its permit) until the test sends on the sender.
    async fn take_the_thread(
        h: &Hasher,
    ) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<Result<bool, HashError>>) {
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = {
            let h = h.clone();
            tokio::spawn(async move { h.run(move || hold.recv().is_ok()).await })
        };
        tokio::task::yield_now().await;
        (release, busy)
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_waits_too_long_is_told_busy_not_wrong() {
        let h = Hasher::new(1).unwrap();
        let (release, busy) = take_the_thread(&h).await;
        let waited = h.verify(None, "anything".into()).await;
        assert!(matches!(waited, Err(HashError::Busy(_))), "{waited:?}");
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
    }

    /// A check waiting for a thread shows in the queue gauge, and leaves it
    /// when it gets one or gives up (another test's hashes may be counted too:
    /// the gauge is process-wide, so the test asks for at least its own).
    #[tokio::test(start_paused = true)]
    async fn waiting_checks_are_counted_in_the_queue_gauge() {
        let h = Hasher::new(1).unwrap();
        let (release, busy) = take_the_thread(&h).await;
        let before = crate::metrics::HASH_QUEUE.get();
        let waiter = {
            let h = h.clone();
            tokio::spawn(async move { h.verify(None, "anything".into()).await })
        };
        tokio::task::yield_now().await;
        assert!(crate::metrics::HASH_QUEUE.get() > before, "a waiting check is not counted");
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(crate::metrics::HASH_QUEUE.get(), before, "a cancelled wait stays counted");
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
    }

    /// A flood cannot park more than `MAX_WAITING_PER_THREAD` checks per thread:
    /// the next one is told "busy" at once, not after `QUEUE_WAIT`, and a place
    /// that frees up is taken again.
    #[tokio::test(start_paused = true)]
    async fn a_full_queue_answers_busy_at_once() {
        let h = Hasher::new(1).unwrap();
        let (release, busy) = take_the_thread(&h).await;
        let waiters: Vec<_> = (0..MAX_WAITING_PER_THREAD)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move { h.verify(None, "anything".into()).await })
            })
            .collect();
        tokio::task::yield_now().await;
        assert_eq!(h.waiting.load(Ordering::Acquire), MAX_WAITING_PER_THREAD);
        let started = tokio::time::Instant::now();
        let shed = h.verify(None, "anything".into()).await;
        assert!(matches!(shed, Err(HashError::Full(n)) if n == MAX_WAITING_PER_THREAD), "{shed:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "the full queue was waited on");
        // One waiter leaves: its place can be taken again.
        let mut waiters = waiters.into_iter();
        if let Some(w) = waiters.next() {
            w.abort();
            let _ = w.await;
        }
        assert_eq!(h.waiting.load(Ordering::Acquire), MAX_WAITING_PER_THREAD - 1);
        let again = {
            let h = h.clone();
            tokio::spawn(async move { h.verify(None, "anything".into()).await })
        };
        tokio::task::yield_now().await;
        assert_eq!(h.waiting.load(Ordering::Acquire), MAX_WAITING_PER_THREAD);
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
        for w in waiters {
            let _ = w.await;
        }
        let _ = again.await;
        assert_eq!(h.waiting.load(Ordering::Acquire), 0, "every way out leaves the queue");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn hashing_threads_run_at_lower_priority() {
        let h = Hasher::new(1).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let mine = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let theirs = rt
            .block_on(h.run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }))
            .unwrap();
        assert_eq!(theirs, (mine + HASH_NICE).min(19), "hashing thread nice {theirs}, caller {mine}");
        let class = rt.block_on(h.run(|| unsafe { libc::sched_getscheduler(0) })).unwrap();
        assert_eq!(class, libc::SCHED_IDLE, "hashing threads run in the idle scheduling class");
    }
}
