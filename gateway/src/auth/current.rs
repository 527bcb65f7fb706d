//! The signed-in user of an auth page, judged by the same policy as storage
//! requests (route, line, second factor) but without the ops path rules.

use std::sync::Arc;

use pingora::prelude::*;
use policy::{Outcome, PathFact, Request, SessionFact, SessionView};

use super::Visit;
use crate::proxy::respond::Reply;
use crate::session::{Cached, CookieFact, read_cookie};

pub enum Current {
    /// Allowed here and now.
    User(Arc<Cached>),
    /// No usable session (or one that policy refuses right now).
    None,
}

pub async fn current(v: &Visit<'_>, req: &RequestHeader) -> std::result::Result<Current, Reply> {
    let cookie =
        read_cookie(req.headers.get_all("cookie").iter().map(|h| h.as_bytes()), &v.app.cfg.session.cookie_name);
    let CookieFact::Present(id) = cookie else { return Ok(Current::None) };
    let cached = match v.app.sessions.lookup(&v.app.store, &id, crate::store::now()).await {
        Ok(Some(c)) => c,
        Ok(None) => return Ok(Current::None),
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            return Err(v.unavailable());
        }
    };
    let snapshot = v.app.policy.load();
    let r = &cached.rec;
    let request = Request {
        host: Some(v.facts.host),
        client_ip: v.facts.client_ip,
        line: v.facts.line,
        path: PathFact::Normalised("/auth/settings"),
        session: SessionFact::Valid(SessionView {
            user: &r.email,
            tenant: r.tenant_id,
            role: r.role,
            method: r.method,
            factor: r.factor,
            host: r.host,
        }),
    };
    let allowed = matches!(policy::decide_access(&snapshot, &request).outcome, Outcome::Allow(_));
    Ok(if allowed { Current::User(cached) } else { Current::None })
}
