//! SPEC section 3 ("How a request is decided") as a table: every row is one
//! request, the outcome label it must get and the reason codes that must explain it.

mod common;

use common::*;
use policy::{
    Decision, Factor, HostKind, LineFact, LoginMethod, Outcome, PathFact, PolicySnapshot, Reason, Request, Role,
    SessionFact, TenantId, decide, normalize_path,
};

const O: Option<HostKind> = Some(HostKind::Ordinary);
const LA: Option<HostKind> = Some(HostKind::LineAuth);
const UNK: Option<HostKind> = None;
const H_O: HostKind = HostKind::Ordinary;
const H_LA: HostKind = HostKind::LineAuth;
const PW: LoginMethod = LoginMethod::Password;
const FED: LoginMethod = LoginMethod::Federated;

#[derive(Debug, Clone, Copy)]
enum Ln {
    Absent,
    Carrier(&'static str),
    Malformed,
    Untrusted,
}

#[derive(Debug, Clone, Copy)]
enum Sess {
    Missing,
    Malformed,
    Unknown,
    Valid(TenantId, HostKind, LoginMethod, Option<Factor>, Role),
}

#[derive(Debug, Clone)]
struct Case {
    name: &'static str,
    host: Option<HostKind>,
    ip: Option<&'static str>,
    line: Ln,
    /// The raw request path; the test normalises it the way the gateway does.
    path: &'static str,
    sess: Sess,
    want: &'static str,
    codes: &'static [&'static str],
    method: Option<&'static str>,
    id_line: Option<&'static str>,
}

#[allow(clippy::too_many_arguments)]
fn c(
    name: &'static str,
    host: Option<HostKind>,
    ip: Option<&'static str>,
    line: Ln,
    path: &'static str,
    sess: Sess,
    want: &'static str,
    codes: &'static [&'static str],
) -> Case {
    Case { name, host, ip, line, path, sess, want, codes, method: None, id_line: None }
}

impl Case {
    fn method(mut self, m: &'static str) -> Self {
        self.method = Some(m);
        self
    }
    fn id_line(mut self, l: &'static str) -> Self {
        self.id_line = Some(l);
        self
    }
}

fn v(t: TenantId, h: HostKind, m: LoginMethod, f: Option<Factor>, r: Role) -> Sess {
    Sess::Valid(t, h, m, f, r)
}

fn tenant_name(t: TenantId) -> &'static str {
    match t {
        ACME => "acme",
        CLOSED => "closed",
        RELAXED => "relaxed",
        _ => "?",
    }
}

fn run<'a>(snap: &'a PolicySnapshot, norm: &'a Result<String, policy::PathError>, case: &Case) -> Decision<'a> {
    let line = match case.line {
        Ln::Absent => LineFact::Absent,
        Ln::Carrier(s) => LineFact::Asserted(line(s)),
        Ln::Malformed => LineFact::Malformed,
        Ln::Untrusted => LineFact::Untrusted,
    };
    let path = match norm {
        Ok(p) => PathFact::Normalised(p.as_str()),
        Err(_) => PathFact::Malformed,
    };
    let session = match case.sess {
        Sess::Missing => SessionFact::Missing,
        Sess::Malformed => SessionFact::Malformed,
        Sess::Unknown => SessionFact::Unknown,
        Sess::Valid(t, h, m, f, r) => SessionFact::Valid(session(t, h, m, f, r)),
    };
    let req = Request { host: case.host, client_ip: case.ip.map(ip), line, path, session };
    decide(snap, &req)
}

fn codes(d: &Decision<'_>) -> Vec<&'static str> {
    d.reasons.as_slice().iter().map(Reason::code).collect()
}

#[rustfmt::skip]
fn table() -> Vec<Case> {
    use Ln::*;
    use Sess::{Malformed as SMalformed, Missing, Unknown};
    let owner_totp = v(ACME, H_O, PW, Some(Factor::Totp), Role::Owner);
    let la_line = |t| v(t, H_LA, PW, Some(Factor::Line), Role::User);
    vec![
        // 1. Unknown host: 421 whatever else is true.
        c("unknown host, everything else perfect", UNK, Some(ACME_NET_IP), Carrier(ACME_LINE), "/", owner_totp, "unknown_host", &["host_unknown"]),
        c("unknown host, malformed path, no session", UNK, None, Absent, "/%zz", Missing, "unknown_host", &["host_unknown"]),
        c("unknown host, bypass path", UNK, None, Absent, "/healthz", Missing, "unknown_host", &["host_unknown"]),
        c("unknown host, deny path", UNK, None, Untrusted, "/internal", Missing, "unknown_host", &["host_unknown"]),
        // 5. Malformed paths fail closed before anything else.
        c("bad escape", O, Some(INTERNET_IP), Absent, "/%zz", owner_totp, "bad_request", &["host_ordinary", "path_malformed"]),
        c("not utf-8", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/%ff", la_line(ACME), "bad_request", &["host_line_auth", "path_malformed"]),
        c("not absolute", O, Some(INTERNET_IP), Absent, "a/b", owner_totp, "bad_request", &["path_malformed"]),
        c("encoded NUL", O, Some(INTERNET_IP), Absent, "/a%00", owner_totp, "bad_request", &["path_malformed"]),
        c("overlong dot", O, Some(INTERNET_IP), Absent, "/%C0%AE%C0%AE/internal", owner_totp, "bad_request", &["path_malformed"]),
        // Bypass: no session needed, on either host, from anywhere.
        c("healthz without session", O, None, Absent, "/healthz", Missing, "bypass", &["host_ordinary", "path_rule_bypass"]),
        c("public asset, malformed session, untrusted header", LA, None, Untrusted, "/public/app.css", SMalformed, "bypass", &["host_line_auth", "path_rule_bypass"]),
        c("public, unknown session", O, Some(INTERNET_IP), Malformed, "/public", Unknown, "bypass", &["path_rule_bypass"]),
        c("first match wins: /public shadows a later deny", O, Some(INTERNET_IP), Absent, "/public/secret/x", Missing, "bypass", &["path_rule_bypass"]),
        c("bypass on line-auth host without a line", LA, Some(INTERNET_IP), Absent, "/healthz", la_line(CLOSED), "bypass", &["path_rule_bypass"]),
        c("/healthz/ is not the exact rule", O, Some(INTERNET_IP), Absent, "/healthz/", Missing, "login", &["path_no_rule", "session_missing"]),
        c("/publicity is not under /public", O, Some(INTERNET_IP), Absent, "/publicity", Missing, "login", &["path_no_rule", "session_missing"]),
        c("query does not make a bypass", O, Some(INTERNET_IP), Absent, "/app?x=/healthz", Missing, "login", &["path_no_rule"]),
        // Deny rule: even the owner with everything complete.
        c("deny rule, owner, registered line", O, Some(ACME_NET_IP), Carrier(ACME_LINE), "/internal/x", owner_totp, "deny_path", &["path_rule_deny"]),
        c("deny rule on line-auth host", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/internal", v(ACME, H_LA, PW, Some(Factor::Line), Role::Owner), "deny_path", &["host_line_auth", "path_rule_deny"]),
        c("deny rule without session", O, None, Absent, "/internal", Missing, "deny_path", &["path_rule_deny"]),
        c("deny reached by dot-segments", O, Some(INTERNET_IP), Absent, "/public/../internal/x", owner_totp, "deny_path", &["path_rule_deny"]),
        c("deny reached by encoded dot-segments", O, Some(INTERNET_IP), Absent, "/public/%2e%2e%2Finternal", owner_totp, "deny_path", &["path_rule_deny"]),
        c("deny reached by backslash", O, Some(INTERNET_IP), Absent, "/public%5C..%5Cinternal", owner_totp, "deny_path", &["path_rule_deny"]),
        c("deny reached by encoded letters", O, Some(INTERNET_IP), Absent, "/%69nternal/", owner_totp, "deny_path", &["path_rule_deny"]),
        c("deny reached by duplicate slashes", O, Some(INTERNET_IP), Absent, "//internal//x", owner_totp, "deny_path", &["path_rule_deny"]),
        // No usable session.
        c("no session", O, Some(INTERNET_IP), Absent, "/", Missing, "login", &["host_ordinary", "path_no_rule", "line_header_absent", "session_missing"]),
        c("malformed session", O, Some(INTERNET_IP), Absent, "/", SMalformed, "login", &["session_malformed"]),
        c("unknown session", O, Some(INTERNET_IP), Absent, "/", Unknown, "login", &["session_unknown"]),
        c("no session even on a registered line", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/", Missing, "login", &["line_header_from_carrier", "session_missing"]),
        c("unknown session from a registered network", O, Some(ACME_NET_IP), Absent, "/", Unknown, "login", &["session_unknown"]),
        c("session of an unknown tenant", O, Some(INTERNET_IP), Absent, "/", v(GONE, H_O, PW, Some(Factor::Totp), Role::Owner), "login", &["session_valid", "tenant_unknown"]),
        c("session of an unknown tenant on line-auth", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/", la_line(GONE), "login", &["tenant_unknown"]),
        // Sessions are bound to the hostname kind they were created on.
        c("line-auth session on ordinary host", O, Some(ACME_NET_IP), Carrier(ACME_LINE), "/", la_line(ACME), "login", &["session_other_host"]),
        c("line-auth session without factor on ordinary host", O, Some(INTERNET_IP), Absent, "/", v(ACME, H_LA, PW, None, Role::Owner), "login", &["session_other_host"]),
        c("line factor on ordinary host, session claims ordinary", O, Some(ACME_NET_IP), Carrier(ACME_LINE), "/", v(ACME, H_O, PW, Some(Factor::Line), Role::Owner), "login", &["session_other_host"]),
        c("line factor, relaxed tenant, session claims ordinary", O, Some(INTERNET_IP), Absent, "/", v(RELAXED, H_O, PW, Some(Factor::Line), Role::User), "login", &["session_other_host"]),
        c("line factor, line-only tenant on its network, claims ordinary", O, Some(CLOSED_NET_IP), Absent, "/", v(CLOSED, H_O, PW, Some(Factor::Line), Role::User), "login", &["session_other_host"]),
        c("ordinary session on line-auth host", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/", owner_totp, "login", &["session_other_host"]),
        c("federated ordinary session on line-auth host", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/", v(ACME, H_O, FED, None, Role::User), "login", &["session_other_host"]),
        // line-only: not from a line is refused even with a complete session, on either host.
        c("line-only, internet, 2FA complete", O, Some(INTERNET_IP), Absent, "/", v(CLOSED, H_O, PW, Some(Factor::Totp), Role::Owner), "deny_line", &["session_valid", "not_from_line", "route_line_only", "line_only_blocks_internet"]),
        c("line-only, line-auth host, no line", LA, Some(INTERNET_IP), Absent, "/", la_line(CLOSED), "deny_line", &["not_from_line", "route_line_only", "line_only_blocks_internet"]),
        c("line-only, another tenant's line", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/", la_line(CLOSED), "deny_line", &["line_header_from_carrier", "not_from_line", "line_only_blocks_internet"]),
        c("line-only, stray line on ordinary", O, Some(CARRIER_IP), Carrier(STRAY_LINE), "/", v(CLOSED, H_O, PW, Some(Factor::Sms), Role::User), "deny_line", &["not_from_line", "line_only_blocks_internet"]),
        c("line-only, another tenant's network", O, Some(ACME_NET_IP), Absent, "/", v(CLOSED, H_O, PW, Some(Factor::Totp), Role::User), "deny_line", &["not_from_line"]),
        c("line-only, no client address", O, None, Absent, "/", v(CLOSED, H_O, PW, Some(Factor::Totp), Role::User), "deny_line", &["client_address_unknown", "not_from_line", "line_only_blocks_internet"]),
        c("line-only, untrusted header", O, Some(INTERNET_IP), Untrusted, "/", v(CLOSED, H_O, PW, Some(Factor::Totp), Role::User), "deny_line", &["line_header_untrusted", "not_from_line"]),
        c("line-only, malformed carrier header", LA, Some(CARRIER_IP), Malformed, "/", la_line(CLOSED), "deny_line", &["line_header_malformed", "not_from_line"]),
        c("line-only, federated from internet", O, Some(INTERNET_IP), Absent, "/", v(CLOSED, H_O, FED, None, Role::User), "deny_line", &["line_only_blocks_internet"]),
        c("line-only, role path from internet", O, Some(INTERNET_IP), Absent, "/admin", v(CLOSED, H_O, PW, Some(Factor::Totp), Role::Owner), "deny_line", &["path_rule_require_role", "line_only_blocks_internet"]),
        c("line-only, network on ordinary, no 2FA", O, Some(CLOSED_NET_IP), Absent, "/", v(CLOSED, H_O, PW, None, Role::User), "allow", &["network_registered", "route_line_only", "two_factor_off_by_line_only", "allowed"]).method("password"),
        c("line-only, network on ordinary, untrusted header ignored", O, Some(CLOSED_NET_IP), Untrusted, "/", v(CLOSED, H_O, PW, None, Role::User), "allow", &["line_header_untrusted", "network_registered", "allowed"]).method("password"),
        c("line-only, network via IPv4-mapped IPv6", O, Some("::ffff:198.51.100.20"), Absent, "/", v(CLOSED, H_O, PW, None, Role::User), "allow", &["network_registered", "allowed"]).method("password"),
        c("line-only, earlier totp kept in method", O, Some(CLOSED_NET_IP), Absent, "/", v(CLOSED, H_O, PW, Some(Factor::Totp), Role::User), "allow", &["two_factor_off_by_line_only"]).method("password+totp"),
        c("line-only, carrier line on ordinary host", O, Some(CARRIER_IP), Carrier(CLOSED_LINE), "/", v(CLOSED, H_O, PW, None, Role::User), "allow", &["line_registered", "two_factor_off_by_line_only"]).method("password").id_line(CLOSED_LINE),
        c("line-only, registered line on line-auth", LA, Some(CARRIER_IP), Carrier(CLOSED_LINE), "/", la_line(CLOSED), "allow", &["line_registered", "route_line_only", "line_is_second_factor", "allowed"]).method("password+line").id_line(CLOSED_LINE),
        c("line-only, lower-case line from carrier", LA, Some(CARRIER_IP), Carrier("cop00000002"), "/", la_line(CLOSED), "allow", &["line_registered"]).method("password+line").id_line(CLOSED_LINE),
        c("line-only, federated on network", O, Some(CLOSED_NET_IP), Absent, "/", v(CLOSED, H_O, FED, None, Role::Admin), "allow", &["network_registered", "two_factor_not_for_federated"]).method("federated"),
        // Line-auth hostname needs a line or network.
        c("line-auth, internet, no line", LA, Some(INTERNET_IP), Absent, "/", la_line(ACME), "deny_line", &["host_line_auth", "not_from_line", "route_line_and_internet", "line_auth_needs_line"]),
        c("line-auth, stray line", LA, Some(CARRIER_IP), Carrier(STRAY_LINE), "/", la_line(ACME), "deny_line", &["line_header_from_carrier", "not_from_line", "line_auth_needs_line"]),
        c("line-auth, another tenant's line", LA, Some(CARRIER_IP), Carrier(CLOSED_LINE), "/", la_line(ACME), "deny_line", &["not_from_line", "line_auth_needs_line"]),
        c("line-auth, untrusted header", LA, Some(INTERNET_IP), Untrusted, "/", la_line(ACME), "deny_line", &["line_header_untrusted", "not_from_line", "line_auth_needs_line"]),
        c("line-auth, malformed header", LA, Some(CARRIER_IP), Malformed, "/", la_line(ACME), "deny_line", &["line_header_malformed", "line_auth_needs_line"]),
        c("line-auth, no client address", LA, None, Absent, "/", la_line(ACME), "deny_line", &["client_address_unknown", "not_from_line", "line_auth_needs_line"]),
        c("line-auth, federated, no line", LA, Some(INTERNET_IP), Absent, "/", v(ACME, H_LA, FED, None, Role::User), "deny_line", &["line_auth_needs_line"]),
        c("line-auth, 2FA-off tenant still needs line", LA, Some(INTERNET_IP), Absent, "/", la_line(RELAXED), "deny_line", &["line_auth_needs_line"]),
        c("line-auth, registered line from carrier", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/", la_line(ACME), "allow", &["host_line_auth", "line_header_from_carrier", "session_valid", "line_registered", "route_line_and_internet", "line_is_second_factor", "allowed"]).method("password+line").id_line(ACME_LINE),
        c("line-auth, COP line", LA, Some(CARRIER_IP), Carrier(ACME_LINE_COP), "/", la_line(ACME), "allow", &["line_registered"]).method("password+line").id_line(ACME_LINE_COP),
        c("line-auth, line registered, no client address", LA, None, Carrier(ACME_LINE), "/", la_line(ACME), "allow", &["line_registered"]).method("password+line").id_line(ACME_LINE),
        c("line-auth, session without factor", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/", v(ACME, H_LA, PW, None, Role::User), "allow", &["line_is_second_factor"]).method("password+line").id_line(ACME_LINE),
        c("line-auth, registered network", LA, Some(ACME_NET_IP), Absent, "/", la_line(ACME), "allow", &["network_registered", "line_is_second_factor"]).method("password+line"),
        c("line-auth, registered IPv6 network", LA, Some(ACME_NET6_IP), Absent, "/", la_line(ACME), "allow", &["network_registered"]).method("password+line"),
        c("line-auth, IPv4-mapped IPv6 client", LA, Some("::ffff:203.0.113.7"), Absent, "/", la_line(ACME), "allow", &["network_registered"]).method("password+line"),
        c("line-auth, network + untrusted header", LA, Some(ACME_NET_IP), Untrusted, "/", la_line(ACME), "allow", &["line_header_untrusted", "network_registered"]).method("password+line"),
        c("line-auth, stray line but registered network", LA, Some(ACME_NET_IP), Carrier(STRAY_LINE), "/", la_line(ACME), "allow", &["network_registered"]).method("password+line"),
        c("line-auth, federated with line", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/", v(ACME, H_LA, FED, None, Role::User), "allow", &["line_registered", "two_factor_not_for_federated"]).method("federated").id_line(ACME_LINE),
        c("line-auth, 2FA-off tenant with line", LA, Some(CARRIER_IP), Carrier(RELAXED_LINE), "/", la_line(RELAXED), "allow", &["line_registered", "line_is_second_factor"]).method("password+line").id_line(RELAXED_LINE),
        // Ordinary hostname and the 2FA switch.
        c("2FA on, no factor", O, Some(INTERNET_IP), Absent, "/", v(ACME, H_O, PW, None, Role::User), "second_factor", &["not_from_line", "route_line_and_internet", "second_factor_missing"]),
        c("2FA on, no factor, owner", O, Some(INTERNET_IP), Absent, "/", v(ACME, H_O, PW, None, Role::Owner), "second_factor", &["second_factor_missing"]),
        c("2FA on, no factor, from registered network", O, Some(ACME_NET_IP), Absent, "/", v(ACME, H_O, PW, None, Role::User), "second_factor", &["network_registered", "second_factor_missing"]),
        c("2FA on, no factor, registered line on ordinary", O, Some(CARRIER_IP), Carrier(ACME_LINE), "/", v(ACME, H_O, PW, None, Role::User), "second_factor", &["line_registered", "second_factor_missing"]),
        c("2FA on, no factor, untrusted header", O, Some(INTERNET_IP), Untrusted, "/", v(ACME, H_O, PW, None, Role::User), "second_factor", &["line_header_untrusted", "second_factor_missing"]),
        c("2FA on, totp", O, Some(INTERNET_IP), Absent, "/", v(ACME, H_O, PW, Some(Factor::Totp), Role::User), "allow", &["session_valid", "not_from_line", "second_factor_done", "allowed"]).method("password+totp"),
        c("2FA on, sms", O, Some(INTERNET_IP), Absent, "/", v(ACME, H_O, PW, Some(Factor::Sms), Role::User), "allow", &["second_factor_done"]).method("password+sms"),
        c("2FA on, recovery", O, Some(INTERNET_IP), Absent, "/", v(ACME, H_O, PW, Some(Factor::Recovery), Role::User), "allow", &["second_factor_done"]).method("password+recovery"),
        c("2FA on, remembered", O, Some(INTERNET_IP), Absent, "/", v(ACME, H_O, PW, Some(Factor::Remembered), Role::User), "allow", &["second_factor_done"]).method("password+remembered"),
        c("2FA on, totp, no client address", O, None, Absent, "/", v(ACME, H_O, PW, Some(Factor::Totp), Role::User), "allow", &["client_address_unknown", "not_from_line", "allowed"]).method("password+totp"),
        c("2FA on, totp, registered line on ordinary", O, Some(CARRIER_IP), Carrier(ACME_LINE), "/", v(ACME, H_O, PW, Some(Factor::Totp), Role::User), "allow", &["line_registered"]).method("password+totp").id_line(ACME_LINE),
        c("2FA on, totp, malformed carrier header", O, Some(INTERNET_IP), Malformed, "/", v(ACME, H_O, PW, Some(Factor::Totp), Role::User), "allow", &["line_header_malformed", "not_from_line"]).method("password+totp"),
        c("2FA on, totp, IPv6 network", O, Some(ACME_NET6_IP), Absent, "/", v(ACME, H_O, PW, Some(Factor::Totp), Role::User), "allow", &["network_registered"]).method("password+totp"),
        c("2FA off, no factor", O, Some(INTERNET_IP), Absent, "/", v(RELAXED, H_O, PW, None, Role::User), "allow", &["route_line_and_internet", "two_factor_off", "allowed"]).method("password"),
        c("2FA off, totp done anyway", O, Some(INTERNET_IP), Absent, "/", v(RELAXED, H_O, PW, Some(Factor::Totp), Role::User), "allow", &["two_factor_off"]).method("password+totp"),
        c("2FA off, no client address", O, None, Absent, "/", v(RELAXED, H_O, PW, None, Role::User), "allow", &["two_factor_off"]).method("password"),
        c("federated skips 2FA", O, Some(INTERNET_IP), Absent, "/", v(ACME, H_O, FED, None, Role::User), "allow", &["two_factor_not_for_federated", "allowed"]).method("federated"),
        c("federated owner skips 2FA", O, Some(INTERNET_IP), Absent, "/", v(ACME, H_O, FED, None, Role::Owner), "allow", &["two_factor_not_for_federated"]).method("federated"),
        // Role rules.
        c("admin path, user", O, Some(INTERNET_IP), Absent, "/admin/users", v(ACME, H_O, PW, Some(Factor::Totp), Role::User), "deny_role", &["path_rule_require_role", "second_factor_done", "role_insufficient"]),
        c("admin path, admin", O, Some(INTERNET_IP), Absent, "/admin/users", v(ACME, H_O, PW, Some(Factor::Totp), Role::Admin), "allow", &["path_rule_require_role", "role_sufficient", "allowed"]).method("password+totp"),
        c("admin path, owner", O, Some(INTERNET_IP), Absent, "/admin", v(ACME, H_O, PW, Some(Factor::Totp), Role::Owner), "allow", &["role_sufficient"]).method("password+totp"),
        c("owner path, admin", O, Some(INTERNET_IP), Absent, "/billing/x", v(ACME, H_O, PW, Some(Factor::Totp), Role::Admin), "deny_role", &["role_insufficient"]),
        c("owner path, owner", O, Some(INTERNET_IP), Absent, "/billing/x", v(ACME, H_O, PW, Some(Factor::Totp), Role::Owner), "allow", &["role_sufficient"]).method("password+totp"),
        // A restrictive rule ignores a trailing slash (SPEC 11: origins such as Spring
        // serve /billing and /billing/ alike), so /billing is held to /billing/'s role.
        c("/billing without slash is held to /billing/", O, Some(INTERNET_IP), Absent, "/billing", v(ACME, H_O, PW, Some(Factor::Totp), Role::User), "deny_role", &["role_insufficient"]),
        c("admin path via encoded slash", O, Some(INTERNET_IP), Absent, "/admin%2Fusers", v(ACME, H_O, PW, Some(Factor::Totp), Role::User), "deny_role", &["role_insufficient"]),
        c("admin path via bypass prefix and dot-segments", O, Some(INTERNET_IP), Absent, "/public%2F..%2Fadmin", v(ACME, H_O, PW, Some(Factor::Totp), Role::User), "deny_role", &["role_insufficient"]),
        c("out of /admin by dot-segments", O, Some(INTERNET_IP), Absent, "/admin/../public/x", Missing, "bypass", &["path_rule_bypass"]),
        c("role path, no session", O, Some(INTERNET_IP), Absent, "/admin", Missing, "login", &["path_rule_require_role", "session_missing"]),
        c("role path, missing 2FA comes first", O, Some(INTERNET_IP), Absent, "/admin", v(ACME, H_O, PW, None, Role::Owner), "second_factor", &["second_factor_missing"]),
        c("role path on line-auth, user", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/admin/x", la_line(ACME), "deny_role", &["line_is_second_factor", "role_insufficient"]),
        c("role path on line-auth, admin", LA, Some(CARRIER_IP), Carrier(ACME_LINE), "/admin/x", v(ACME, H_LA, PW, Some(Factor::Line), Role::Admin), "allow", &["role_sufficient"]).method("password+line").id_line(ACME_LINE),
        c("role path, federated user", O, Some(INTERNET_IP), Absent, "/admin", v(ACME, H_O, FED, None, Role::User), "deny_role", &["two_factor_not_for_federated", "role_insufficient"]),
        c("role path, line-only tenant on network, admin", O, Some(CLOSED_NET_IP), Absent, "/admin", v(CLOSED, H_O, PW, None, Role::Admin), "allow", &["two_factor_off_by_line_only", "role_sufficient"]).method("password"),
    ]
}

#[test]
fn spec_section_3_table() {
    let snap = snapshot();
    let mut failures = Vec::new();
    let table = table();
    for case in &table {
        let norm = normalize_path(case.path);
        let d = run(&snap, &norm, case);
        let got = codes(&d);
        let mut problems = Vec::new();
        if d.outcome.label() != case.want {
            problems.push(format!("outcome {} (want {})", d.outcome.label(), case.want));
        }
        for want in case.codes {
            if !got.contains(want) {
                problems.push(format!("missing reason {want}"));
            }
        }
        // Reasons appear in the order the codes were listed.
        let positions: Vec<_> = case.codes.iter().filter_map(|w| got.iter().position(|g| g == w)).collect();
        if positions.windows(2).any(|w| w[0] > w[1]) {
            problems.push(format!("reasons out of order: want {:?}", case.codes));
        }
        // Every decision names its host first, never overflows, and Allow ends on "allowed".
        let first = got.first().copied();
        let host_code = match case.host {
            None => "host_unknown",
            Some(HostKind::Ordinary) => "host_ordinary",
            Some(HostKind::LineAuth) => "host_line_auth",
        };
        if first != Some(host_code) {
            problems.push(format!("first reason {first:?} (want {host_code})"));
        }
        if got.contains(&"truncated") {
            problems.push("reasons truncated".into());
        }
        let allowed = matches!(d.outcome, Outcome::Allow(_));
        if allowed != (got.last() == Some(&"allowed")) {
            problems.push("`allowed` must be the last reason exactly when the outcome is allow".into());
        }
        match (&d.outcome, case.sess) {
            (Outcome::Allow(id), Sess::Valid(t, _, _, _, role)) => {
                if let Some(m) = case.method
                    && id.method.as_str() != m
                {
                    problems.push(format!("method {} (want {m})", id.method.as_str()));
                }
                let want_line = case.id_line.map(line);
                if id.line != want_line {
                    problems.push(format!("identity line {:?} (want {want_line:?})", id.line));
                }
                if id.tenant != tenant_name(t) || id.role != role || id.user != "alice@example.net" {
                    problems.push(format!("identity {id:?}"));
                }
            }
            (Outcome::Allow(_), _) => problems.push("allowed without a valid session".into()),
            _ => {
                if case.method.is_some() || case.id_line.is_some() {
                    problems.push("row expects an identity but the outcome is not allow".into());
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n    reasons: {got:?}", case.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), table.len(), failures.join("\n"));
    assert!(table.len() >= 100, "the table has {} rows", table.len());
}

/// Every combination of the other dimensions, for the checks that must hold "regardless".
fn all_sessions() -> Vec<Sess> {
    let mut out = vec![Sess::Missing, Sess::Malformed, Sess::Unknown];
    for t in [ACME, CLOSED, RELAXED, GONE] {
        for h in [H_O, H_LA] {
            for m in [PW, FED] {
                for f in [
                    None,
                    Some(Factor::Sms),
                    Some(Factor::Totp),
                    Some(Factor::Recovery),
                    Some(Factor::Remembered),
                    Some(Factor::Line),
                ] {
                    for r in [Role::User, Role::Admin, Role::Owner] {
                        out.push(v(t, h, m, f, r));
                    }
                }
            }
        }
    }
    out
}

const IPS: [Option<&str>; 7] = [
    None,
    Some(INTERNET_IP),
    Some(CARRIER_IP),
    Some(ACME_NET_IP),
    Some(ACME_NET6_IP),
    Some(CLOSED_NET_IP),
    Some("::ffff:198.51.100.20"),
];
const LINES: [Ln; 8] = [
    Ln::Absent,
    Ln::Malformed,
    Ln::Untrusted,
    Ln::Carrier(ACME_LINE),
    Ln::Carrier(ACME_LINE_COP),
    Ln::Carrier(CLOSED_LINE),
    Ln::Carrier(RELAXED_LINE),
    Ln::Carrier(STRAY_LINE),
];
const PATHS: [&str; 9] =
    ["/", "/healthz", "/public/x", "/internal", "/admin/x", "/billing/x", "/%zz", "/a/../b", "/%2e%2e"];

fn for_all(hosts: &[Option<HostKind>], paths: &[&'static str], mut check: impl FnMut(&Case, &Decision<'_>)) -> usize {
    let snap = snapshot();
    let sessions = all_sessions();
    let mut n = 0;
    for &host in hosts {
        for &path in paths {
            let norm = normalize_path(path);
            for ip in IPS {
                for line in LINES {
                    for &sess in &sessions {
                        let case = c("combo", host, ip, line, path, sess, "", &[]);
                        let d = run(&snap, &norm, &case);
                        check(&case, &d);
                        n += 1;
                    }
                }
            }
        }
    }
    n
}

#[test]
fn unknown_host_is_421_regardless_of_anything() {
    let n = for_all(&[UNK], &PATHS, |case, d| {
        assert_eq!(d.outcome, Outcome::UnknownHost, "{case:?}");
        assert_eq!(codes(d), ["host_unknown"], "{case:?}");
    });
    assert!(n > 10_000);
}

#[test]
fn bypass_needs_no_session_on_either_host() {
    for_all(&[O, LA], &["/healthz", "/public", "/public/a/b.css", "/public/secret", "/x/../public/y"], |case, d| {
        assert_eq!(d.outcome, Outcome::Bypass, "{case:?}");
        assert!(codes(d).contains(&"path_rule_bypass"));
        // Nothing after the rule: session and line are not even looked at.
        assert_eq!(d.reasons.as_slice().len(), 2, "{case:?} {:?}", d.reasons);
    });
}

#[test]
fn deny_rule_denies_everyone_including_the_owner() {
    for_all(&[O, LA], &["/internal", "/internal/", "/internal/x", "/admin/../internal"], |case, d| {
        assert_eq!(d.outcome.label(), "deny_path", "{case:?}");
    });
}

#[test]
fn malformed_path_is_bad_request_for_everyone() {
    for_all(&[O, LA], &["/%zz", "/%", "/%ff", "/%00", "x", ""], |case, d| {
        assert_eq!(d.outcome, Outcome::BadRequest, "{case:?}");
    });
}

#[test]
fn only_a_valid_session_of_a_known_tenant_on_its_own_host_is_ever_allowed() {
    for_all(&[O, LA], &PATHS, |case, d| {
        let Outcome::Allow(id) = d.outcome else { return };
        let Sess::Valid(t, h, m, f, _) = case.sess else { panic!("allowed without a valid session: {case:?}") };
        assert_ne!(t, GONE);
        assert_eq!(Some(h), case.host);
        if h == H_O {
            assert_ne!(f, Some(Factor::Line), "{case:?}");
            assert_ne!(id.method.factor, Some(Factor::Line), "{case:?}");
        } else if m == PW {
            assert_eq!(id.method.as_str(), "password+line", "{case:?}");
        }
    });
}

#[test]
fn untrusted_or_malformed_line_never_counts_even_for_a_registered_id() {
    // The gateway turns a header from a non-carrier peer into `Untrusted` whatever
    // it says, so the id inside never reaches the engine: compare with the same
    // request where the (registered) id would have been believed.
    let snap = snapshot();
    for sess in all_sessions() {
        for host in [O, LA] {
            for ip in IPS {
                let base = c("untrusted", host, ip, Ln::Untrusted, "/", sess, "", &[]);
                let norm = normalize_path("/");
                let untrusted = run(&snap, &norm, &base);
                let absent = run(&snap, &norm, &Case { line: Ln::Absent, ..base.clone() });
                let malformed = run(&snap, &norm, &Case { line: Ln::Malformed, ..base.clone() });
                assert_eq!(untrusted.outcome, absent.outcome, "{base:?}");
                assert_eq!(malformed.outcome, absent.outcome, "{base:?}");
                for d in [&untrusted, &malformed] {
                    assert!(!codes(d).contains(&"line_registered"), "{base:?}");
                    if let Outcome::Allow(id) = d.outcome {
                        assert_eq!(id.line, None);
                    }
                }
            }
        }
    }
}

#[test]
fn a_line_counts_only_for_the_tenant_it_is_registered_to() {
    let snap = snapshot();
    let norm = normalize_path("/");
    for sess in all_sessions() {
        let Sess::Valid(t, ..) = sess else { continue };
        for host in [O, LA] {
            for ip in IPS {
                for l in [ACME_LINE, ACME_LINE_COP, CLOSED_LINE, RELAXED_LINE, STRAY_LINE] {
                    let mine = snap.tenant(t).is_some_and(|tp| tp.lines.contains(&line(l)));
                    let case = c("foreign line", host, ip, Ln::Carrier(l), "/", sess, "", &[]);
                    let with = run(&snap, &norm, &case);
                    let without = run(&snap, &norm, &Case { line: Ln::Absent, ..case.clone() });
                    if !mine {
                        assert_eq!(with.outcome.label(), without.outcome.label(), "{case:?}");
                        if let Outcome::Allow(id) = with.outcome {
                            assert_eq!(id.line, None, "{case:?}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn reason_codes_and_labels_are_distinct_and_explained() {
    use policy::PathAction;
    let reasons = [
        Reason::Host(H_O),
        Reason::Host(H_LA),
        Reason::UnknownHost,
        Reason::PathMalformed,
        Reason::PathRule { index: 0, action: PathAction::Bypass },
        Reason::PathRule { index: 1, action: PathAction::Deny },
        Reason::PathRule { index: 2, action: PathAction::RequireRole(Role::Admin) },
        Reason::NoPathRule,
        Reason::LineHeaderFromCarrier,
        Reason::LineHeaderUntrusted,
        Reason::LineHeaderMalformed,
        Reason::NoLineHeader,
        Reason::NoClientAddress,
        Reason::SessionMissing,
        Reason::SessionMalformed,
        Reason::SessionUnknown,
        Reason::SessionOtherHost { created_on: H_LA },
        Reason::SessionValid,
        Reason::TenantUnknown,
        Reason::LineRegistered,
        Reason::NetworkRegistered,
        Reason::NotFromLine,
        Reason::RouteLineOnly,
        Reason::RouteLineAndInternet,
        Reason::LineOnlyBlocksInternet,
        Reason::LineAuthNeedsLine,
        Reason::TwoFactorOff,
        Reason::TwoFactorOffByLineOnly,
        Reason::TwoFactorNotForFederated,
        Reason::LineIsSecondFactor,
        Reason::SecondFactorDone(Factor::Totp),
        Reason::SecondFactorMissing,
        Reason::RoleSufficient { need: Role::Admin },
        Reason::RoleInsufficient { need: Role::Owner, have: Role::User },
        Reason::Allowed,
        Reason::Truncated,
    ];
    let mut seen = std::collections::HashSet::new();
    for r in reasons {
        assert!(seen.insert(r.code()), "duplicate code {}", r.code());
        assert!(!r.to_string().is_empty());
    }
    // Human text numbers path rules from 1 as in the policy file.
    assert!(Reason::PathRule { index: 0, action: PathAction::Deny }.to_string().contains("#1"));
    let labels = [
        Outcome::UnknownHost.label(),
        Outcome::BadRequest.label(),
        Outcome::Bypass.label(),
        Outcome::Login.label(),
        Outcome::SecondFactor.label(),
        Outcome::Deny(policy::DenyKind::PathRule).label(),
        Outcome::Deny(policy::DenyKind::Role).label(),
        Outcome::Deny(policy::DenyKind::LineRequired).label(),
    ];
    let set: std::collections::HashSet<_> = labels.iter().collect();
    assert_eq!(set.len(), labels.len());
}

#[test]
fn path_rule_reason_names_the_matching_rule() {
    let snap = snapshot();
    for (path, index) in
        [("/healthz", 0u16), ("/public/x", 1), ("/public/secret", 1), ("/internal", 2), ("/admin", 3), ("/billing/", 4)]
    {
        let norm = normalize_path(path);
        let d = run(&snap, &norm, &c("rule index", O, None, Ln::Absent, path, Sess::Missing, "", &[]));
        assert!(
            d.reasons.as_slice().iter().any(|r| matches!(r, Reason::PathRule { index: i, .. } if *i == index)),
            "{path}: {:?}",
            d.reasons
        );
    }
}

#[test]
fn reasons_never_overflow() {
    for_all(&[O, LA], &PATHS, |case, d| {
        assert!(d.reasons.as_slice().len() < 16, "{case:?}");
        assert!(!d.reasons.contains(Reason::Truncated));
    });
}

#[test]
fn reasons_buffer_truncates_instead_of_panicking() {
    let mut r = policy::Reasons::new();
    for _ in 0..100 {
        r.push(Reason::Allowed);
    }
    assert_eq!(r.as_slice().len(), 16);
    assert_eq!(r.as_slice().last(), Some(&Reason::Truncated));
    assert!(r.as_slice()[..15].iter().all(|x| *x == Reason::Allowed));
}

#[test]
fn empty_snapshot_refuses_every_session() {
    let snap = PolicySnapshot::default();
    let norm = normalize_path("/healthz");
    let d = run(&snap, &norm, &c("empty", O, None, Ln::Absent, "/healthz", Sess::Missing, "", &[]));
    assert_eq!(d.outcome.label(), "login", "no rules at all: /healthz is not special");
    let norm = normalize_path("/");
    let d = run(
        &snap,
        &norm,
        &c(
            "empty",
            LA,
            Some(CARRIER_IP),
            Ln::Carrier(ACME_LINE),
            "/",
            v(ACME, H_LA, PW, Some(Factor::Line), Role::Owner),
            "",
            &[],
        ),
    );
    assert_eq!(d.outcome.label(), "login");
    assert!(d.reasons.contains(Reason::TenantUnknown));
}
