use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use config::{ConfigError, OpsPolicy, PolicyWatcher};

const WAIT: Duration = Duration::from_secs(5);

/// Writes `text` beside `path` and renames it over, as deploy tools do.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("yaml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The next report, skipping none; panics after a generous wait.
fn next(rx: &mpsc::Receiver<Result<OpsPolicy, ConfigError>>) -> Result<OpsPolicy, ConfigError> {
    rx.recv_timeout(WAIT).expect("no report from the watcher within 5 s")
}

/// Waits for a report satisfying `want`, ignoring others (a rename may be seen
/// as more than one change on some platforms).
fn wait_for(
    rx: &mpsc::Receiver<Result<OpsPolicy, ConfigError>>,
    want: impl Fn(&Result<OpsPolicy, ConfigError>) -> bool,
) -> Result<OpsPolicy, ConfigError> {
    let deadline = Instant::now() + WAIT;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if let Ok(r) = rx.recv_timeout(left)
            && want(&r)
        {
            return r;
        }
    }
    panic!("the expected report did not arrive within 5 s");
}

#[test]
fn reports_replacements_errors_and_removal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, "paths:\n  - path: /healthz\n    action: bypass\n").unwrap();
    let (tx, rx) = mpsc::channel();
    let watcher = PolicyWatcher::spawn(path.clone(), move |r| {
        let _ = tx.send(r);
    })
    .unwrap();

    replace(&path, "tenants:\n  acme:\n    lines: [CAF0123456789]\n");
    let p = wait_for(&rx, |r| r.as_ref().is_ok_and(|p| !p.tenants.is_empty())).unwrap();
    assert_eq!(p.tenants[0].name, "acme");
    assert!(p.rules.rules().is_empty());

    replace(&path, "tenants:\n  acme:\n    networks:\n    - 10.0.0.0/33\n");
    let e = wait_for(&rx, |r| r.is_err()).unwrap_err();
    assert_eq!((e.line, e.column), (Some(4), Some(7)), "{e}");
    assert!(e.message.contains("10.0.0.0/33"), "{e}");

    // Rewriting identical content in place is not a change.
    let same = std::fs::read(&path).unwrap();
    std::fs::write(&path, &same).unwrap();
    // Give the rewrite its own debounce window so that it is judged on its own.
    std::thread::sleep(Duration::from_millis(500));
    replace(&path, "paths:\n  - prefix: /admin\n    require_role: admin\n");
    let p = next(&rx).unwrap();
    assert_eq!(p.rules.rules().len(), 1, "the unchanged rewrite must not be reported");

    std::fs::remove_file(&path).unwrap();
    let e = next(&rx).unwrap_err();
    assert!(e.message.contains("removed"), "{e}");

    drop(watcher);
    std::fs::write(&path, "paths: []\n").unwrap();
    // After the drop the sender side is gone, or at least nothing more arrives.
    assert!(rx.recv_timeout(Duration::from_millis(600)).is_err());
}

#[test]
fn refuses_a_path_without_a_directory_to_watch() {
    let e = PolicyWatcher::spawn("/nonexistent-dir-for-gw-test/policy.yaml".into(), |_| {}).err().unwrap();
    assert!(e.to_string().starts_with("/nonexistent-dir-for-gw-test/policy.yaml: "), "{e}");
}
