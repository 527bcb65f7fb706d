use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{ConfigError, GatewayConfig, MailTransport, SmsTransport, SmtpTls, parse_gateway};

const FILE: &str = "/etc/gw/gateway.yaml";

fn parse(text: &str) -> GatewayConfig {
    match parse_gateway(text, Path::new(FILE)) {
        Ok(c) => c,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// The error's line, column and message.
fn fail(text: &str) -> (usize, usize, String) {
    match parse_gateway(text, Path::new(FILE)) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(ConfigError { file, line, column, message }) => {
            assert_eq!(file, PathBuf::from(FILE));
            (line.unwrap_or(0), column.unwrap_or(0), message)
        }
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn an_empty_file_gives_the_defaults_resolved_against_its_directory() {
    for text in ["", "\n# only a comment\n", "---\n"] {
        let c = parse(text);
        assert_eq!(c.listen, addr("127.0.0.1:8080"));
        assert_eq!(c.hosts.ordinary, "storage.localhost");
        assert_eq!(c.hosts.line_auth, "line.storage.localhost");
        assert_eq!(c.origin, addr("127.0.0.1:9000"));
        assert_eq!(c.database, "sqlite:///etc/gw/data/gateway.db");
        assert!(c.trusted_proxies.is_empty());
        assert!(c.carrier.trusted_networks.is_empty());
        assert_eq!(c.carrier.line_header, "X-Line-Id");
        assert_eq!(c.carrier.region_header.as_deref(), Some("X-Line-Region"));
        assert_eq!(c.carrier.consent_regions, vec!["west".to_owned()]);
        assert_eq!(c.session.cookie_name, "gw_session");
        assert!(c.session.secure_cookies);
        assert_eq!(c.session.lifetime, Duration::from_secs(12 * 3600));
        assert_eq!(c.session.idle_timeout, Duration::from_secs(2 * 3600));
        assert_eq!(c.session.cache_capacity, 100_000);
        assert_eq!(c.session.cache_ttl, Duration::from_secs(30));
        assert_eq!(c.login.max_body_bytes, 16_384);
        assert_eq!(c.login.hash_concurrency, 2);
        assert_eq!(c.login.throttle_per_minute, 30);
        assert_eq!(c.login.second_factor_lock_after, 10);
        assert_eq!(c.links.validity, Duration::from_secs(14 * 86_400));
        assert_eq!(c.connections.header_timeout, Duration::from_secs(10));
        assert_eq!(c.connections.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.connections.max_per_address, 256);
        assert_eq!(c.connections.max_per_trusted_address, 0);
        assert!(c.remove_headers.is_empty());
        assert_eq!(c.public_urls.ordinary, None);
        assert_eq!(c.public_url(false), "https://storage.localhost");
        assert_eq!(c.public_url(true), "https://line.storage.localhost");
        assert_eq!(c.mail.transport, MailTransport::File);
        assert_eq!(c.mail.dir, PathBuf::from("/etc/gw/data/mail"));
        assert_eq!(c.mail.from, "noreply@example.net");
        assert!(c.mail.smtp.is_none());
        assert_eq!(c.sms.transport, SmsTransport::File);
        assert_eq!(c.sms.dir, PathBuf::from("/etc/gw/data/sms"));
        assert_eq!(c.sms.allowed_country_codes, vec!["81".to_owned()]);
        assert_eq!(c.sms.daily_budget_per_tenant, 50);
        assert_eq!(c.metrics.listen, Some(addr("127.0.0.1:9079")));
        assert_eq!(c.policy_file, Some(PathBuf::from("/etc/gw/policy.yaml")));
        assert!(!c.policy_file_explicit);
        assert_eq!(c.ui.product_name, "Storage");
        assert_eq!(c.threads, 0);
        assert!(c.secrets.totp_key.is_none());
        assert_eq!(c.path, PathBuf::from(FILE));
        assert_eq!(c.base_dir, PathBuf::from("/etc/gw"));
    }
}

#[test]
fn default_matches_an_empty_file_except_for_resolution() {
    let d = GatewayConfig::default();
    let c = parse("");
    assert_eq!(d.path, PathBuf::from("gateway.yaml"));
    assert_eq!(d.base_dir, PathBuf::from("."));
    assert_eq!(d.database, "sqlite://data/gateway.db");
    assert_eq!(d.policy_file, Some(PathBuf::from("policy.yaml")));
    assert_eq!((d.listen, d.origin, d.hosts, d.session), (c.listen, c.origin, c.hosts, c.session));
}

#[test]
fn the_spec_keys_are_accepted() {
    let c = parse(
        r#"
listen: "0.0.0.0:8443"
hosts:
  ordinary: "Storage.Example.NET."
  line_auth: "line.storage.example.net"
origin: "127.0.0.1:9001"
database: "postgres://gw@db/gw"
secrets:
  totp_key: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
trusted_proxies: ["10.0.0.0/8", "192.0.2.1"]
carrier:
  trusted_networks: ["127.0.0.1/32", "2001:db8::1"]
  line_header: "X-Carrier-Line"
  region_header: null
  consent_regions: ["west", "north"]
mail:
  transport: file
  dir: "/var/mail/gw"
  from: "gw@example.net"
sms:
  transport: file
  dir: "sms-out"
metrics:
  listen: "127.0.0.1:9200"
policy_file: "ops/policy.yaml"
threads: 4
"#,
    );
    assert_eq!(c.listen, addr("0.0.0.0:8443"));
    assert_eq!(c.hosts.ordinary, "storage.example.net");
    assert_eq!(c.origin, addr("127.0.0.1:9001"));
    assert_eq!(c.database, "postgres://gw@db/gw");
    assert_eq!(c.trusted_proxies, vec!["10.0.0.0/8".parse().unwrap(), "192.0.2.1/32".parse().unwrap()]);
    assert_eq!(c.carrier.trusted_networks[1], "2001:db8::1/128".parse().unwrap());
    assert_eq!(c.carrier.line_header, "X-Carrier-Line");
    assert_eq!(c.carrier.region_header, None);
    assert_eq!(c.carrier.consent_regions.len(), 2);
    assert_eq!(c.mail.dir, PathBuf::from("/var/mail/gw"));
    assert_eq!(c.sms.dir, PathBuf::from("/etc/gw/sms-out"));
    assert_eq!(c.metrics.listen, Some(addr("127.0.0.1:9200")));
    assert_eq!(c.policy_file, Some(PathBuf::from("/etc/gw/ops/policy.yaml")));
    assert!(c.policy_file_explicit);
    assert_eq!(c.threads, 4);
}

#[test]
fn origin_names_are_resolved_at_load() {
    let c = parse("origin: localhost:9000\n");
    assert_eq!(c.origin.port(), 9000);
    assert!(c.origin.ip().is_loopback());
}

#[test]
fn policy_file_can_be_switched_off() {
    let c = parse("policy_file: null\n");
    assert_eq!(c.policy_file, None);
    assert!(c.policy_file_explicit);
}

#[test]
fn metrics_can_be_switched_off() {
    assert_eq!(parse("metrics:\n  listen: off\n").metrics.listen, None);
    assert_eq!(parse("metrics:\n  listen: null\n").metrics.listen, None);
}

#[test]
fn sqlite_urls_are_resolved_and_others_kept() {
    assert_eq!(parse("database: sqlite://db/g.db?mode=rwc\n").database, "sqlite:///etc/gw/db/g.db?mode=rwc");
    assert_eq!(parse("database: sqlite:///srv/g.db\n").database, "sqlite:///srv/g.db");
    assert_eq!(parse("database: 'sqlite::memory:'\n").database, "sqlite::memory:");
    assert_eq!(parse("database: postgresql://a@b/c\nsecrets:\n  totp_key: k\n").database, "postgresql://a@b/c");
}

#[test]
fn postgres_needs_a_totp_key() {
    let err =
        config::parse_gateway("threads: 1\ndatabase: postgres://a@b/c\n", std::path::Path::new("/etc/gw/gateway.yaml"))
            .expect_err("accepted without a key");
    let text = err.to_string();
    assert!(text.contains("gateway.yaml:2:1") && text.contains("secrets.totp_key"), "{text}");
}

#[test]
fn durations_take_units() {
    let c = parse("session:\n  lifetime: 90s\n  idle_timeout: 15m\n  cache_ttl: 45\nlinks:\n  validity: 2d\n");
    assert_eq!(c.session.lifetime, Duration::from_secs(90));
    assert_eq!(c.session.idle_timeout, Duration::from_secs(900));
    assert_eq!(c.session.cache_ttl, Duration::from_secs(45));
    assert_eq!(c.links.validity, Duration::from_secs(172_800));
}

#[test]
fn transports_with_their_blocks() {
    let c = parse(
        r#"
mail:
  transport: smtp
  smtp:
    host: smtp.example.net
    tls: tls
    username: gw
    password: "pw-inline"
sms:
  transport: webhook
  webhook:
    url: https://sms.example.net/send/
    headers:
      Authorization: "Bearer abc"
"#,
    );
    let smtp = c.mail.smtp.as_ref().unwrap();
    assert_eq!((smtp.host.as_str(), smtp.port, smtp.tls), ("smtp.example.net", 587, SmtpTls::Tls));
    assert_eq!(smtp.password.as_ref().map(|p| p.expose()), Some("pw-inline"));
    let hook = c.sms.webhook.as_ref().unwrap();
    assert_eq!(hook.url, "https://sms.example.net/send");
    assert_eq!(hook.headers["Authorization"].expose(), "Bearer abc");
    assert_eq!(hook.body_template, r#"{"to":"{to}","body":"{body}"}"#);
    let debug = format!("{c:?}");
    assert!(!debug.contains("pw-inline") && !debug.contains("Bearer abc"), "{debug}");
    assert!(debug.contains("Secret(***)"));
}

#[test]
fn secrets_come_from_the_environment() {
    // Cargo sets this for the test process; no need to mutate the environment.
    let c = parse("secrets:\n  totp_key: { env: CARGO_PKG_NAME }\n");
    assert_eq!(c.secrets.totp_key.as_ref().map(|s| s.expose()), Some(env!("CARGO_PKG_NAME")));
    let (line, column, message) = fail("secrets:\n  totp_key: { env: GW_TEST_SURELY_UNSET_VARIABLE }\n");
    assert_eq!((line, column), (2, 13));
    assert!(message.contains("GW_TEST_SURELY_UNSET_VARIABLE"), "{message}");
}

#[test]
fn secrets_and_the_database_come_from_files_next_to_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(dir.path().join("secrets/totp"), "s3cret\n").unwrap();
    std::fs::write(dir.path().join("secrets/db"), "postgres://gw:pw@db/gw\r\n").unwrap();
    let path = dir.path().join("gateway.yaml");
    std::fs::write(
        &path,
        "database:\n  file: secrets/db\nsecrets:\n  totp_key:\n    file: secrets/totp\nmail:\n  dir: out/mail\n",
    )
    .unwrap();
    let c = config::load_gateway(&path).unwrap();
    assert_eq!(c.secrets.totp_key.as_ref().map(|s| s.expose()), Some("s3cret"));
    assert_eq!(c.database, "postgres://gw:pw@db/gw");
    assert_eq!(c.mail.dir, dir.path().join("out/mail"));
    assert_eq!(c.base_dir, dir.path());
    let debug = format!("{c:?}");
    assert!(!debug.contains("s3cret") && !debug.contains(":pw@"), "{debug}");

    let missing = "secrets:\n  totp_key:\n    file: secrets/nope\n";
    std::fs::write(&path, missing).unwrap();
    let e = config::load_gateway(&path).unwrap_err();
    assert_eq!((e.line, e.column), (Some(3), Some(5)));
    assert!(e.message.contains("secrets/nope"), "{e}");
}

#[test]
fn a_missing_file_is_an_error_without_location() {
    let e = config::load_gateway(Path::new("/nonexistent/gateway.yaml")).unwrap_err();
    assert_eq!((e.line, e.column), (None, None));
    assert!(e.to_string().starts_with("/nonexistent/gateway.yaml: cannot read"), "{e}");
}

#[test]
fn value_errors_point_at_the_value() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        ("listen: nope\n", (1, 9), "ip:port"),
        ("bogus: 1\n", (1, 1), "unknown field `bogus`"),
        ("hosts:\n  ordinary: storage.localhost:8080\n", (2, 13), "port"),
        ("hosts:\n  line_auth: https://x\n", (2, 14), "scheme"),
        ("hosts:\n  ordinary: a/b\n", (2, 13), "slash"),
        ("hosts:\n  ordinary: \"a b\"\n", (2, 13), "white space"),
        ("hosts:\n  ordinery: a\n", (2, 3), "unknown field `ordinery`"),
        ("origin: no-port-here\n", (1, 9), "no port"),
        ("origin: no.such.host.invalid:9000\n", (1, 9), "cannot resolve"),
        ("database: mysql://u:pw@h/db\n", (1, 11), "unsupported database URL scheme \"mysql\""),
        ("trusted_proxies:\n  - 10.0.0.0/8\n  - 10.0.0.0/40\n", (3, 5), "10.0.0.0/40"),
        ("carrier:\n  line_header: \"X Line\"\n", (2, 16), "header name"),
        ("carrier:\n  region_header: \"X:Region\"\n", (2, 18), "header name"),
        ("session:\n  cookie_name: \"a;b\"\n", (2, 16), "cookie name"),
        ("session:\n  lifetime: 0s\n", (2, 13), "zero"),
        ("session:\n  idle_timeout: 3w\n", (2, 17), "15m"),
        ("session:\n  cache_ttl: 0\n", (2, 14), "zero"),
        ("login:\n  hash_concurrency: 0\n", (2, 21), "at least 1"),
        ("login:\n  second_factor_lock_after: 0\n", (2, 29), "at least 1"),
        ("login:\n  second_factor_lock_after: 5000000000\n", (2, 29), "too large"),
        ("tenant_networks:\n  widest_ipv4_prefix: 0\n", (2, 23), "from 1 to 32"),
        ("tenant_networks:\n  widest_ipv6_prefix: 129\n", (2, 23), "from 1 to 128"),
        ("public_urls:\n  ordinary: storage.example.net\n", (2, 13), "absolute"),
        ("public_urls:\n  line_auth: \"https://x.example/auth\"\n", (2, 14), "a path"),
        ("public_urls:\n  ordinary: \"https://u@x.example\"\n", (2, 13), "user info"),
        ("remove_headers: [\"X-Ok\", \"Not Ok\"]\n", (1, 26), "header name"),
        ("connections:\n  header_timeout: 0s\n", (2, 19), "zero"),
        ("links:\n  public_base_url: \"https://x.example\"\n", (2, 3), "unknown field"),
        ("mail:\n  transport: pigeon\n", (2, 14), "unknown variant `pigeon`"),
        ("metrics:\n  listen: everywhere\n", (2, 11), "ip:port"),
        (
            "sms:\n  transport: webhook\n  webhook:\n    url: https://x\n    headers:\n      \"Bad Header\": v\n",
            (6, 7),
            "header name",
        ),
        ("sms:\n  allowed_country_codes: [\"81\", \"081\"]\n", (2, 33), "not a country calling code"),
        ("sms:\n  allowed_country_codes:\n    - \"1234\"\n", (3, 7), "1 to 3 digits"),
        ("sms:\n  allowed_country_codes: []\n", (2, 3), "at least one code"),
        ("sms:\n  daily_budget_per_tenant: -1\n", (2, 28), "expected u32"),
    ];
    for (text, place, needle) in cases {
        let (line, column, message) = fail(text);
        assert_eq!((line, column), *place, "{text:?}: {message}");
        assert!(message.contains(needle), "{text:?}: {message:?} lacks {needle:?}");
    }
}

#[test]
fn sms_limits_are_read() {
    let c = parse("sms:\n  allowed_country_codes: [\"+81\", \"1\", 44]\n  daily_budget_per_tenant: 0\n");
    assert_eq!(c.sms.allowed_country_codes, vec!["81".to_owned(), "1".to_owned(), "44".to_owned()]);
    assert_eq!(c.sms.daily_budget_per_tenant, 0);
}

#[test]
fn checks_across_values_point_at_the_key() {
    let (l, c, m) = fail("hosts:\n  ordinary: same.example\n  # comment\n  line_auth: SAME.example.\n");
    assert_eq!((l, c), (4, 3));
    assert!(m.contains("must differ"), "{m}");
    let (l, c, m) = fail("ui:\n  product_name: X\nmail:\n  from: a@b\n  transport: smtp\n");
    assert_eq!((l, c), (5, 3));
    assert!(m.contains("mail.smtp"), "{m}");
    let (l, c, m) = fail("sms:\n  transport: webhook\n");
    assert_eq!((l, c), (2, 3));
    assert!(m.contains("sms.webhook"), "{m}");
}

#[test]
fn display_is_file_line_column_message() {
    let e = parse_gateway("listen: nope\n", Path::new(FILE)).unwrap_err();
    assert!(e.to_string().starts_with("/etc/gw/gateway.yaml:1:9: "), "{e}");
}

#[test]
fn tenant_network_limits_default_to_16_and_32() {
    let c = parse("");
    assert_eq!(c.tenant_networks.limits(), policy::NetworkLimits { widest_ipv4_prefix: 16, widest_ipv6_prefix: 32 });
    let c = parse("tenant_networks:\n  widest_ipv4_prefix: 24\n  widest_ipv6_prefix: 48\n");
    assert_eq!(c.tenant_networks.limits(), policy::NetworkLimits { widest_ipv4_prefix: 24, widest_ipv6_prefix: 48 });
}

const PROVIDERS: &str = "login:\n  providers:\n    - id: google\n      kind: oidc\n      issuer: \"https://accounts.example\"\n      client_id: gw\n      client_secret: s3cret\n      label: { en: \"Sign in with Google\", ja: \"Googleでログイン\" }\n    - id: fb\n      kind: oauth2\n      authorize_url: \"https://fb.example/auth\"\n      token_url: \"https://fb.example/token\"\n      userinfo_url: \"https://fb.example/me\"\n      subject_field: id\n      client_id: gw\n      label: { en: \"Facebook\", ja: \"Facebook\" }\n";

#[test]
fn login_providers_in_order_with_their_defaults() {
    let c = parse(PROVIDERS);
    let ids: Vec<&str> = c.login.providers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["google", "fb"]);
    let google = &c.login.providers[0];
    assert_eq!(google.kind, config::ProviderKind::Oidc);
    assert_eq!(google.scopes(), ["openid", "email"]);
    assert_eq!(google.client_secret.as_ref().map(|s| s.expose()), Some("s3cret"));
    assert!(!format!("{google:?}").contains("s3cret"), "secrets stay out of Debug");
    assert_eq!(c.login.providers[1].subject_field.as_deref(), Some("id"));
    assert!(c.login.providers[1].scopes().is_empty());
    assert_eq!(c.login.providers[1].label.ja, "Facebook");
    // The other login settings keep their defaults.
    assert_eq!(c.login.throttle_per_minute, 30);
}

#[test]
fn login_providers_are_refused_where_they_are_wrong() {
    let (line, col, msg) = fail(&PROVIDERS.replace("id: fb", "id: ad"));
    assert_eq!((line, col), (9, 11), "{msg}");
    assert!(msg.contains("reserved"), "{msg}");
    let (line, _, msg) = fail(&PROVIDERS.replace("id: fb", "id: Face_Book"));
    assert_eq!(line, 9, "{msg}");
    let (line, _, msg) = fail(&PROVIDERS.replace("https://accounts.example", "http://accounts.example"));
    assert_eq!(line, 5, "{msg}");
    assert!(msg.contains("https://"), "{msg}");
    let (line, _, msg) = fail(&PROVIDERS.replace("https://fb.example/me", "https://u:p@fb.example/me"));
    assert_eq!(line, 13, "{msg}");
    // Loopback may be plain http (tests).
    parse(&PROVIDERS.replace("https://accounts.example", "http://127.0.0.1:9400"));
    // Problems of a whole entry point at the entry.
    let (line, col, msg) = fail(&PROVIDERS.replace("id: fb", "id: google"));
    assert!(msg.contains("used twice"), "{msg}");
    assert_eq!((line, col), (9, 5), "{msg}");
    let (line, col, msg) = fail(&PROVIDERS.replace("      subject_field: id\n", ""));
    assert!(msg.contains("subject_field") && msg.contains("\"fb\""), "{msg}");
    assert_eq!((line, col), (9, 5), "{msg}");
    let (line, _, msg) = fail(&PROVIDERS.replace("https://fb.example/token", "http://fb.example/token"));
    assert_eq!(line, 12, "{msg}");
    let (line, _, msg) =
        fail(&PROVIDERS.replace("client_id: gw\n      client_secret", "client_id: \"\"\n      client_secret"));
    assert_eq!(line, 6, "{msg}");
    assert!(msg.contains("client_id"), "{msg}");
    let (line, _, msg) = fail(&PROVIDERS.replace(", ja: \"Facebook\"", ""));
    assert!(msg.contains("ja"), "{msg}");
    assert_eq!(line, 16, "{msg}");
    let (_, _, msg) = fail(&PROVIDERS.replace("kind: oauth2", "kind: saml"));
    assert!(msg.contains("saml"), "{msg}");
    let (_, _, msg) = fail(&PROVIDERS.replace("      issuer: \"https://accounts.example\"\n", ""));
    assert!(msg.contains("issuer"), "{msg}");
    let (line, _, msg) = fail(&PROVIDERS.replace("en: \"Facebook\"", "en: \" \""));
    assert_eq!(line, 16, "{msg}");
    let (_, _, msg) = fail(&PROVIDERS.replace(
        "client_id: gw\n      label: { en: \"Facebook\"",
        "client_id: gw\n      colour: blue\n      label: { en: \"Facebook\"",
    ));
    assert!(msg.contains("colour"), "{msg}");
}

#[test]
fn the_log_block_has_defaults_and_resolves_the_access_file() {
    use config::{AccessLog, LogFormat};
    let c = parse("");
    assert_eq!(c.log.format, LogFormat::Text);
    assert_eq!(c.log.level, "info,pingora=warn");
    assert_eq!(c.log.access, AccessLog::Off);
    let c = parse("log:\n  format: json\n  level: debug\n  access: logs/access.log\n");
    assert_eq!(c.log.format, LogFormat::Json);
    assert_eq!(c.log.level, "debug");
    assert_eq!(c.log.access, AccessLog::File(PathBuf::from("/etc/gw/logs/access.log")));
    for (text, want) in [
        ("stdout", AccessLog::Stdout),
        ("stderr", AccessLog::Stderr),
        ("off", AccessLog::Off),
        ("false", AccessLog::Off),
        ("null", AccessLog::Off),
        ("/var/log/gw.log", AccessLog::File("/var/log/gw.log".into())),
    ] {
        assert_eq!(parse(&format!("log:\n  access: {text}\n")).log.access, want, "{text}");
    }
}

#[test]
fn a_bad_log_block_is_refused_where_it_is_wrong() {
    let (line, _, m) = fail("log:\n  format: xml\n");
    assert_eq!(line, 2, "{m}");
    assert!(m.contains("xml") && m.contains("json"), "{m}");
    let (line, _, m) = fail("log:\n  level: \"\"\n");
    assert_eq!(line, 2, "{m}");
    assert!(m.contains("log.level"), "{m}");
    let (_, _, m) = fail("log:\n  access: \"\"\n");
    assert!(m.contains("file path"), "{m}");
    let (_, _, m) = fail("log:\n  colour: always\n");
    assert!(m.contains("colour"), "{m}");
}
