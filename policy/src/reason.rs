use std::fmt;

use crate::host::HostKind;
use crate::path::PathAction;
use crate::role::{Factor, Role};

/// One step of a decision, in the order it was taken. Small and `Copy` so that
/// a decision records its reasons without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Host(HostKind),
    UnknownHost,
    PathMalformed,
    PathRule {
        index: u16,
        action: PathAction,
    },
    NoPathRule,
    LineHeaderFromCarrier,
    LineHeaderUntrusted,
    LineHeaderMalformed,
    NoLineHeader,
    NoClientAddress,
    SessionMissing,
    SessionMalformed,
    SessionUnknown,
    SessionOtherHost {
        created_on: HostKind,
    },
    SessionValid,
    TenantUnknown,
    LineRegistered,
    NetworkRegistered,
    NotFromLine,
    RouteLineOnly,
    RouteLineAndInternet,
    LineOnlyBlocksInternet,
    LineAuthNeedsLine,
    TwoFactorOff,
    TwoFactorOffByLineOnly,
    TwoFactorNotForFederated,
    LineIsSecondFactor,
    SecondFactorDone(Factor),
    SecondFactorMissing,
    RoleSufficient {
        need: Role,
    },
    RoleInsufficient {
        need: Role,
        have: Role,
    },
    Allowed,
    /// More reasons than a decision has room for; never expected in practice.
    Truncated,
}

impl Reason {
    /// A stable machine-readable name, used in `policy explain --json` and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Host(HostKind::Ordinary) => "host_ordinary",
            Reason::Host(HostKind::LineAuth) => "host_line_auth",
            Reason::UnknownHost => "host_unknown",
            Reason::PathMalformed => "path_malformed",
            Reason::PathRule { action: PathAction::Bypass, .. } => "path_rule_bypass",
            Reason::PathRule { action: PathAction::Deny, .. } => "path_rule_deny",
            Reason::PathRule { action: PathAction::RequireRole(_), .. } => "path_rule_require_role",
            Reason::NoPathRule => "path_no_rule",
            Reason::LineHeaderFromCarrier => "line_header_from_carrier",
            Reason::LineHeaderUntrusted => "line_header_untrusted",
            Reason::LineHeaderMalformed => "line_header_malformed",
            Reason::NoLineHeader => "line_header_absent",
            Reason::NoClientAddress => "client_address_unknown",
            Reason::SessionMissing => "session_missing",
            Reason::SessionMalformed => "session_malformed",
            Reason::SessionUnknown => "session_unknown",
            Reason::SessionOtherHost { .. } => "session_other_host",
            Reason::SessionValid => "session_valid",
            Reason::TenantUnknown => "tenant_unknown",
            Reason::LineRegistered => "line_registered",
            Reason::NetworkRegistered => "network_registered",
            Reason::NotFromLine => "not_from_line",
            Reason::RouteLineOnly => "route_line_only",
            Reason::RouteLineAndInternet => "route_line_and_internet",
            Reason::LineOnlyBlocksInternet => "line_only_blocks_internet",
            Reason::LineAuthNeedsLine => "line_auth_needs_line",
            Reason::TwoFactorOff => "two_factor_off",
            Reason::TwoFactorOffByLineOnly => "two_factor_off_by_line_only",
            Reason::TwoFactorNotForFederated => "two_factor_not_for_federated",
            Reason::LineIsSecondFactor => "line_is_second_factor",
            Reason::SecondFactorDone(_) => "second_factor_done",
            Reason::SecondFactorMissing => "second_factor_missing",
            Reason::RoleSufficient { .. } => "role_sufficient",
            Reason::RoleInsufficient { .. } => "role_insufficient",
            Reason::Allowed => "allowed",
            Reason::Truncated => "truncated",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Host(HostKind::Ordinary) => f.write_str("the request came to the ordinary (internet) hostname"),
            Reason::Host(HostKind::LineAuth) => f.write_str("the request came to the line-authentication hostname"),
            Reason::UnknownHost => f.write_str("the Host is neither of the configured hostnames"),
            Reason::PathMalformed => f.write_str("the path could not be decoded cleanly, so it is refused"),
            Reason::PathRule { index, action } => match action {
                PathAction::Bypass => write!(f, "path rule #{} lets the path through without a session", index + 1),
                PathAction::Deny => write!(f, "path rule #{} denies the path to everyone", index + 1),
                PathAction::RequireRole(r) => write!(f, "path rule #{} requires the role {r} or higher", index + 1),
            },
            Reason::NoPathRule => f.write_str("no path rule matches; a session is needed"),
            Reason::LineHeaderFromCarrier => f.write_str("a line id was asserted by a trusted carrier network"),
            Reason::LineHeaderUntrusted => f.write_str(
                "a line header came from an address outside the carrier networks; it was removed and ignored",
            ),
            Reason::LineHeaderMalformed => {
                f.write_str("the carrier's line header is not a valid line number; it is ignored")
            }
            Reason::NoLineHeader => f.write_str("no line id was asserted"),
            Reason::NoClientAddress => {
                f.write_str("the client address could not be determined; it counts as not from a line")
            }
            Reason::SessionMissing => f.write_str("there is no session cookie"),
            Reason::SessionMalformed => f.write_str("the session cookie is malformed"),
            Reason::SessionUnknown => f.write_str("the session is unknown, expired or revoked"),
            Reason::SessionOtherHost { created_on } => {
                write!(f, "the session was created on the {created_on} hostname and is not valid here")
            }
            Reason::SessionValid => f.write_str("the session is valid"),
            Reason::TenantUnknown => f.write_str("the session's tenant no longer exists"),
            Reason::LineRegistered => f.write_str("the line id is registered to the user's tenant"),
            Reason::NetworkRegistered => {
                f.write_str("the client address is inside a network registered to the user's tenant")
            }
            Reason::NotFromLine => f.write_str("neither a registered line nor a registered network of the tenant"),
            Reason::RouteLineOnly => f.write_str("the tenant's access route is line-only"),
            Reason::RouteLineAndInternet => f.write_str("the tenant's access route is line-and-internet"),
            Reason::LineOnlyBlocksInternet => {
                f.write_str("a line-only tenant is reachable only from its registered lines and networks")
            }
            Reason::LineAuthNeedsLine => {
                f.write_str("the line-authentication hostname needs a registered line or network")
            }
            Reason::TwoFactorOff => f.write_str("the tenant's 2-step verification switch is off"),
            Reason::TwoFactorOffByLineOnly => f.write_str("2-step verification is off because the route is line-only"),
            Reason::TwoFactorNotForFederated => {
                f.write_str("the identity provider handles the second factor of federated logins")
            }
            Reason::LineIsSecondFactor => {
                f.write_str("on the line-authentication hostname the line is the second factor")
            }
            Reason::SecondFactorDone(factor) => {
                write!(f, "the session completed a second factor ({})", factor.as_str())
            }
            Reason::SecondFactorMissing => f.write_str("the session has not completed a second factor"),
            Reason::RoleSufficient { need } => write!(f, "the user's role meets the required {need}"),
            Reason::RoleInsufficient { need, have } => write!(f, "the path needs the role {need}; the user is {have}"),
            Reason::Allowed => f.write_str("allowed"),
            Reason::Truncated => f.write_str("(further reasons omitted)"),
        }
    }
}

const CAPACITY: usize = 16;

/// The reasons of one decision, inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Reasons {
    items: [Reason; CAPACITY],
    len: u8,
}

impl Reasons {
    pub fn new() -> Self {
        Reasons { items: [Reason::Truncated; CAPACITY], len: 0 }
    }

    pub fn push(&mut self, r: Reason) {
        let len = self.len as usize;
        if len < CAPACITY - 1 {
            self.items[len] = r;
            self.len += 1;
        } else if len == CAPACITY - 1 {
            self.items[len] = Reason::Truncated;
            self.len += 1;
        }
    }

    pub fn as_slice(&self) -> &[Reason] {
        &self.items[..self.len as usize]
    }

    pub fn contains(&self, r: Reason) -> bool {
        self.as_slice().contains(&r)
    }
}

impl Default for Reasons {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Reasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}
