//! Shared fixture of the integration tests: a small but complete policy snapshot.
#![allow(dead_code)]

use std::net::IpAddr;

use ipnet::IpNet;
use policy::{
    HostKind, LineId, LoginMethod, PathAction, PathMatch, PathRule, PathRules, PolicySnapshot, Role, Route,
    SessionView, TenantId, TenantPolicy,
};

/// line-and-internet, 2FA on.
pub const ACME: TenantId = 1;
/// line-only (2FA switch left on: line-only must turn it off anyway).
pub const CLOSED: TenantId = 2;
/// line-and-internet, 2FA off.
pub const RELAXED: TenantId = 3;
/// Not in the snapshot (deleted tenant).
pub const GONE: TenantId = 99;

pub const ACME_LINE: &str = "CAF0000000001";
pub const ACME_LINE_COP: &str = "COP0000000A";
pub const ACME_NET_IP: &str = "203.0.113.7";
pub const ACME_NET6_IP: &str = "2001:db8:1::42";
pub const CLOSED_LINE: &str = "COP00000002";
pub const CLOSED_NET_IP: &str = "198.51.100.20";
pub const RELAXED_LINE: &str = "CAF0000000003";
/// Registered to nobody.
pub const STRAY_LINE: &str = "CAF9999999999";
/// Inside nobody's networks.
pub const INTERNET_IP: &str = "192.0.2.200";
/// The carrier's gateway address: never a tenant network.
pub const CARRIER_IP: &str = "100.64.0.1";

pub fn line(s: &str) -> LineId {
    LineId::parse(s).unwrap()
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

pub fn rules() -> PathRules {
    let r = |m: PathMatch, action: PathAction, n: usize| PathRule {
        matcher: m,
        action,
        origin: format!("policy.yaml:{n}:3"),
    };
    PathRules::new(vec![
        r(PathMatch::Exact("/healthz".into()), PathAction::Bypass, 1),
        r(PathMatch::Prefix("/public".into()), PathAction::Bypass, 2),
        r(PathMatch::Prefix("/internal".into()), PathAction::Deny, 3),
        r(PathMatch::Prefix("/admin".into()), PathAction::RequireRole(Role::Admin), 4),
        r(PathMatch::Prefix("/billing/".into()), PathAction::RequireRole(Role::Owner), 5),
        // Shadowed by rule 2: first match wins.
        r(PathMatch::Prefix("/public/secret".into()), PathAction::Deny, 6),
    ])
}

pub fn snapshot() -> PolicySnapshot {
    let mut acme = TenantPolicy::new(ACME, "acme");
    acme.lines.insert(line(ACME_LINE));
    acme.lines.insert(line(ACME_LINE_COP));
    acme.networks.insert(net("203.0.113.0/24"));
    acme.networks.insert(net("2001:db8:1::/48"));

    let mut closed = TenantPolicy::new(CLOSED, "closed");
    closed.route = Route::LineOnly;
    closed.lines.insert(line(CLOSED_LINE));
    closed.networks.insert(net("198.51.100.0/24"));

    let mut relaxed = TenantPolicy::new(RELAXED, "relaxed");
    relaxed.two_factor = false;
    relaxed.lines.insert(line(RELAXED_LINE));

    PolicySnapshot::new(rules(), [acme, closed, relaxed])
}

pub fn session(
    tenant: TenantId,
    host: HostKind,
    method: LoginMethod,
    factor: Option<policy::Factor>,
    role: Role,
) -> SessionView<'static> {
    SessionView { user: "alice@example.net", tenant, role, method, provider: None, factor, host }
}
