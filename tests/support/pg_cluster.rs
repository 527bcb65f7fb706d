//! A PostgreSQL cluster of the test's own that accepts TLS connections only:
//! `initdb` into a temporary folder, the test's certificate and key, a
//! `pg_hba.conf` with `hostssl` lines and no `host` line, on a free port.
//!
//! PostgreSQL refuses to run as root; when the tests do (here and in CI), the
//! cluster's files belong to the `postgres` user and its commands run through
//! `runuser`. Without `initdb` the caller skips, except under `CI`, where that
//! is a failure.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// `initdb` from `PATH`, `/usr/local/bin` or Debian's `/usr/lib/postgresql/N/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.push(PathBuf::from("/usr/local/bin"));
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort();
        dirs.extend(versions.into_iter().rev());
    }
    dirs.into_iter().find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The uid and gid of `postgres`, for the files of a cluster started as root.
fn postgres_ids() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, "postgres"]).output().expect("run id");
        assert!(out.status.success(), "there is no postgres user to run the test cluster as (running as root)");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("numeric id")
    };
    (id("-u"), id("-g"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("local address").port()
}

/// A running cluster; stopped, and its folder removed, when dropped.
pub struct TlsCluster {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    dir: tempfile::TempDir,
    as_root: bool,
}

impl TlsCluster {
    /// Starts a cluster that presents `cert_pem`/`key_pem`. `None` (after
    /// saying so) when PostgreSQL is not installed, outside CI.
    pub fn start(cert_pem: &str, key_pem: &str) -> Option<TlsCluster> {
        let Some(bin) = find_bin_dir() else {
            assert!(!in_ci(), "initdb and pg_ctl are required in CI (PostgreSQL server binaries)");
            println!("SKIPPED: initdb not found (PATH, /usr/local/bin, /usr/lib/postgresql/*/bin)");
            return None;
        };
        let as_root = running_as_root();
        let dir = tempfile::tempdir().expect("temporary folder");
        let data = dir.path().join("data");
        let mut cluster = TlsCluster { port: 0, bin, data, dir, as_root };
        if as_root {
            let (uid, gid) = postgres_ids();
            std::os::unix::fs::chown(cluster.dir.path(), Some(uid), Some(gid)).expect("chown the cluster folder");
        }
        let out = cluster
            .run("initdb", &["-D", path(&cluster.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        assert!(out.status.success(), "initdb failed:\n{}", text(&out));

        cluster.write("server.crt", cert_pem);
        cluster.write("server.key", key_pem);
        // TLS or nothing: a plain TCP connection matches no line and is refused.
        cluster.write(
            "pg_hba.conf",
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
        );
        let mut conf = std::fs::read_to_string(cluster.data.join("postgresql.conf")).expect("postgresql.conf");
        cluster.port = free_port();
        conf.push_str(&format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nssl = on\n\
             ssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nfsync = off\nmax_connections = 40\n",
            cluster.port,
            cluster.dir.path().display()
        ));
        cluster.write("postgresql.conf", &conf);
        let log = cluster.dir.path().join("server.log");
        let out = cluster.run("pg_ctl", &["-D", path(&cluster.data), "-l", path(&log), "-w", "-t", "60", "start"]);
        let server_log = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(out.status.success(), "pg_ctl start failed:\n{}\n{server_log}", text(&out));
        Some(cluster)
    }

    /// A URL to the cluster's `postgres` database by `host`, with `query`.
    pub fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{query}", self.port)
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Writes a file into the data folder, readable by its owner only (the
    /// server refuses a key that others can read).
    fn write(&self, name: &str, contents: &str) {
        use std::os::unix::fs::PermissionsExt;
        let file = self.data.join(name);
        std::fs::write(&file, contents).unwrap_or_else(|e| panic!("write {name}: {e}"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        if self.as_root {
            let (uid, gid) = postgres_ids();
            std::os::unix::fs::chown(&file, Some(uid), Some(gid)).expect("chown");
        }
    }

    /// Runs one of the server's programs, as `postgres` when we are root.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(self.dir.path());
        cmd.output().unwrap_or_else(|e| panic!("run {program}: {e}"))
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self.run("pg_ctl", &["-D", path(&self.data), "-m", "immediate", "-w", "stop"]);
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
