//! `shutdown:` and `origin_timeouts:`: defaults, accepted values, and each
//! refusal placed on its line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{ConfigError, GatewayConfig, parse_gateway};

const FILE: &str = "/etc/gw/gateway.yaml";

fn parse(text: &str) -> GatewayConfig {
    parse_gateway(text, Path::new(FILE)).unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

fn fail(text: &str) -> (usize, String) {
    match parse_gateway(text, Path::new(FILE)) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(ConfigError { line, message, .. }) => (line.unwrap_or(0), message),
    }
}

#[test]
fn defaults() {
    let c = parse("");
    assert_eq!(c.shutdown.grace, Duration::from_secs(10));
    assert_eq!(c.shutdown.drain, Duration::from_secs(30));
    assert_eq!(c.shutdown.upgrade_socket, None);
    assert_eq!(c.origin_timeouts.connect, Duration::from_secs(5));
    assert_eq!(c.origin_timeouts.read, Duration::from_secs(60));
}

#[test]
fn written_values_and_a_zero_grace() {
    let c = parse(
        "shutdown:\n  grace: 0\n  drain: 2m\n  upgrade_socket: run/up.sock\norigin_timeouts:\n  connect: 2s\n  read: 90s\n",
    );
    assert_eq!(c.shutdown.grace, Duration::ZERO);
    assert_eq!(c.shutdown.drain, Duration::from_secs(120));
    assert_eq!(c.shutdown.upgrade_socket, Some(PathBuf::from("/etc/gw/run/up.sock")), "relative to the file");
    assert_eq!(c.origin_timeouts.connect, Duration::from_secs(2));
    assert_eq!(c.origin_timeouts.read, Duration::from_secs(90));
    assert_eq!(parse("shutdown:\n  grace: 0s\n").shutdown.grace, Duration::ZERO);
}

#[test]
fn zero_where_it_would_switch_something_off_is_refused() {
    for (text, line) in [
        ("shutdown:\n  drain: 0\n", 2),
        ("origin_timeouts:\n  connect: 0s\n", 2),
        ("\norigin_timeouts:\n  read: 0\n", 3),
    ] {
        let (at, message) = fail(text);
        assert_eq!(at, line, "{text}: {message}");
        assert!(message.contains("zero"), "{message}");
    }
    let (_, message) = fail("shutdown:\n  grace: -1\n");
    assert!(message.contains("duration"), "{message}");
    let (at, message) = fail("shutdown:\n  grace: 1s\n  linger: 2s\n");
    assert_eq!(at, 3);
    assert!(message.contains("linger"), "{message}");
}
