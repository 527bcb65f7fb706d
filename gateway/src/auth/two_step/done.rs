//! The end of the second step: a new session that carries the factor, the
//! browser remembered when asked, then the manual's "verification complete"
//! screen before going on to where the user was going.

use policy::Factor;

use super::super::start::{NewLogin, end_current, start};
use super::super::views::two_step::Verified;
use super::{DEVICE_COOKIE, Pending};
use crate::accounts::REMEMBER_SECS;
use crate::session::{CookieFact, CookieSpec, read_cookie, set_cookie};
use crate::store::{UserRow, now};
use crate::web::rd::ReturnPath;
use crate::web::{Outcome, Reply, page};

/// Where a finished second step goes first.
pub const VERIFIED: &str = "/auth/verified";

/// The second factor is done: a new session carries it (the old one ends);
/// the browser is remembered when the user asked.
pub(super) async fn complete(
    v: &crate::auth::Visit<'_>,
    p: &Pending,
    user: &UserRow,
    factor: Factor,
    remember: bool,
    rd: &ReturnPath,
) -> Outcome {
    let label = v.req.header(http::header::USER_AGENT).map(|ua| ua.chars().take(120).collect::<String>());
    let by = v.actor(Some(&user.email));
    let remembered =
        v.accounts().complete_second_factor(&by, user, factor, remember.then_some(label.as_deref())).await?;
    let r = &p.cached.rec;
    let login = NewLogin {
        user_id: r.user_id,
        tenant_id: r.tenant_id,
        email: &r.email,
        role: r.role,
        factor: Some(factor),
        line: None,
        pending_factor: None,
        pending_remember: false,
        provider: None,
    };
    let cookie = start(v, login).await?;
    end_current(v).await;
    let mut reply = Reply::redirect(303, rd.on(VERIFIED)).header("set-cookie", cookie);
    if let Some(ticket) = remembered {
        reply = reply.header(
            "set-cookie",
            set_cookie(&CookieSpec {
                name: DEVICE_COOKIE,
                value: &ticket,
                secure: v.app.cfg.session.secure_cookies,
                http_only: true,
                max_age: Some(REMEMBER_SECS as u64),
            }),
        );
    }
    Ok(reply)
}

/// "2-step verification complete", with the way on. Shown to a session that
/// has its second factor; anyone else goes straight on (the proxy asks them
/// to sign in there if they must).
pub async fn verified(v: &crate::auth::Visit<'_>) -> Outcome {
    let rd = ReturnPath::from_query(&v.req, "/");
    let done = match read_cookie(v.req.cookie_headers(), &v.app.cfg.session.cookie_name) {
        CookieFact::Present(id) => v
            .app
            .sessions
            .lookup(&v.app.store, &id, now())
            .await?
            .is_some_and(|c| c.rec.factor.is_some() && c.rec.host == v.facts.host),
        _ => false,
    };
    if !done {
        return Ok(Reply::redirect(303, rd.into_string()));
    }
    page(200, &Verified { ui: v.ui(), title: v.t("2-step verification complete", "2段階認証完了"), rd: &rd })
}
