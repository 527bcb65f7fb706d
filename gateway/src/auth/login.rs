//! Sign-in, sign-out and the line-consent screen. The attempt itself (the
//! password check, counting, the lock and its mail) is
//! `accounts::Accounts::sign_in`; this page turns it into a session.

use policy::{Factor, HostKind, LineFact};

use super::start::{NewLogin, clear_cookie, end_current, start};
use super::views::{LineConsent, LoginPage, LoginThrottled};
use super::{Visit, csrf_for, read_form, with_cookie};
use crate::accounts::{PasswordCheck, SignIn};
use crate::metrics;
use crate::store::{LinkPurpose, UserRow};
use crate::ui::pages;
use crate::web::rd::ReturnPath;
use crate::web::{Outcome, Refusal, Reply, page};

fn login_page(v: &Visit<'_>, csrf_token: &str, rd: &ReturnPath, error: Option<&str>, status: u16) -> Outcome {
    page(
        status,
        &LoginPage {
            ui: v.ui(),
            title: v.t("Sign in", "ログイン"),
            csrf: csrf_token,
            rd: rd.as_str(),
            error,
            line_auth: v.facts.host == HostKind::LineAuth,
            providers: super::federated::buttons(v, rd),
            directory_href: format!("/auth/ad?rd={}", rd.encoded()),
        },
    )
}

pub async fn show(v: &Visit<'_>) -> Outcome {
    let rd = ReturnPath::from_query(&v.req, "/");
    let (token, cookie) = csrf_for(v);
    Ok(with_cookie(login_page(v, &token, &rd, None, 200)?, cookie))
}

/// Said to every refused sign-in. A locked account has been mailed its
/// unlock link, so the message says so, without saying whether this one is.
pub const REFUSED_EN: &str = "The email address or password is not correct, or the account is locked. A locked account has been sent an email with a link that unlocks it.";
const REFUSED_JA: &str = "メールアドレスまたはパスワードが正しくないか、アカウントがロックされています。ロックされたアカウントには、ロックを解除するためのリンクをメールでお送りしています。";

/// The one answer for unknown email, wrong password and locked account: same
/// status, same bytes (the form never echoes the email), same work done.
fn refused(v: &Visit<'_>, rd: &ReturnPath) -> Outcome {
    metrics::LOGINS.with_label_values(&["failure"]).inc();
    let (token, cookie) = csrf_for(v);
    Ok(with_cookie(login_page(v, &token, rd, Some(v.t(REFUSED_EN, REFUSED_JA)), 401)?, cookie))
}

/// No hashing thread answered in time: not a wrong password, nothing counted.
fn busy(v: &Visit<'_>) -> Reply {
    v.unavailable().header("retry-after", crate::password::QUEUE_WAIT.as_secs().to_string())
}

pub async fn submit(v: &Visit<'_>) -> Outcome {
    let app = v.app;
    if let Some(reply) = throttled(v).await {
        return Ok(reply);
    }
    let form = read_form(v)?;
    let email = form.get("email").unwrap_or("").trim();
    let password = form.get("password").unwrap_or("");
    let rd = ReturnPath::from_form(&form, "/");
    let snapshot = app.policy.load_full();
    let attempt = v
        .accounts()
        .sign_in(&v.actor(None), &app.hasher, email, password, |u| snapshot.tenant(u.tenant_id).is_some())
        .await?;
    let user = match attempt {
        SignIn::Passed(user) => user,
        SignIn::Refused => return refused(v, &rd),
        SignIn::Busy => return Ok(busy(v)),
    };
    let Some(tenant) = snapshot.tenant(user.tenant_id) else { return refused(v, &rd) };

    if let Some(refusal) = off_line(v, tenant, &user).await {
        return Ok(refusal);
    }
    let factor = match v.facts.host {
        HostKind::LineAuth => Some(Factor::Line),
        // A remembered browser of a user seen within 30 days skips the second step.
        HostKind::Ordinary if tenant.two_factor_required() => match v.req.cookie(super::DEVICE_COOKIE) {
            Some(ticket) if v.accounts().remembered_browser(user.id, &ticket).await? => Some(Factor::Remembered),
            _ => None,
        },
        HostKind::Ordinary => None,
    };
    let line = registered_line(v, tenant);
    if let Some(id) = needs_consent(v, line).await? {
        return ask_line_consent(v, user.id, id, &rd).await;
    }
    let complete = factor.is_some() || !tenant.two_factor_required();
    let cookie = start(v, new_login(&user, factor, line)).await?;
    // A login is a privilege change: the session the browser had before is ended.
    end_current(v).await;
    v.accounts().signed_in(&v.actor(Some(&user.email)), &user, complete).await?;
    metrics::LOGINS.with_label_values(&["success"]).inc();
    Ok(Reply::redirect(303, rd.into_string()).header("set-cookie", cookie))
}

/// On the line-auth hostname the line is the second factor, so it must be one
/// of the tenant's before any session exists, however the person signed in:
/// the refusal page when it is not.
pub(super) async fn off_line(v: &Visit<'_>, tenant: &policy::TenantPolicy, user: &UserRow) -> Option<Reply> {
    if v.facts.host != HostKind::LineAuth || tenant.line_match(&v.facts.line, v.facts.client_ip).is_some() {
        return None;
    }
    metrics::LOGINS.with_label_values(&["line_refused"]).inc();
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "line_auth_failure").await;
    Some(Reply::html(403, pages::line_auth_failed(&v.ui())))
}

/// The tenant's line this request came from, when it came from one.
pub(super) fn registered_line(v: &Visit<'_>, tenant: &policy::TenantPolicy) -> Option<policy::LineId> {
    match v.facts.line {
        LineFact::Asserted(id) if tenant.lines.contains(&id) => Some(id),
        _ => None,
    }
}

/// The line to ask consent for first: some regions' users agree once per
/// line before line information is used.
pub(super) async fn needs_consent(
    v: &Visit<'_>,
    line: Option<policy::LineId>,
) -> Result<Option<policy::LineId>, crate::store::StoreError> {
    match (v.facts.host, v.facts.consent_region, line) {
        (HostKind::LineAuth, true, Some(id)) if !v.app.store.line_consented(id.as_str()).await? => Ok(Some(id)),
        _ => Ok(None),
    }
}

pub(super) fn new_login(user: &UserRow, factor: Option<Factor>, line: Option<policy::LineId>) -> NewLogin<'_> {
    NewLogin {
        user_id: user.id,
        tenant_id: user.tenant_id,
        email: &user.email,
        role: user.role,
        factor,
        line,
        pending_factor: None,
        pending_remember: false,
        provider: None,
    }
}

/// The per-address throttle every password form shares: Some(429 page) when
/// this address is over it.
pub(super) async fn throttled(v: &Visit<'_>) -> Option<Reply> {
    if v.app.allow_login(v.facts.client_ip).await {
        return None;
    }
    metrics::LOGINS.with_label_values(&["throttled"]).inc();
    Some(throttled_reply(v))
}

/// The "too many attempts, wait a minute" page (429).
pub(super) fn throttled_reply(v: &Visit<'_>) -> Reply {
    let title = v.t("Too many sign-in attempts", "ログインの試行回数が多すぎます");
    let reply = match page(429, &LoginThrottled { ui: v.ui(), title }) {
        Ok(reply) | Err(Refusal::Answer(reply)) => reply,
        Err(Refusal::Broken { .. }) => Reply::text(429, "too many sign-in attempts\n"),
    };
    reply.header("retry-after", crate::throttle::WINDOW.as_secs().to_string())
}

/// A password check for a signed-in user (re-authentication, password and
/// email change): `Accounts::check_password`, counted exactly like a login.
/// Err: the reply to send instead (no hashing thread free: nothing counted).
pub(super) async fn check_password(v: &Visit<'_>, user: &UserRow, password: &str) -> Result<bool, Reply> {
    let checked = v.accounts().check_password(&v.actor(Some(&user.email)), &v.app.hasher, user, password).await;
    match checked {
        Ok(PasswordCheck::Right) => Ok(true),
        Ok(PasswordCheck::Wrong) => Ok(false),
        Ok(PasswordCheck::Busy) => Err(busy(v)),
        Err(e) => {
            tracing::error!(error = %e, "a password check failed");
            Err(v.unavailable())
        }
    }
}

pub async fn logout(v: &Visit<'_>) -> Outcome {
    read_form(v)?;
    end_current(v).await;
    v.audit(None, None, None, "logout").await;
    Ok(Reply::redirect(303, "/auth/login".into()).header("set-cookie", clear_cookie(v)))
}

/// Carries a finished login to the line-consent screen until it is answered.
pub const PENDING_COOKIE: &str = "gw_pending";
/// How long the consent screen waits for an answer.
const CONSENT_SECS: i64 = 600;

pub(super) async fn ask_line_consent(v: &Visit<'_>, user_id: i64, line: policy::LineId, rd: &ReturnPath) -> Outcome {
    let ticket = crate::tokens::random_token();
    let hash = crate::tokens::hash_token(&ticket).ok_or_else(|| Refusal::broken("a ticket", "not generated"))?;
    let held = crate::store::NewLink {
        token_hash: &hash,
        purpose: LinkPurpose::LineConsent,
        user_id,
        payload: Some(line.as_str()),
        expires_at: crate::store::now() + CONSENT_SECS,
    };
    v.app.store.create_link(held).await?;
    let (csrf, csrf_cookie) = csrf_for(v);
    let view = LineConsent {
        ui: v.ui(),
        title: v.t("Consent to use your line information", "回線情報の利用への同意"),
        csrf: &csrf,
        rd: rd.as_str(),
        line: line.as_str(),
    };
    let pending = crate::session::set_cookie(&crate::session::CookieSpec {
        name: PENDING_COOKIE,
        value: &ticket,
        secure: v.app.cfg.session.secure_cookies,
        http_only: true,
        max_age: Some(CONSENT_SECS as u64),
    });
    Ok(with_cookie(page(200, &view)?.header("set-cookie", pending), csrf_cookie))
}

/// The answer to the consent screen: the login it held back goes ahead.
pub async fn line_consent(v: &Visit<'_>) -> Outcome {
    let form = read_form(v)?;
    let rd = ReturnPath::from_form(&form, "/");
    let back = || Ok(Reply::redirect(303, "/auth/login".into()));
    let hash = v.req.cookie(PENDING_COOKIE).as_deref().and_then(crate::tokens::hash_token);
    if form.get("agree").is_none() || v.facts.host != HostKind::LineAuth {
        return back();
    }
    let consumed = match hash {
        Some(h) => v.app.store.consume_link_with_payload(&h, LinkPurpose::LineConsent).await?,
        None => None,
    };
    let Some((user_id, Some(line_text))) = consumed else { return back() };
    let Ok(line) = policy::LineId::parse(&line_text) else { return back() };
    // The line must still be the one this request comes from.
    if v.facts.line != LineFact::Asserted(line) {
        return Ok(Reply::html(403, pages::line_auth_failed(&v.ui())));
    }
    let Some(user) = v.app.store.user_by_id(user_id).await? else { return back() };
    v.accounts().consent_to_line(&v.actor(Some(&user.email)), &user, line.as_str()).await?;
    // A federated user's session carries their provider, as at any sign-in.
    let provider = match user.login_method {
        policy::LoginMethod::Federated => v.app.store.federated_identity(user.id).await?.map(|i| i.provider),
        policy::LoginMethod::Password => None,
    };
    let login = NewLogin { provider: provider.as_deref(), ..new_login(&user, Some(Factor::Line), Some(line)) };
    let cookie = start(v, login).await?;
    end_current(v).await;
    v.accounts().signed_in(&v.actor(Some(&user.email)), &user, true).await?;
    let clear = crate::session::set_cookie(&crate::session::CookieSpec {
        name: PENDING_COOKIE,
        value: "",
        secure: v.app.cfg.session.secure_cookies,
        http_only: true,
        max_age: Some(0),
    });
    Ok(Reply::redirect(303, rd.into_string()).header("set-cookie", cookie).header("set-cookie", clear))
}

#[cfg(test)]
#[path = "login_tests.rs"]
mod tests;
