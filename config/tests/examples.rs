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
