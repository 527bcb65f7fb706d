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

/// A Kubernetes ConfigMap volume: the file is a symlink through `..data`, which
/// the kubelet swaps atomically (a new timestamped folder, a new symlink renamed
/// over `..data`). No event names `policy.yaml`.
#[test]
fn sees_a_configmap_style_symlink_swap() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("..2026_01_01_00_00_00.1")).unwrap();
    std::fs::write(d.join("..2026_01_01_00_00_00.1/policy.yaml"), "paths: []\n").unwrap();
    symlink("..2026_01_01_00_00_00.1", d.join("..data")).unwrap();
    symlink("..data/policy.yaml", d.join("policy.yaml")).unwrap();
    let (tx, rx) = mpsc::channel();
    let _watcher = PolicyWatcher::spawn(d.join("policy.yaml"), move |r| {
        let _ = tx.send(r);
    })
    .unwrap();

    std::fs::create_dir(d.join("..2026_01_01_00_01_00.2")).unwrap();
    std::fs::write(d.join("..2026_01_01_00_01_00.2/policy.yaml"), "tenants:\n  acme:\n    lines: [CAF0123456789]\n")
        .unwrap();
    symlink("..2026_01_01_00_01_00.2", d.join("..data_tmp")).unwrap();
    std::fs::rename(d.join("..data_tmp"), d.join("..data")).unwrap();
    std::fs::remove_dir_all(d.join("..2026_01_01_00_00_00.1")).unwrap();

    let p = next(&rx).unwrap();
    assert_eq!(p.tenants.len(), 1);
    assert_eq!(p.tenants[0].name, "acme");
    // One swap, one report: the removal of the old folder changed nothing.
    assert!(rx.recv_timeout(Duration::from_millis(1500)).is_err(), "a second report for one swap");
}

/// A file beside the policy written without pause (a log, a database) neither
/// reloads anything nor keeps a real change from being seen.
#[test]
fn a_busy_neighbour_does_not_hold_up_a_change() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, "paths: []\n").unwrap();
    let (tx, rx) = mpsc::channel();
    let _watcher = PolicyWatcher::spawn(path.clone(), move |r| {
        let _ = tx.send(r);
    })
    .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, log) = (stop.clone(), dir.path().join("gateway.log"));
        std::thread::spawn(move || {
            let mut f = std::fs::File::create(log).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                writeln!(f, "a log line").unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    replace(&path, "paths:\n  - prefix: /admin\n    require_role: admin\n");
    let got = rx.recv_timeout(Duration::from_secs(2));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert_eq!(got.expect("the change was held up by the busy neighbour").unwrap().rules.rules().len(), 1);
}

/// Events that leave the content as it was (a touch, a file beside it) reload nothing.
#[test]
fn a_touch_or_a_neighbour_without_a_content_change_reloads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, "paths: []\n").unwrap();
    let (tx, rx) = mpsc::channel();
    let _watcher = PolicyWatcher::spawn(path.clone(), move |r| {
        let _ = tx.send(r);
    })
    .unwrap();
    // A touch: the times change, the content does not.
    std::fs::File::options().append(true).open(&path).unwrap().set_modified(std::time::SystemTime::now()).unwrap();
    std::fs::write(dir.path().join("other.txt"), "x").unwrap();
    replace(&path, "paths: []\n");
    assert!(rx.recv_timeout(Duration::from_millis(1500)).is_err(), "reported without a content change");
    // And a real change after all that is still seen.
    replace(&path, "paths:\n  - prefix: /admin\n    require_role: admin\n");
    assert_eq!(next(&rx).unwrap().rules.rules().len(), 1);
}

/// A writer that pauses between two halves (longer than the debounce): the
/// half, which does not parse, is never reported; the whole file is.
#[test]
fn a_file_written_in_two_halves_is_reported_whole() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, "paths: []\n").unwrap();
    let (tx, rx) = mpsc::channel();
    let _watcher = PolicyWatcher::spawn(path.clone(), move |r| {
        let _ = tx.send(r);
    })
    .unwrap();
    let whole = "tenants:\n  acme:\n    lines: [CAF0123456789]\n    networks:\n    - 10.0.0.0/24\n";
    // Cut inside the flow list: the first half is not YAML.
    let (first, second) = whole.split_at(whole.find("0123").unwrap());
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(first.as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    f.write_all(second.as_bytes()).unwrap();
    drop(f);
    let p = next(&rx).expect("the half-written file was reported as an error");
    assert_eq!(p.tenants[0].networks.len(), 1);
    assert!(rx.recv_timeout(Duration::from_millis(1500)).is_err(), "more than one report for one write");
}

/// A file that stays bad is still reported (after the second read).
#[test]
fn a_file_that_stays_bad_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, "paths: []\n").unwrap();
    let (tx, rx) = mpsc::channel();
    let _watcher = PolicyWatcher::spawn(path.clone(), move |r| {
        let _ = tx.send(r);
    })
    .unwrap();
    let started = Instant::now();
    replace(&path, "tenants: [\n");
    assert!(next(&rx).is_err());
    assert!(started.elapsed() >= Duration::from_millis(700), "reported before the second read");
}
