//! The settings for TLS towards the origin, PostgreSQL, SMTP and the SMS
//! webhook: what they read into, and where their errors point.

use config::{ConfigError, GatewayConfig, parse_gateway};

// A certificate is only decoded from PEM here; it is checked as X.509 at start-up.
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUAA==\n-----END CERTIFICATE-----\n";

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), CA_PEM).unwrap();
        std::fs::write(dir.path().join("key.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .unwrap();
        Dir { dir }
    }

    fn file(&self) -> std::path::PathBuf {
        self.dir.path().join("gateway.yaml")
    }

    fn parse(&self, text: &str) -> GatewayConfig {
        parse_gateway(text, &self.file()).unwrap_or_else(|e| panic!("unexpected error: {e}"))
    }

    fn fail(&self, text: &str) -> (usize, usize, String) {
        match parse_gateway(text, &self.file()) {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(ConfigError { line, column, message, .. }) => (line.unwrap_or(0), column.unwrap_or(0), message),
        }
    }
}

#[test]
fn a_plain_origin_has_no_tls() {
    let d = Dir::new();
    for origin in ["127.0.0.1:9000", "http://127.0.0.1:9000", "localhost:9000"] {
        let c = d.parse(&format!("origin: {origin}\n"));
        assert_eq!((c.origin.port(), c.origin_tls), (9000, None), "{origin}");
    }
}

#[test]
fn an_https_origin_checks_its_host_name_by_default() {
    let d = Dir::new();
    let c = d.parse("origin: https://localhost:8443\n");
    assert_eq!(c.origin.port(), 8443);
    assert!(c.origin.ip().is_loopback());
    let tls = c.origin_tls.unwrap();
    assert_eq!((tls.sni.as_str(), tls.ca.is_none(), tls.verify), ("localhost", true, true));
    assert_eq!(d.parse("origin: https://127.0.0.1\n").origin.port(), 443);
}

#[test]
fn origin_tls_takes_a_ca_file_next_to_the_config_an_sni_and_verify() {
    let d = Dir::new();
    let c = d.parse("origin: https://127.0.0.1:8443\norigin_tls:\n  ca_file: ca.pem\n  sni: Files.Internal\n");
    let tls = c.origin_tls.unwrap();
    assert_eq!(tls.sni, "files.internal");
    let ca = tls.ca.unwrap();
    assert_eq!((ca.path, ca.certs.len()), (d.dir.path().join("ca.pem"), 1));
    assert!(tls.verify);
    let c = d.parse("origin: https://localhost:8443\norigin_tls:\n  verify: false\n");
    assert!(!c.origin_tls.unwrap().verify);
}

#[test]
fn origin_tls_errors_point_at_the_value() {
    let d = Dir::new();
    let (l, c, m) = d.fail("origin: 127.0.0.1:9000\norigin_tls:\n  verify: true\n");
    assert_eq!((l, c), (2, 1), "{m}");
    assert!(m.contains("not an https:// URL"), "{m}");
    let (l, c, m) = d.fail("origin: https://localhost\norigin_tls:\n  ca_file: missing.pem\n");
    assert_eq!((l, c), (3, 12), "{m}");
    assert!(m.contains("cannot read the CA file"), "{m}");
    let (l, _, m) = d.fail("origin: https://localhost\norigin_tls:\n  ca_file: key.pem\n");
    assert!(l == 3 && m.contains("holds no certificate"), "{m}");
    let (l, c, m) = d.fail("origin: ftp://files.internal\n");
    assert!((l, c) == (1, 9) && m.contains("http:// or https://"), "{m}");
    let (l, _, m) = d.fail("origin: https://files.internal/storage\n");
    assert!(l == 1 && m.contains("without a path"), "{m}");
    let (l, _, m) = d.fail("origin: https://localhost\norigin_tls:\n  sni: https://x\n");
    assert!(l == 3 && m.contains("URL"), "{m}");
}

#[test]
fn plain_text_to_the_database_is_refused_unless_allowed() {
    let d = Dir::new();
    assert!(!d.parse("").database_allow_plain_text);
    assert!(d.parse("database_allow_plain_text: true\n").database_allow_plain_text);
}

#[test]
fn smtp_and_webhook_take_a_ca_file() {
    let d = Dir::new();
    let c = d.parse(
        "mail:\n  transport: smtp\n  smtp:\n    host: relay.internal\n    ca_file: ca.pem\n\
         sms:\n  transport: webhook\n  webhook:\n    url: https://sms.internal/send\n    ca_file: ca.pem\n",
    );
    assert_eq!(c.mail.smtp.unwrap().ca_file.unwrap().certs.len(), 1);
    assert_eq!(c.sms.webhook.unwrap().ca_file.unwrap().path, d.dir.path().join("ca.pem"));
}

#[test]
fn a_ca_file_that_would_never_be_used_is_refused() {
    let d = Dir::new();
    let (l, _, m) = d.fail("mail:\n  smtp:\n    host: relay.internal\n    tls: none\n    ca_file: ca.pem\n");
    assert!(l == 5 && m.contains("mail.smtp.tls is none"), "{m}");
    let (l, _, m) = d.fail("sms:\n  webhook:\n    url: http://sms.internal/send\n    ca_file: ca.pem\n");
    assert!(l == 4 && m.contains("not https://"), "{m}");
}
