//! Hot reload of the ops policy file.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use crate::error::ConfigError;
use policy::NetworkLimits;

use crate::policy_file::{OpsPolicy, parse_policy_with};

/// Editors and deploy tools write a file in several steps; wait this long after
/// the last event before reading it.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// A file that fails to parse right after an event may be a writer's first
/// half: it is read once more after this much quiet before being reported.
const RETRY_AFTER: Duration = Duration::from_millis(700);

/// Watches the ops policy file and reports each new version (or the error that
/// keeps it from being used). Dropping the watcher stops it.
pub struct PolicyWatcher {
    // Held only to keep the OS watch alive; dropping it ends the event stream.
    _watcher: RecommendedWatcher,
    stop: Sender<Message>,
}

enum Message {
    Changed,
    WatchError(String),
    Stop,
}

/// What was last seen at the path, so that unchanged content and a file that
/// stays missing are not reported again.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Seen {
    Content(u64),
    Missing,
    Unknown,
}

impl PolicyWatcher {
    /// Starts watching `path`. The file's current content counts as already
    /// loaded: `on_change` is called only once it changes. It runs on the
    /// watcher's own thread with the parse result; on `Err` the caller should
    /// keep its current policy.
    pub fn spawn(
        path: PathBuf,
        on_change: impl Fn(Result<OpsPolicy, ConfigError>) + Send + 'static,
    ) -> Result<PolicyWatcher, ConfigError> {
        Self::spawn_with(path, NetworkLimits::default(), on_change)
    }

    /// As [`PolicyWatcher::spawn`], holding declared networks to `limits`.
    pub fn spawn_with(
        path: PathBuf,
        limits: NetworkLimits,
        on_change: impl Fn(Result<OpsPolicy, ConfigError>) + Send + 'static,
    ) -> Result<PolicyWatcher, ConfigError> {
        let path = std::path::absolute(&path).unwrap_or(path);
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(ConfigError::new(&path, "cannot watch this path: it names no file"));
        };
        let (dir, name) = (dir.to_path_buf(), name.to_os_string());
        let (tx, rx) = mpsc::channel();
        let events = tx.clone();
        let names = Arc::new(Mutex::new(relevant_names(&dir, &name)));
        let watched = names.clone();
        // The directory is watched, not the file: a file replaced by rename is a
        // new inode, which a watch on the old one would never see. An event counts
        // when it names the file or a symlink in the folder the file is reached
        // through: a Kubernetes ConfigMap update renames `..data` (policy.yaml ->
        // ..data/policy.yaml) and no event names policy.yaml. Other files' events
        // (a log or a database beside it) do not count: a steady stream of them
        // would keep the debounce from ever settling.
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<Event>| {
            let msg = match res {
                Ok(ev) if concerns(&ev, &watched) => Message::Changed,
                Ok(_) => return,
                Err(e) => Message::WatchError(e.to_string()),
            };
            // The receiver is gone only when the watcher is being dropped.
            let _ = events.send(msg);
        })
        .map_err(|e| ConfigError::new(&path, format!("cannot watch the policy file: {e}")))?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| ConfigError::new(&path, format!("cannot watch directory {}: {e}", dir.display())))?;
        let seen = fingerprint(&path);
        let thread_path = path.clone();
        std::thread::Builder::new()
            .name("policy-watcher".to_owned())
            .spawn(move || run(thread_path, (dir, name, names), limits, seen, rx, on_change))
            .map_err(|e| ConfigError::new(&path, format!("cannot start the policy watcher thread: {e}")))?;
        tracing::info!(path = %path.display(), "watching the ops policy file");
        Ok(PolicyWatcher { _watcher: watcher, stop: tx })
    }
}

impl Drop for PolicyWatcher {
    fn drop(&mut self) {
        let _ = self.stop.send(Message::Stop);
    }
}

fn concerns(ev: &Event, names: &Mutex<HashSet<OsString>>) -> bool {
    // Reads (including ours) would otherwise trigger reloads; a close after
    // writing is the one access event that means new content.
    let relevant = match ev.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    };
    if !relevant {
        return false;
    }
    // No path: the kernel's queue overflowed and events were lost; look again.
    if ev.paths.is_empty() {
        return true;
    }
    let names = names.lock().unwrap_or_else(|p| p.into_inner());
    ev.paths.iter().any(|p| p.file_name().is_some_and(|n| names.contains(n)))
}

/// The file's name and every symlink in `dir` it is reached through (at most a
/// few hops, only relative links within the folder: the ConfigMap layout).
fn relevant_names(dir: &Path, name: &OsStr) -> HashSet<OsString> {
    let mut names = HashSet::from([name.to_os_string()]);
    let mut current = name.to_os_string();
    for _ in 0..8 {
        let Ok(target) = std::fs::read_link(dir.join(&current)) else { break };
        let Some(Component::Normal(first)) = target.components().next() else { break };
        if !names.insert(first.to_os_string()) {
            break;
        }
        current = first.to_os_string();
    }
    names
}

fn fingerprint(path: &Path) -> Seen {
    match std::fs::read(path) {
        Ok(bytes) => Seen::Content(hash(&bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Seen::Missing,
        Err(_) => Seen::Unknown,
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// The folder, the file's name, and the names whose events count (kept current
/// as symlinks change).
type Names = (PathBuf, OsString, Arc<Mutex<HashSet<OsString>>>);

fn run(
    path: PathBuf,
    (dir, name, names): Names,
    limits: NetworkLimits,
    mut seen: Seen,
    rx: Receiver<Message>,
    on_change: impl Fn(Result<OpsPolicy, ConfigError>),
) {
    loop {
        match rx.recv() {
            Ok(Message::Changed) => {}
            Ok(Message::WatchError(e)) => {
                tracing::warn!(path = %path.display(), error = %e, "policy file watch error");
                continue;
            }
            Ok(Message::Stop) | Err(_) => return,
        }
        if !settle(&rx, DEBOUNCE) {
            return;
        }
        // A swap may have brought new links into the path.
        *names.lock().unwrap_or_else(|p| p.into_inner()) = relevant_names(&dir, &name);
        let (mut now, mut result) = read(&path, &limits);
        if result.is_err() && now != seen {
            // Perhaps a writer's first half: wait for quiet and read once more,
            // so that only a file still bad then is reported.
            tracing::debug!(path = %path.display(), "policy file unreadable right after a change; reading it again shortly");
            if !settle(&rx, RETRY_AFTER) {
                return;
            }
            (now, result) = read(&path, &limits);
        }
        if now == seen && now != Seen::Unknown {
            tracing::debug!(path = %path.display(), "policy file event without a change");
            continue;
        }
        seen = now;
        match &result {
            Ok(p) => tracing::info!(
                path = %path.display(),
                rules = p.rules.rules().len(),
                tenants = p.tenants.len(),
                "ops policy file changed"
            ),
            Err(e) => tracing::warn!(error = %e, "ops policy file rejected"),
        }
        on_change(result);
    }
}

/// What is at `path` now, and what it parses to.
fn read(path: &Path, limits: &NetworkLimits) -> (Seen, Result<OpsPolicy, ConfigError>) {
    match std::fs::read(path) {
        Ok(bytes) => {
            let now = Seen::Content(hash(&bytes));
            let result = match String::from_utf8(bytes) {
                Ok(text) => parse_policy_with(&text, path, limits),
                Err(_) => Err(ConfigError::new(path, "the policy file is not UTF-8 text")),
            };
            (now, result)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (Seen::Missing, Err(ConfigError::new(path, "the policy file was removed; keeping the current policy")))
        }
        Err(e) => (Seen::Unknown, Err(ConfigError::new(path, format!("cannot read the policy file: {e}")))),
    }
}

/// Waits until no event has arrived for `quiet`; `false` when told to stop.
fn settle(rx: &Receiver<Message>, quiet: Duration) -> bool {
    loop {
        match rx.recv_timeout(quiet) {
            Ok(Message::Changed | Message::WatchError(_)) => continue,
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return false,
            Err(RecvTimeoutError::Timeout) => return true,
        }
    }
}
