//! The decision (`policy::decide`, `decide_access`) on arbitrary facts against a
//! small fixed policy: the invariants that make "allowed" hard to reach.
#![no_main]

use std::collections::HashSet;
use std::net::IpAddr;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use policy::{
    DenyKind, Factor, HostKind, LineFact, LineId, LoginMethod, NetworkSet, Outcome, PathAction, PathFact, PathMatch,
    PathRule, PathRules, PolicySnapshot, Reason, Request, Role, Route, SessionFact, SessionView, TenantPolicy, decide,
    decide_access, normalize_path,
};

const LINES: [&str; 3] = ["CAF0123456789", "COP12345678", "CAF9876543210"];

#[derive(Arbitrary, Debug)]
struct Input {
    host: Option<bool>,
    ip: Option<(bool, u32)>,
    line: (u8, u8),
    path: String,
    session: Option<Option<Sess>>,
    route: [bool; 2],
    two_factor: [bool; 2],
}

#[derive(Arbitrary, Debug)]
struct Sess {
    tenant: u8,
    role: u8,
    federated: bool,
    factor: u8,
    line_host: bool,
}

fn snapshot(input: &Input) -> PolicySnapshot {
    let rule = |matcher, action| PathRule { matcher, action, origin: String::new() };
    let rules = PathRules::new(vec![
        rule(PathMatch::Exact("/healthz".into()), PathAction::Bypass),
        rule(PathMatch::Prefix("/public/".into()), PathAction::Bypass),
        rule(PathMatch::Prefix("/internal".into()), PathAction::Deny),
        rule(PathMatch::Prefix("/admin".into()), PathAction::RequireRole(Role::Admin)),
    ]);
    let mut acme = TenantPolicy::new(1, "acme");
    acme.lines = HashSet::from([LineId::parse(LINES[0]).unwrap()]);
    acme.networks = ["203.0.113.0/24".parse().unwrap()].into_iter().collect::<NetworkSet>();
    let mut globex = TenantPolicy::new(2, "globex");
    globex.lines = HashSet::from([LineId::parse(LINES[1]).unwrap()]);
    for (i, t) in [&mut acme, &mut globex].into_iter().enumerate() {
        t.route = if input.route[i] { Route::LineOnly } else { Route::LineAndInternet };
        t.two_factor = input.two_factor[i];
    }
    PolicySnapshot::new(rules, [acme, globex])
}

fuzz_target!(|input: Input| {
    let snap = snapshot(&input);
    let host = input.host.map(|l| if l { HostKind::LineAuth } else { HostKind::Ordinary });
    let client_ip: Option<IpAddr> = input.ip.map(|(v6, a)| {
        if v6 { std::net::Ipv4Addr::from(a).to_ipv6_mapped().into() } else { std::net::Ipv4Addr::from(a).into() }
    });
    let line = match input.line.0 % 4 {
        0 => LineFact::Absent,
        1 => LineFact::Malformed,
        2 => LineFact::Untrusted,
        _ => LineFact::Asserted(LineId::parse(LINES[input.line.1 as usize % LINES.len()]).unwrap()),
    };
    let normalised = normalize_path(&input.path);
    let path = match &normalised {
        Ok(p) => PathFact::Normalised(p),
        Err(_) => PathFact::Malformed,
    };
    let session = match &input.session {
        None => SessionFact::Missing,
        Some(None) => SessionFact::Malformed,
        Some(Some(s)) if s.tenant % 4 == 3 => SessionFact::Unknown,
        Some(Some(s)) => SessionFact::Valid(SessionView {
            user: "u@example.net",
            tenant: (s.tenant % 4) as i64,
            role: [Role::User, Role::Admin, Role::Owner][s.role as usize % 3],
            method: if s.federated { LoginMethod::Federated } else { LoginMethod::Password },
            provider: if s.federated { Some("google") } else { None },
            factor: [None, Some(Factor::Sms), Some(Factor::Totp), Some(Factor::Line), Some(Factor::Remembered)]
                [s.factor as usize % 5],
            host: if s.line_host { HostKind::LineAuth } else { HostKind::Ordinary },
        }),
    };
    let req = Request { host, client_ip, line, path, session };
    let d = decide(&snap, &req);
    let a = decide_access(&snap, &req);
    let rule = match path {
        PathFact::Normalised(p) => snap.rules.first_match(p).map(|(_, r)| r.action),
        PathFact::Malformed => None,
    };

    for (out, rules_apply) in [(d.outcome, true), (a.outcome, false)] {
        if host.is_none() {
            assert_eq!(out, Outcome::UnknownHost);
        }
        if host.is_some() && path == PathFact::Malformed {
            assert_eq!(out, Outcome::BadRequest, "a malformed path was not refused");
        }
        match out {
            Outcome::Bypass => assert!(rules_apply && rule == Some(PathAction::Bypass), "bypass without a rule"),
            Outcome::Deny(DenyKind::PathRule) => assert!(rules_apply && rule == Some(PathAction::Deny)),
            Outcome::Allow(id) => {
                let SessionFact::Valid(s) = session else { panic!("allowed without a session: {input:?}") };
                let h = host.unwrap();
                assert_eq!(s.host, h, "a session used on the other hostname");
                assert!(!(h == HostKind::Ordinary && s.factor == Some(Factor::Line)), "line session on the internet");
                if rules_apply {
                    assert_ne!(rule, Some(PathAction::Deny), "allowed on a denied path");
                    if let Some(PathAction::RequireRole(need)) = rule {
                        assert!(s.role >= need, "allowed below the rule's role");
                    }
                }
                let tenant = snap.tenant(s.tenant).expect("allowed for an unknown tenant");
                let from_line = tenant.line_match(&line, client_ip).is_some();
                if tenant.route == Route::LineOnly || h == HostKind::LineAuth {
                    assert!(from_line, "allowed off the lines: {input:?}");
                }
                if !matches!(line, LineFact::Asserted(_)) {
                    assert_eq!(id.line, None, "a line identity without a believed line header");
                }
                if h == HostKind::Ordinary && s.method == LoginMethod::Password && tenant.two_factor_required() {
                    assert!(s.factor.is_some(), "allowed without the second factor");
                }
            }
            _ => {}
        }
        if matches!(line, LineFact::Untrusted | LineFact::Malformed) {
            let reasons = if rules_apply { &d.reasons } else { &a.reasons };
            assert!(!reasons.contains(Reason::LineRegistered), "an unbelieved line counted as registered");
        }
    }
});
