//! The ops policy file (`config::parse_policy`): arbitrary text never panics,
//! an error points inside the text, and an accepted file means what it says:
//! written back out as YAML, it reads back to the same policy.
#![no_main]

use std::collections::HashSet;
use std::fmt::Write;
use std::path::Path;

use config::{OpsPolicy, check_tenant_name, parse_policy};
use gateway_fuzz::check_error_position;
use libfuzzer_sys::fuzz_target;
use policy::{PathAction, PathMatch, normalize_path};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = Path::new("/nonexistent-fuzz-dir/policy.yaml");
    match parse_policy(text, file) {
        Err(err) => check_error_position(&err, text, file),
        Ok(policy) => {
            check(&policy);
            let again = parse_policy(&render(&policy), file).unwrap_or_else(|e| panic!("{e}\n{}", render(&policy)));
            assert_eq!(again.rules.rules(), policy.rules.rules(), "the rules read differently written back");
            assert_eq!(again.tenants, policy.tenants, "the tenants read differently written back");
        }
    }
});

fn check(policy: &OpsPolicy) {
    for rule in policy.rules.rules() {
        let (PathMatch::Exact(p) | PathMatch::Prefix(p)) = &rule.matcher;
        assert_eq!(normalize_path(p).as_deref(), Ok(p.as_str()), "a pattern that no request path can equal");
    }
    let mut names = HashSet::new();
    let mut lines = HashSet::new();
    for t in &policy.tenants {
        assert!(check_tenant_name(&t.name).is_ok(), "tenant name {:?}", t.name);
        assert!(names.insert(&t.name), "tenant {:?} declared twice", t.name);
        for l in &t.lines {
            assert!(lines.insert(*l), "line {l} declared twice");
        }
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn render(policy: &OpsPolicy) -> String {
    let mut out = String::from("paths:\n");
    for rule in policy.rules.rules() {
        let (key, p) = match &rule.matcher {
            PathMatch::Exact(p) => ("path", p),
            PathMatch::Prefix(p) => ("prefix", p),
        };
        let action = match rule.action {
            PathAction::Bypass => "action: bypass".to_owned(),
            PathAction::Deny => "action: deny".to_owned(),
            PathAction::RequireRole(r) => format!("require_role: {r}"),
        };
        let _ = writeln!(out, "  - {key}: {}\n    {action}", quoted(p));
    }
    out.push_str("tenants:\n");
    for t in &policy.tenants {
        let lines: Vec<String> = t.lines.iter().map(|l| quoted(l.as_str())).collect();
        let nets: Vec<String> = t.networks.iter().map(|n| quoted(&n.to_string())).collect();
        let _ = writeln!(
            out,
            "  {}:\n    route: {}\n    two_factor: {}\n    lines: [{}]\n    networks: [{}]",
            quoted(&t.name),
            t.route,
            t.two_factor,
            lines.join(", "),
            nets.join(", ")
        );
    }
    out
}
