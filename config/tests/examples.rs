use std::path::Path;

#[test]
fn the_annotated_examples_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let gw = config::load_gateway(&dir.join("gateway.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(gw.hosts.line_auth, "line.storage.localhost");
    assert_eq!(gw.policy_file, Some(dir.join("policy.yaml")));
    let policy = config::load_policy(&dir.join("policy.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(!policy.rules.rules().is_empty());
    assert!(!policy.tenants.is_empty());
}

/// The files the Debian package installs in /etc/gateway load as they would there.
#[test]
fn the_packaged_configuration_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/etc");
    let text = std::fs::read_to_string(dir.join("gateway.yaml")).unwrap();
    let gw = config::parse_gateway_with_env(&text, Path::new("/etc/gateway/gateway.yaml"), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(gw.state_dir, Path::new("/var/lib/gateway"));
    assert_eq!(gw.database, "sqlite:///var/lib/gateway/gateway.db");
    assert_eq!(gw.mail.dir, Path::new("/var/lib/gateway/data/mail"));
    assert_eq!(gw.policy_file.as_deref(), Some(Path::new("/etc/gateway/policy.yaml")));
    assert!(gw.session.secure_cookies);
    let text = std::fs::read_to_string(dir.join("policy.yaml")).unwrap();
    let policy = config::parse_policy(&text, Path::new("/etc/gateway/policy.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(!policy.rules.rules().is_empty());
}
