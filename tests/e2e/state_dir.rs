//! `state_dir`: state is written there, not beside a (read-only) configuration.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::bin;

fn migrate(config: &Path, state_directory: Option<&Path>) -> Output {
    let mut cmd = Command::new(bin());
    cmd.arg("--config").arg(config).arg("migrate").stdin(Stdio::null());
    match state_directory {
        Some(dir) => cmd.env("STATE_DIRECTORY", dir),
        None => cmd.env_remove("STATE_DIRECTORY"),
    };
    cmd.output().expect("run gateway")
}

#[test]
fn the_database_goes_to_state_dir_not_the_config_folder() {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc");
    let state = root.path().join("state");
    std::fs::create_dir_all(&etc).unwrap();
    let config = etc.join("gateway.yaml");

    // Written in the file, relative to it.
    std::fs::write(&config, "state_dir: ../state\npolicy_file: null\n").unwrap();
    let out = migrate(&config, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(state.join("data/gateway.db").is_file(), "no database in the state folder");
    assert_eq!(std::fs::read_dir(&etc).unwrap().count(), 1, "something was written beside the configuration");

    // Not written: systemd's $STATE_DIRECTORY.
    let systemd = root.path().join("systemd-state");
    std::fs::write(&config, "database: \"sqlite://gw.db\"\npolicy_file: null\n").unwrap();
    let out = migrate(&config, Some(&systemd));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(systemd.join("gw.db").is_file());
    assert_eq!(std::fs::read_dir(&etc).unwrap().count(), 1);

    // Neither: beside the configuration, as before state_dir existed.
    let out = migrate(&config, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(etc.join("gw.db").is_file());

    let bad = root.path().join("bad.yaml");
    std::fs::write(&bad, "policy_file: null\nstate_dir: \"\"\n").unwrap();
    let out = migrate(&bad, None);
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.yaml:2:12: state_dir: an empty path"));
}
