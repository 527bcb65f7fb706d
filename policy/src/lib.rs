//! The decision engine of the line-auth gateway.
//!
//! Everything here is pure: no I/O, no clocks, no async. The gateway gathers the
//! facts of a request ([`Request`]) and hands them, together with an immutable
//! [`PolicySnapshot`], to [`decide`], which returns a [`Decision`]: the outcome and
//! the reasons that led to it. Keeping this crate pure is what makes it cheap to
//! test exhaustively and to benchmark, and what lets `gateway policy explain` show
//! exactly what the proxy would do.

mod decide;
mod host;
mod line;
mod path;
mod reason;
mod role;
mod snapshot;
mod tenant;

pub use decide::{
    AuthMethod, Decision, DenyKind, Identity, LineFact, Outcome, PathFact, Request, SessionFact, SessionView, decide,
    decide_access,
};
pub use host::HostKind;
pub use line::{LineId, LineIdError};
pub use path::{
    Origin, PathAction, PathError, PathMatch, PathOptions, PathRule, PathRules, already_normal, encode_path,
    normalize_path,
};
pub use reason::{Reason, Reasons};
pub use role::{Factor, LoginMethod, ParseError, Role};
pub use snapshot::PolicySnapshot;
pub use tenant::{NetworkLimits, NetworkRefusal, NetworkSet, Route, TenantId, TenantPolicy};
