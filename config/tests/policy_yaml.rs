use std::path::Path;

use config::{ConfigError, parse_policy};
use policy::{LineId, PathAction, PathMatch, Role, Route};

const FILE: &str = "/etc/gw/policy.yaml";

fn fail(text: &str) -> (usize, usize, String) {
    match parse_policy(text, Path::new(FILE)) {
        Ok(p) => panic!("expected an error, got {p:?}"),
        Err(ConfigError { line, column, message, .. }) => (line.unwrap_or(0), column.unwrap_or(0), message),
    }
}

#[test]
fn an_empty_file_has_no_rules_and_no_tenants() {
    for text in ["", "# nothing yet\n", "paths:\ntenants:\n", "paths: []\ntenants: {}\n"] {
        let p = parse_policy(text, Path::new(FILE)).unwrap();
        assert!(p.rules.rules().is_empty() && p.tenants.is_empty(), "{text:?}");
    }
}

#[test]
fn rules_keep_their_order_and_origin() {
    let p = parse_policy(
        "paths:\n  - path: /healthz\n    action: bypass\n  - prefix: /public/\n    action: bypass\n  - prefix: /internal\n    action: deny\n  - prefix: /admin\n    require_role: admin\n",
        Path::new(FILE),
    )
    .unwrap();
    let rules = p.rules.rules();
    assert_eq!(rules.len(), 4);
    assert_eq!(rules[0].matcher, PathMatch::Exact("/healthz".into()));
    assert_eq!(rules[0].action, PathAction::Bypass);
    assert_eq!(rules[1].matcher, PathMatch::Prefix("/public/".into()));
    assert_eq!(rules[2].action, PathAction::Deny);
    assert_eq!(rules[3].action, PathAction::RequireRole(Role::Admin));
    assert_eq!(rules[3].origin, "policy.yaml: paths[3]");
    assert_eq!(p.rules.first_match("/admin/users").map(|(i, _)| i), Some(3));
    assert_eq!(p.rules.first_match("/publicity"), None);
}

#[test]
fn tenants_keep_their_order_and_defaults() {
    let p = parse_policy(
        r#"
tenants:
  zeta:
    route: line-only
    two_factor: false
    lines: [caf0123456789, COP12345678]
    networks: ["203.0.113.0/24", "2001:db8::/48", "198.51.100.7"]
  acme: {}
"#,
        Path::new(FILE),
    )
    .unwrap();
    assert_eq!(p.tenants.len(), 2);
    let z = &p.tenants[0];
    assert_eq!(z.name, "zeta");
    assert_eq!(z.route, Route::LineOnly);
    assert!(!z.two_factor);
    assert_eq!(z.lines, vec![LineId::parse("CAF0123456789").unwrap(), LineId::parse("COP12345678").unwrap()]);
    assert_eq!(z.networks[2], "198.51.100.7/32".parse().unwrap());
    let a = &p.tenants[1];
    assert_eq!((a.name.as_str(), a.route, a.two_factor), ("acme", Route::LineAndInternet, true));
    assert!(a.lines.is_empty() && a.networks.is_empty());
}

#[test]
fn errors_point_at_the_offending_value() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        // A bad CIDR on line 4, column 7 (the value after "- ").
        ("tenants:\n  acme:\n    networks:\n    - 10.0.0.0/33\n", (4, 7), "not a network"),
        ("tenants:\n  acme:\n    networks: [10.1.0.0/16, bogus]\n", (3, 29), "\"bogus\""),
        ("tenants:\n  acme:\n    lines: [CAF0123456789, COP1234567]\n", (3, 28), "a COP line number has 11 characters"),
        ("tenants:\n  acme:\n    lines:\n      - XYZ0123456789\n", (4, 9), "must start with CAF or COP"),
        ("tenants:\n  acme:\n    lines: [CAF0123456789, caf0123456789]\n", (3, 28), "listed twice in tenant \"acme\""),
        (
            "tenants:\n  acme:\n    lines: [CAF0123456789]\n  beta:\n    lines:\n      - CAF0123456789\n",
            (6, 9),
            "already listed in tenant \"acme\"",
        ),
        ("tenants:\n  acme: {}\n  beta: {}\n  acme: {}\n", (4, 3), "declared twice"),
        ("tenants:\n  Acme: {}\n", (2, 3), "lower-case letter"),
        ("tenants:\n  acme:\n    route: sideways\n", (3, 12), "line-only or line-and-internet"),
        ("tenants:\n  acme:\n    colour: red\n", (3, 5), "unknown field `colour`"),
        ("paths:\n  - path: /a\n    action: bypass\n  - prefix: /b\n", (4, 5), "needs action"),
        ("paths:\n  - action: deny\n", (2, 5), "needs path"),
        ("paths:\n  - path: /a\n    prefix: /a\n    action: deny\n", (2, 5), "not both"),
        ("paths:\n  - path: /a\n    action: deny\n    require_role: user\n", (2, 5), "not both"),
        ("paths:\n  - path: /a/../b\n    action: bypass\n", (2, 11), "write \"/b\""),
        ("paths:\n  - prefix: //x\n    action: bypass\n", (2, 13), "write \"/x\""),
        ("paths:\n  - prefix: x/\n    action: bypass\n", (2, 13), "must start with '/'"),
        ("paths:\n  - path: /a\n    action: allow\n", (3, 13), "unknown variant `allow`"),
        ("paths:\n  - path: /a\n    require_role: root\n", (3, 19), "user, admin or owner"),
        ("paths:\n  - path: /a\n    colour: red\n", (2, 5), "unknown field `colour`"),
        ("rules: []\n", (1, 1), "unknown field `rules`"),
    ];
    for (text, place, needle) in cases {
        let (line, column, message) = fail(text);
        assert_eq!((line, column), *place, "{text:?}: {message}");
        assert!(message.contains(needle), "{text:?}: {message:?} lacks {needle:?}");
    }
}

#[test]
fn yaml_syntax_errors_have_a_location() {
    // The tab is refused by the YAML scanner itself, before any value is read.
    let (line, column, message) = fail("paths:\n  - path: /a\n\taction: deny\n");
    assert_eq!((line, column), (3, 1), "{message}");
    assert!(message.contains("tab") && !message.contains("at line 3 column 1"), "{message}");
}

#[test]
fn a_long_tenant_name_is_refused_with_the_rule() {
    let name = "a".repeat(65);
    let (line, column, message) = fail(&format!("tenants:\n  {name}: {{}}\n"));
    assert_eq!((line, column), (2, 3));
    assert!(message.contains("1 to 64 characters"), "{message}");
    assert!(parse_policy(&format!("tenants:\n  {}: {{}}\n", "a".repeat(64)), Path::new(FILE)).is_ok());
}

#[test]
fn declared_networks_keep_within_the_limits() {
    // SPEC section 11: no door lets a tenant's network take in everyone.
    for (net, what) in [
        ("0.0.0.0/0", "every address"),
        ("\"::/0\"", "every address"),
        ("\"::ffff:0:0/96\"", "IPv4-mapped"),
        ("127.0.0.0/8", "loopback"),
        ("127.0.0.4", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("\"::\"", "unspecified"),
        ("10.0.0.0/8", "wider than the allowed /16"),
    ] {
        let text = format!("tenants:\n  acme:\n    networks:\n      - 203.0.113.0/24\n      - {net}\n");
        let (line, column, message) = fail(&text);
        assert_eq!((line, column), (5, 9), "{net}: {message}");
        assert!(message.contains(what), "{net}: {message}");
    }
    let wide = policy::NetworkLimits { widest_ipv4_prefix: 8, widest_ipv6_prefix: 32 };
    let p =
        config::parse_policy_with("tenants:\n  acme:\n    networks: [10.0.0.0/8]\n", Path::new(FILE), &wide).unwrap();
    assert_eq!(p.tenants[0].networks, vec!["10.0.0.0/8".parse().unwrap()]);
}

#[test]
fn origin_paths_say_how_the_origin_reads_paths() {
    use policy::{Origin, PathOptions};
    let p = parse_policy("paths: []\n", Path::new(FILE)).unwrap();
    assert_eq!(p.rules.options(), PathOptions::default());
    let p = parse_policy("origin_paths:\n  folds_case: yes\n  ignores_trailing_dots_and_spaces: no\n", Path::new(FILE))
        .unwrap();
    assert_eq!(
        p.rules.options(),
        PathOptions { folds_case: Origin::Yes, ignores_trailing_dots_and_spaces: Origin::No }
    );
    let (line, column, message) = fail("origin_paths:\n  folds_case: sometimes\n");
    assert_eq!((line, column), (2, 15));
    assert!(message.contains("yes, no or unknown"), "{message}");
    let (line, _, message) = fail("origin_paths:\n  folds: yes\n");
    assert_eq!(line, 2);
    assert!(message.contains("unknown field"), "{message}");
}
