use std::net::IpAddr;

use crate::host::HostKind;
use crate::line::LineId;
use crate::path::PathAction;
use crate::reason::{Reason, Reasons};
use crate::role::{Factor, LoginMethod, Role};
use crate::snapshot::PolicySnapshot;
use crate::tenant::{Route, TenantId, TenantPolicy};

/// What the carrier told us about the line, as established by the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFact {
    /// No line header.
    Absent,
    /// A valid line id from a trusted carrier network.
    Asserted(LineId),
    /// A trusted carrier network sent a header that is not a line number.
    Malformed,
    /// A line header from any other peer: removed, counted, never believed.
    Untrusted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFact<'a> {
    Normalised(&'a str),
    Malformed,
}

/// A valid session as read from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionView<'a> {
    pub user: &'a str,
    pub tenant: TenantId,
    pub role: Role,
    pub method: LoginMethod,
    /// For a federated session: the provider id (`google`, `ad`, …) that the
    /// origin is told in `X-Auth-Method`.
    pub provider: Option<&'a str>,
    pub factor: Option<Factor>,
    /// The hostname kind the session was created on; it is valid only there.
    pub host: HostKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFact<'a> {
    Missing,
    Malformed,
    /// Well-formed but not found, expired or revoked.
    Unknown,
    Valid(SessionView<'a>),
}

/// The facts of one request, as the gateway established them.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `None`: the Host matched neither configured hostname.
    pub host: Option<HostKind>,
    /// `None`: the address could not be determined or parsed.
    pub client_ip: Option<IpAddr>,
    pub line: LineFact,
    pub path: PathFact<'a>,
    pub session: SessionFact<'a>,
}

/// How the user proved who they are, as told to the origin in `X-Auth-Method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthMethod<'a> {
    pub login: LoginMethod,
    pub factor: Option<Factor>,
    /// The provider id of a federated login; `federated` is said without one.
    pub provider: Option<&'a str>,
}

impl<'a> AuthMethod<'a> {
    pub fn as_str(&self) -> &'a str {
        match self.static_name() {
            Some(name) => name,
            None => self.provider.unwrap_or("federated"),
        }
    }

    /// The name when it is one of the fixed ones (every password method, and
    /// a federated login without a provider id); `None` for a provider's id.
    pub fn static_name(&self) -> Option<&'static str> {
        Some(match (self.login, self.factor) {
            (LoginMethod::Federated, _) if self.provider.is_some() => return None,
            (LoginMethod::Federated, _) => "federated",
            (LoginMethod::Password, None) => "password",
            (LoginMethod::Password, Some(Factor::Sms)) => "password+sms",
            (LoginMethod::Password, Some(Factor::Totp)) => "password+totp",
            (LoginMethod::Password, Some(Factor::Recovery)) => "password+recovery",
            (LoginMethod::Password, Some(Factor::Remembered)) => "password+remembered",
            (LoginMethod::Password, Some(Factor::Line)) => "password+line",
        })
    }
}

/// The identity the origin is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity<'a> {
    pub user: &'a str,
    pub tenant: &'a str,
    pub role: Role,
    pub method: AuthMethod<'a>,
    /// The registered line the request came from, when it came from one.
    pub line: Option<LineId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyKind {
    /// An ops path rule denies the path.
    PathRule,
    /// The path needs a higher role.
    Role,
    /// The tenant's route or the hostname needs a registered line or network.
    LineRequired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// 421: the Host is not ours.
    UnknownHost,
    /// 400: the path cannot be normalised.
    BadRequest,
    /// Proxied without a session and without identity headers.
    Bypass,
    /// Proxied with the identity headers.
    Allow(Identity<'a>),
    /// No usable session: log in (redirect for pages, 401 otherwise).
    Login,
    /// A session without the second factor it needs here.
    SecondFactor,
    /// 403 with a page that says why.
    Deny(DenyKind),
}

impl Outcome<'_> {
    /// A stable label for metrics and `policy explain --json`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::UnknownHost => "unknown_host",
            Outcome::BadRequest => "bad_request",
            Outcome::Bypass => "bypass",
            Outcome::Allow(_) => "allow",
            Outcome::Login => "login",
            Outcome::SecondFactor => "second_factor",
            Outcome::Deny(DenyKind::PathRule) => "deny_path",
            Outcome::Deny(DenyKind::Role) => "deny_role",
            Outcome::Deny(DenyKind::LineRequired) => "deny_line",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'a> {
    pub outcome: Outcome<'a>,
    pub reasons: Reasons,
}

impl TenantPolicy {
    /// `from_line`: the asserted line is registered to this tenant, or the client
    /// address lies inside one of its networks. Returns which one matched.
    pub fn line_match(&self, line: &LineFact, client_ip: Option<IpAddr>) -> Option<Reason> {
        if let LineFact::Asserted(id) = line
            && self.lines.contains(id)
        {
            return Some(Reason::LineRegistered);
        }
        match client_ip {
            Some(ip) if self.networks.contains(ip) => Some(Reason::NetworkRegistered),
            _ => None,
        }
    }
}

/// Decides one request. Every path through this function ends in exactly one
/// outcome; anything unknown or malformed ends in a refusal, never in `Allow`.
pub fn decide<'a>(snap: &'a PolicySnapshot, req: &Request<'a>) -> Decision<'a> {
    let mut reasons = Reasons::new();
    let outcome = decide_into(snap, req, &mut reasons, true);
    Decision { outcome, reasons }
}

/// As [`decide`] without the ops path rules: for the gateway's own pages
/// (settings, admin), which need a session that is good here and now whatever
/// the rules say about storage paths.
pub fn decide_access<'a>(snap: &'a PolicySnapshot, req: &Request<'a>) -> Decision<'a> {
    let mut reasons = Reasons::new();
    let outcome = decide_into(snap, req, &mut reasons, false);
    Decision { outcome, reasons }
}

fn decide_into<'a>(snap: &'a PolicySnapshot, req: &Request<'a>, why: &mut Reasons, apply_rules: bool) -> Outcome<'a> {
    let Some(host) = req.host else {
        why.push(Reason::UnknownHost);
        return Outcome::UnknownHost;
    };
    why.push(Reason::Host(host));

    let PathFact::Normalised(path) = req.path else {
        why.push(Reason::PathMalformed);
        return Outcome::BadRequest;
    };
    let mut required_role = None;
    let rule = if apply_rules { snap.rules.first_match(path) } else { None };
    match rule {
        Some((index, rule)) => {
            why.push(Reason::PathRule { index: index.min(u16::MAX as usize) as u16, action: rule.action });
            match rule.action {
                PathAction::Bypass => return Outcome::Bypass,
                PathAction::Deny => return Outcome::Deny(DenyKind::PathRule),
                PathAction::RequireRole(role) => required_role = Some(role),
            }
        }
        None => why.push(Reason::NoPathRule),
    }

    why.push(match req.line {
        LineFact::Absent => Reason::NoLineHeader,
        LineFact::Asserted(_) => Reason::LineHeaderFromCarrier,
        LineFact::Malformed => Reason::LineHeaderMalformed,
        LineFact::Untrusted => Reason::LineHeaderUntrusted,
    });

    let session = match req.session {
        SessionFact::Missing => {
            why.push(Reason::SessionMissing);
            return Outcome::Login;
        }
        SessionFact::Malformed => {
            why.push(Reason::SessionMalformed);
            return Outcome::Login;
        }
        SessionFact::Unknown => {
            why.push(Reason::SessionUnknown);
            return Outcome::Login;
        }
        SessionFact::Valid(s) => s,
    };
    // A line-earned session is never good for the internet hostname, whatever
    // host it claims to have been made on.
    let line_session_on_internet = host == HostKind::Ordinary && session.factor == Some(Factor::Line);
    if session.host != host || line_session_on_internet {
        why.push(Reason::SessionOtherHost { created_on: session.host });
        return Outcome::Login;
    }
    why.push(Reason::SessionValid);

    let Some(tenant) = snap.tenant(session.tenant) else {
        why.push(Reason::TenantUnknown);
        return Outcome::Login;
    };

    let line_match = tenant.line_match(&req.line, req.client_ip);
    match line_match {
        Some(r) => why.push(r),
        None => {
            if req.client_ip.is_none() {
                why.push(Reason::NoClientAddress);
            }
            why.push(Reason::NotFromLine);
        }
    }
    let from_line = line_match.is_some();

    why.push(match tenant.route {
        Route::LineOnly => Reason::RouteLineOnly,
        Route::LineAndInternet => Reason::RouteLineAndInternet,
    });
    if tenant.route == Route::LineOnly && !from_line {
        why.push(Reason::LineOnlyBlocksInternet);
        return Outcome::Deny(DenyKind::LineRequired);
    }
    if host == HostKind::LineAuth && !from_line {
        why.push(Reason::LineAuthNeedsLine);
        return Outcome::Deny(DenyKind::LineRequired);
    }

    let factor = match (host, session.method) {
        (_, LoginMethod::Federated) => {
            why.push(Reason::TwoFactorNotForFederated);
            None
        }
        (HostKind::LineAuth, LoginMethod::Password) => {
            why.push(Reason::LineIsSecondFactor);
            Some(Factor::Line)
        }
        (HostKind::Ordinary, LoginMethod::Password) => {
            if tenant.route == Route::LineOnly {
                why.push(Reason::TwoFactorOffByLineOnly);
                session.factor
            } else if !tenant.two_factor {
                why.push(Reason::TwoFactorOff);
                session.factor
            } else if let Some(f) = session.factor {
                why.push(Reason::SecondFactorDone(f));
                Some(f)
            } else {
                why.push(Reason::SecondFactorMissing);
                return Outcome::SecondFactor;
            }
        }
    };

    if let Some(need) = required_role {
        if session.role >= need {
            why.push(Reason::RoleSufficient { need });
        } else {
            why.push(Reason::RoleInsufficient { need, have: session.role });
            return Outcome::Deny(DenyKind::Role);
        }
    }

    why.push(Reason::Allowed);
    let line = match (line_match, req.line) {
        (Some(Reason::LineRegistered), LineFact::Asserted(id)) => Some(id),
        _ => None,
    };
    Outcome::Allow(Identity {
        user: session.user,
        tenant: &tenant.name,
        role: session.role,
        method: AuthMethod { login: session.method, factor, provider: session.provider },
        line,
    })
}
