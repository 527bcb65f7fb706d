//! The `tls:` block: certificates read and checked at load, every refusal at
//! the line and column of what to fix.

#[path = "../../tests/support/test_ca.rs"]
mod test_ca;

use std::time::Duration;

use config::{ConfigError, GatewayConfig, parse_gateway};
use test_ca::TestCa;

struct Files {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
}

/// A directory with a CA-signed certificate for each hostname, a wildcard one,
/// and a certificate whose key file holds another key.
fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("config test CA");
    ca.leaf(&["storage.example.net"]).write(dir.path(), "storage");
    ca.leaf(&["line.storage.example.net"]).write(dir.path(), "line");
    ca.leaf(&["*.storage.example.net"]).write(dir.path(), "wild");
    let other = ca.leaf(&["storage.example.net"]);
    std::fs::write(dir.path().join("other.key"), &other.key_pem).unwrap();
    let config = dir.path().join("gateway.yaml");
    Files { dir, config }
}

const HOSTS: &str = "hosts:\n  ordinary: storage.example.net\n  line_auth: line.storage.example.net\n";

fn parse(f: &Files, text: &str) -> Result<GatewayConfig, ConfigError> {
    parse_gateway(text, &f.config)
}

fn fail(f: &Files, text: &str) -> (usize, usize, String) {
    match parse(f, text) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(ConfigError { file, line, column, message }) => {
            assert_eq!(file, f.config);
            (line.unwrap_or(0), column.unwrap_or(0), message)
        }
    }
}

const GOOD: &str = "tls:
  listen: 127.0.0.1:8443
  certificates:
    - hosts: [storage.example.net]
      cert: storage.pem
      key: storage.key
    - hosts: [line.storage.example.net]
      cert: line.pem
      key: line.key
";

#[test]
fn a_good_block_loads_with_paths_resolved_and_defaults() {
    let f = files();
    let c = parse(&f, &format!("{HOSTS}{GOOD}")).unwrap();
    let tls = c.tls.as_ref().unwrap();
    assert_eq!(tls.listen, "127.0.0.1:8443".parse().unwrap());
    assert_eq!(tls.certificates[0].cert, f.dir.path().join("storage.pem"));
    assert_eq!(tls.certificates[1].key, f.dir.path().join("line.key"));
    assert_eq!(tls.hsts_max_age, 365 * 86_400);
    assert_eq!(tls.hsts_value().as_deref(), Some("max-age=31536000"));
    assert_eq!(tls.handshake_timeout, Duration::from_secs(10));
    // Links are https on the TLS port when public_urls are not written.
    assert_eq!(c.public_url(false), "https://storage.example.net:8443");
    assert_eq!(c.public_url(true), "https://line.storage.example.net:8443");
    let on_443 = parse(&f, &format!("{HOSTS}{}", GOOD.replace(":8443", ":443"))).unwrap();
    assert_eq!(on_443.public_url(false), "https://storage.example.net");
    let text = format!("{HOSTS}{GOOD}  hsts_max_age: 0\n");
    assert_eq!(parse(&f, &text).unwrap().tls.unwrap().hsts_value(), None);
    let text = format!("{HOSTS}{GOOD}  hsts_include_subdomains: true\n  hsts_max_age: 600\n");
    assert_eq!(parse(&f, &text).unwrap().tls.unwrap().hsts_value().as_deref(), Some("max-age=600; includeSubDomains"));
    assert!(parse(&f, HOSTS).unwrap().tls.is_none(), "no tls block, no TLS");
}

#[test]
fn one_wildcard_certificate_can_cover_both_names() {
    let f = files();
    let text = format!(
        "{HOSTS}tls:\n  listen: 127.0.0.1:8443\n  certificates:\n    - hosts: [storage.example.net, \"*.storage.example.net\"]\n      cert: wild.pem\n      key: wild.key\n"
    );
    // The wildcard certificate is not valid for storage.example.net itself.
    let (line, column, message) = fail(&f, &text);
    assert_eq!((line, column), (8, 7), "{message}");
    assert!(message.contains("not valid for \"storage.example.net\""), "{message}");
    let text = text
        .replace("storage.example.net, ", "")
        .replace("ordinary: storage.example.net", "ordinary: a.storage.example.net");
    let c = parse(&f, &text).unwrap();
    assert_eq!(c.tls.unwrap().entry_for("line.storage.example.net"), Some(0));
}

#[test]
fn refusals_point_at_what_to_fix() {
    let f = files();
    let cases: Vec<(String, (usize, usize), &str)> = vec![
        (
            format!("{HOSTS}{}", GOOD.replace("cert: line.pem", "cert: missing.pem")),
            (11, 7),
            "cannot read the certificate file",
        ),
        (format!("{HOSTS}{}", GOOD.replace("key: line.key", "key: gone.key")), (12, 7), "cannot read the key file"),
        (
            format!("{HOSTS}{}", GOOD.replace("key: storage.key", "key: other.key")),
            (9, 7),
            "is not the key of the certificate",
        ),
        (
            format!(
                "{HOSTS}{}",
                GOOD.replace("cert: line.pem\n      key: line.key", "cert: storage.pem\n      key: storage.key")
            ),
            (11, 7),
            "not valid for \"line.storage.example.net\"",
        ),
        (
            format!("{HOSTS}{}", GOOD.replace("[line.storage.example.net]", "[other.example.net]")),
            (6, 3),
            "covers hosts.line_auth",
        ),
        (
            format!(
                "{HOSTS}{}",
                GOOD.replace("[line.storage.example.net]", "[line.storage.example.net, Storage.Example.Net.]")
            ),
            (10, 7),
            "\"storage.example.net\" is already listed by entry 1",
        ),
        (
            format!("{HOSTS}session:\n  secure_cookies: false\n{GOOD}"),
            (5, 3),
            "session.secure_cookies is false but tls is configured",
        ),
        (format!("listen: 127.0.0.1:8443\n{HOSTS}{GOOD}"), (6, 3), "port of its own"),
        (format!("{HOSTS}tls:\n  listen: 127.0.0.1:8443\n  certificates: []\n"), (6, 3), "tls.certificates is empty"),
        (format!("{HOSTS}{}", GOOD.replace("[storage.example.net]", "[]")), (7, 7), "hosts is empty"),
        (
            format!("{HOSTS}{}", GOOD.replace("[storage.example.net]", "[\"https://storage.example.net\"]")),
            (7, 15),
            "is a URL",
        ),
        (format!("{HOSTS}{GOOD}  handshake_timeout: 0s\n"), (13, 22), "zero"),
        (format!("{HOSTS}{GOOD}  ciphers: all\n"), (13, 3), "unknown field"),
    ];
    for (text, (line, column), needle) in cases {
        let (l, c, message) = fail(&f, &text);
        assert!(message.contains(needle), "{needle:?} not in {message:?}\n{text}");
        assert_eq!((l, c), (line, column), "{message}\n{text}");
    }
}
