//! 2-step verification on the ordinary hostname: the second step of a
//! sign-in (SMS first, or an authenticator app; the recovery code), the
//! "verification complete" screen, remembered browsers, and changing the
//! registered phone or app. (`crate::second_factor` is the arithmetic:
//! TOTP, encryption, recovery codes; `accounts` the rules; this, the pages.)
//!
//! A password login that still needs its second factor holds a session whose
//! factor is empty; the proxy sends it here. Entering a code replaces that
//! session with a new one (new id) that carries the factor. After an enrolment
//! or a recovery-code sign-in the factor is first held as "pending" until the
//! user confirms that the new recovery code is saved.

mod app;
mod change;
mod chooser;
mod devices;
mod done;
mod recovery;
mod sms;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use policy::HostKind;

pub use app::{totp_form, totp_submit};
pub use change::{app_form, app_submit, phone_form, phone_submit};
pub use chooser::chooser;
pub use devices::{devices_page, devices_revoke};
pub use done::verified;
pub use recovery::{recovery_code, recovery_code_saved, recovery_form, recovery_submit};
pub use sms::sms;

use super::start::{clear_cookie, end_current};
use super::views::two_step::{Ended, Locked, TooMany};
use super::{Visit, read_form, to_login};
use crate::session::{Cached, CookieFact, read_cookie};
use crate::store::{UserRow, now};
use crate::tokens;
use crate::web::form::Form;
use crate::web::rd::ReturnPath;
use crate::web::{Outcome, Refusal, Reply, page};

/// Wrong codes one pending login survives before it ends.
pub const MAX_FAILURES: i64 = 5;
pub const DEVICE_COOKIE: &str = "gw_device";

/// The browser's session that is waiting for its second factor.
pub struct Pending {
    id: [u8; 32],
    cached: Arc<Cached>,
}

/// The second-step guard (`web::Guard::SecondStep`).
pub(super) async fn pending(v: &Visit<'_>) -> Result<Pending, Refusal> {
    let CookieFact::Present(id) = read_cookie(v.req.cookie_headers(), &v.app.cfg.session.cookie_name) else {
        return Err(to_login(v).into());
    };
    let Some(cached) = v.app.sessions.lookup(&v.app.store, &id, now()).await? else {
        return Err(to_login(v).into());
    };
    if cached.rec.host != HostKind::Ordinary || v.facts.host != HostKind::Ordinary {
        return Err(to_login(v).into());
    }
    if cached.rec.factor.is_some() {
        // Nothing left to do here.
        return Err(Reply::redirect(303, ReturnPath::from_query(&v.req, "/").into_string()).into());
    }
    // A locked second factor refuses every code, even a right one: the pending
    // login ends here.
    if v.app.store.second_factor_locked(cached.rec.user_id).await? {
        end_current(v).await;
        return Err(locked_reply(v).header("set-cookie", clear_cookie(v)).into());
    }
    Ok(Pending { id, cached })
}

impl Pending {
    /// The user this login is for, as the account operations take it.
    async fn user(&self, v: &Visit<'_>) -> Result<UserRow, Refusal> {
        match v.app.store.user_by_id(self.cached.rec.user_id).await? {
            Some(u) => Ok(u),
            None => Err(to_login(v).into()),
        }
    }
}

/// A page from its template, or the reply a broken template leaves: for
/// answers built where an `Outcome` cannot be returned.
fn reply_of(outcome: Outcome) -> Reply {
    match outcome {
        Ok(r) | Err(Refusal::Answer(r)) => r,
        Err(Refusal::Broken { what, cause }) => {
            tracing::error!(what, cause, "a 2-step page could not be rendered");
            Reply::text(503, "service unavailable\n")
        }
    }
}

/// What a user whose second factor is locked is told, and how it is undone.
pub(super) fn locked_reply(v: &Visit<'_>) -> Reply {
    let title = v.t("2-step verification is locked", "2段階認証がロックされています");
    reply_of(page(403, &Locked { ui: v.ui(), title }))
}

/// Counts a wrong second-factor code against the user (the re-authentication
/// and break-glass pages' way in to `Accounts::count_second_factor_failure`).
/// True when the second factor is locked now; a failure to count is taken as
/// locked, so nothing is guessed past an uncounted code.
pub(super) async fn count_user_failure(v: &Visit<'_>, user_id: i64, _tenant_id: i64, email: &str) -> bool {
    let user = match v.app.store.user_by_id(user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return true,
        Err(e) => {
            tracing::error!(error = %e, "counting a wrong code failed");
            return true;
        }
    };
    match v.accounts().count_second_factor_failure(&v.actor(Some(email)), &user).await {
        Ok(locked) => locked,
        Err(e) => {
            tracing::error!(error = %e, "counting a wrong code failed");
            true
        }
    }
}

/// Checks the per-address and per-user limits on code entry.
pub(super) async fn throttled(v: &Visit<'_>, user_id: i64) -> Option<Reply> {
    if v.app.allow_code(v.facts.client_ip, user_id).await {
        return None;
    }
    let title = v.t("Too many attempts", "試行回数が多すぎます");
    let reply = reply_of(page(429, &TooMany { ui: v.ui(), title }));
    Some(reply.header("retry-after", crate::throttle::WINDOW.as_secs().to_string()))
}

/// A wrong code was counted against the user; it also counts against this
/// pending login. Past either limit the pending login ends.
async fn wrong_code(v: &Visit<'_>, p: &Pending, locked: bool, again: Outcome) -> Outcome {
    let n = v.app.store.record_factor_failure(&tokens::hash_bytes(&p.id)).await?;
    v.app.sessions.remove(&p.id);
    if locked {
        end_current(v).await;
        return Ok(locked_reply(v).header("set-cookie", clear_cookie(v)));
    }
    if n < MAX_FAILURES {
        return again;
    }
    end_current(v).await;
    let title = v.t("Sign in again", "もう一度ログインしてください");
    Ok(page(401, &Ended { ui: v.ui(), title })?.header("set-cookie", clear_cookie(v)))
}

/// A locked second factor found while entering a code: the pending login ends.
async fn locked_now(v: &Visit<'_>) -> Outcome {
    end_current(v).await;
    Ok(locked_reply(v).header("set-cookie", clear_cookie(v)))
}

/// What every code-entry POST starts with: the form (CSRF checked by the
/// dispatcher), the per-address and per-user limits, and the return path.
async fn code_entry(v: &Visit<'_>, p: &Pending) -> Result<(Form, ReturnPath), Refusal> {
    let form = read_form(v)?;
    if let Some(r) = throttled(v, p.cached.rec.user_id).await {
        return Err(r.into());
    }
    let rd = ReturnPath::from_form(&form, "/");
    Ok((form, rd))
}
