//! SPEC 10: "files with secrets created 0600". The SQLite database (and its
//! `-wal`/`-shm`), each mail (a live link) and each SMS file (a live code) are
//! readable by the gateway's user only, and the folders the gateway creates for
//! them are 0700; so is what `gateway demo` writes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

const ALICE: &str = "alice@acme.example";

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

/// Every regular file under `dir` (hidden staging folders included), and `dir`'s folders.
fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>, dirs: &mut Vec<std::path::PathBuf>) {
    dirs.push(dir.to_owned());
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { walk(&p, files, dirs) } else { files.push(p) }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_on_disk_are_private() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    // Folders the gateway creates itself, below ones that do not exist yet.
    env.tweak_config("  dir: mail\n", "  dir: spool/mail\n");
    env.tweak_config("  dir: sms\n", "  dir: spool/sms\n");
    env.tweak_config("gw.db", "state/gw.db");
    std::fs::write(env.dir.path().join("probe"), b"").unwrap();
    let umask_mode = mode(&env.dir.path().join("probe"));
    assert_ne!(umask_mode & 0o044, 0, "the test needs a umask that lets others read ({umask_mode:o})");
    env.database = format!("sqlite://{}", env.dir.path().join("state/gw.db").display());
    let out = env.cli(&["migrate"], None);
    assert!(out.status.success(), "migrate: {}", String::from_utf8_lossy(&out.stderr));
    env.seed_tenant("acme", ALICE, "user");
    env.start().await;

    // A mail (reset link) and an SMS (enrolment code).
    let c = env.client(INTERNET);
    assert_eq!(post_form(&c, &env, "/auth/password/forgot", &[("email", ALICE)]).await.status(), 200);
    let mail = env.dir.path().join("spool/mail");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_dir(&mail)
        .map(|d| d.flatten().any(|e| e.path().extension().is_some_and(|x| x == "eml")))
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "no mail written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(login(&c, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    assert_eq!(
        post_form(&c, &env, "/auth/2fa/sms", &[("phone", "090-1234-5678"), ("rd", "/files")]).await.status(),
        200
    );

    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for sub in ["state", "spool"] {
        walk(&env.dir.path().join(sub), &mut files, &mut dirs);
    }
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    for want in ["gw.db", "gw.db-wal", "gw.db-shm", ".eml", ".json"] {
        assert!(names.iter().any(|n| n.ends_with(want)), "no {want} file among {names:?}");
    }
    for f in &files {
        assert_eq!(mode(f), 0o600, "{} is {:o}", f.display(), mode(f));
    }
    for d in &dirs {
        assert_eq!(mode(d), 0o700, "{} is {:o}", d.display(), mode(d));
    }
    env.cleanup().await;
}

/// `gateway demo` writes its config and database into a folder of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_files_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let metrics = free_port();
    let mut child = std::process::Command::new(bin())
        .args(["demo", "--dir", &path_of(&dir)])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--origin", &format!("127.0.0.1:{}", free_port())])
        .args(["--metrics", &format!("127.0.0.1:{metrics}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reqwest::get(format!("http://127.0.0.1:{metrics}/readyz")).await.is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "demo not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let result = std::panic::catch_unwind(|| {
        assert_eq!(mode(&dir), 0o700, "demo folder is {:o}", mode(&dir));
        for f in ["gateway.yaml", "gateway.db", "gateway.db-wal", "gateway.db-shm"] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f} is {:o}", mode(&dir.join(f)));
        }
        for d in ["mail", "sms"] {
            assert_eq!(mode(&dir.join(d)), 0o700, "{d} is {:o}", mode(&dir.join(d)));
        }
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
