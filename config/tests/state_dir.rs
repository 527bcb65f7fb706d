//! `state_dir`: where relative state paths (the SQLite file, the mail and SMS
//! folders) resolve, apart from the configuration's folder.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use config::{ConfigError, GatewayConfig, parse_gateway_with_env};

const FILE: &str = "/etc/gw/gateway.yaml";

fn parse_env(text: &str, env: Option<&str>) -> GatewayConfig {
    parse_gateway_with_env(text, Path::new(FILE), env.map(OsStr::new)).unwrap_or_else(|e| panic!("{e}"))
}

fn parse(text: &str) -> GatewayConfig {
    parse_env(text, None)
}

fn fail(text: &str) -> ConfigError {
    match parse_gateway_with_env(text, Path::new(FILE), None) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

#[test]
fn without_state_dir_state_stays_beside_the_file() {
    let c = parse("");
    assert_eq!(c.state_dir, PathBuf::from("/etc/gw"));
    assert_eq!(c.database, "sqlite:///etc/gw/data/gateway.db");
    assert_eq!(c.mail.dir, PathBuf::from("/etc/gw/data/mail"));
    assert_eq!(c.sms.dir, PathBuf::from("/etc/gw/data/sms"));
}

#[test]
fn state_dir_moves_every_relative_state_path_and_nothing_else() {
    let c = parse(
        "database: \"sqlite://gw.db?mode=rwc\"\npolicy_file: \"policy.yaml\"\nmail:\n  dir: outbox\n\
         sms:\n  dir: /srv/sms\nstate_dir: /var/lib/gateway\n",
    );
    assert_eq!(c.state_dir, PathBuf::from("/var/lib/gateway"));
    // Written before state_dir in the file: still resolved against it.
    assert_eq!(c.database, "sqlite:///var/lib/gateway/gw.db?mode=rwc");
    assert_eq!(c.mail.dir, PathBuf::from("/var/lib/gateway/outbox"));
    assert_eq!(c.sms.dir, PathBuf::from("/srv/sms"), "absolute paths stay");
    assert_eq!(c.policy_file, Some(PathBuf::from("/etc/gw/policy.yaml")), "configuration stays with the file");
    assert_eq!(c.base_dir, PathBuf::from("/etc/gw"));

    let c = parse("state_dir: /var/lib/gateway\n");
    assert_eq!(c.database, "sqlite:///var/lib/gateway/data/gateway.db", "the default database too");
    let c = parse("state_dir: /var/lib/gateway\ndatabase: \"sqlite:///data/g.db\"\n");
    assert_eq!(c.database, "sqlite:///data/g.db");
    let c = parse("state_dir: /var/lib/gateway\ndatabase: \"postgres://gw@db/gw\"\nsecrets:\n  totp_key: \"k\"\n");
    assert_eq!(c.database, "postgres://gw@db/gw");
}

#[test]
fn a_relative_state_dir_is_relative_to_the_file() {
    let c = parse("state_dir: state\n");
    assert_eq!(c.state_dir, PathBuf::from("/etc/gw/state"));
    assert_eq!(c.database, "sqlite:///etc/gw/state/data/gateway.db");
}

#[test]
fn systemd_state_directory_is_the_default_and_a_written_one_wins() {
    let c = parse_env("", Some("/var/lib/gateway"));
    assert_eq!(c.state_dir, PathBuf::from("/var/lib/gateway"));
    assert_eq!(c.database, "sqlite:///var/lib/gateway/data/gateway.db");
    // Several StateDirectory= entries: the first.
    let c = parse_env("", Some("/var/lib/gateway:/var/lib/other"));
    assert_eq!(c.state_dir, PathBuf::from("/var/lib/gateway"));
    // Not systemd's (relative): ignored.
    let c = parse_env("", Some("relative/dir"));
    assert_eq!(c.state_dir, PathBuf::from("/etc/gw"));
    let c = parse_env("state_dir: /srv/gw\n", Some("/var/lib/gateway"));
    assert_eq!(c.state_dir, PathBuf::from("/srv/gw"));
}

#[test]
fn a_bad_state_dir_is_placed() {
    let e = fail("listen: \"127.0.0.1:8080\"\nstate_dir: \"\"\n");
    assert_eq!((e.line, e.column), (Some(2), Some(12)), "{e}");
    assert!(e.message.contains("state_dir: an empty path"), "{e}");
    let e = fail("state_dir: [a, b]\n");
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.message.contains("a folder path"), "{e}");
    // A wrong key elsewhere is still reported by the full read.
    let e = fail("state_dir: /var/lib/gateway\nstate_dri: x\n");
    assert_eq!(e.line, Some(2), "{e}");
}
