//! Login, logout and (until 2-step verification arrives) the 2FA notice.

use policy::{Factor, HostKind, LineFact};

use super::start::{NewLogin, clear_cookie, end_current, start};
use super::views::LoginPage;
use super::{Visit, csrf_for, hidden_field, notify, rd, read_form, with_cookie};
use crate::mail::Notice;
use crate::metrics;
use crate::store::LinkPurpose;
use crate::ui::html::escape;
use crate::ui::pages;
use crate::web::{Outcome, Reply};

/// Consecutive wrong passwords that lock an account.
pub const LOCK_AFTER: i64 = 10;

fn login_page(v: &Visit<'_>, csrf_token: &str, rd: &str, error: Option<&str>, status: u16) -> Outcome {
    crate::web::page(
        status,
        &LoginPage {
            ui: v.ui(),
            title: v.t("Sign in", "ログイン"),
            csrf: csrf_token,
            rd,
            error,
            line_auth: v.facts.host == HostKind::LineAuth,
        },
    )
}

pub async fn show(v: &Visit<'_>) -> Outcome {
    let rd = rd::safe_return(&v.req.query("rd").unwrap_or_else(|| "/".into()));
    let (token, cookie) = csrf_for(v);
    Ok(with_cookie(login_page(v, &token, &rd, None, 200)?, cookie))
}

/// Said to every refused sign-in. A locked account has been mailed its
/// unlock link, so the message says so, without saying whether this one is.
pub const REFUSED_EN: &str = "The email address or password is not correct, or the account is locked. A locked account has been sent an email with a link that unlocks it.";
const REFUSED_JA: &str = "メールアドレスまたはパスワードが正しくないか、アカウントがロックされています。ロックされたアカウントには、ロックを解除するためのリンクをメールでお送りしています。";

/// The one answer for unknown email, wrong password and locked account: same
/// status, same bytes (the form never echoes the email), same work done.
fn refused(v: &Visit<'_>, rd: &str) -> Outcome {
    let (token, cookie) = csrf_for(v);
    Ok(with_cookie(login_page(v, &token, rd, Some(v.t(REFUSED_EN, REFUSED_JA)), 401)?, cookie))
}

pub async fn submit(v: &Visit<'_>) -> Outcome {
    let app = v.app;
    if let Some(reply) = throttled(v) {
        return Ok(reply);
    }
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let email = form.get("email").unwrap_or("").trim().to_owned();
    let password = form.get("password").unwrap_or("").to_owned();
    let rd = rd::safe_return(form.get("rd").unwrap_or("/"));

    let user = match app.store.user_by_email(&email).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            return Ok(v.unavailable());
        }
    };
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = if password.len() > 1024 {
        false
    } else {
        match app.hasher.verify(stored_hash, password).await {
            Ok(ok) => ok,
            // No answer is not a wrong password: nothing is counted against the account.
            Err(e) => {
                tracing::warn!(error = %e, "password check unavailable");
                return Ok(v.unavailable().header("retry-after", crate::password::QUEUE_WAIT.as_secs().to_string()));
            }
        }
    };

    let Some(user) = user else {
        metrics::LOGINS.with_label_values(&["failure"]).inc();
        v.audit(None, None, Some(&crate::store::canonical_email(&email)), "login_failure").await;
        return refused(v, &rd);
    };
    if !password_ok && !user.locked && user.password_hash.is_some() {
        count_failure(v, &user).await;
    }
    let snapshot = app.policy.load_full();
    let role = user.role;
    let tenant = snapshot.tenant(user.tenant_id);
    let (Some(tenant), true, false, true) =
        (tenant, password_ok, user.locked, user.login_method == policy::LoginMethod::Password)
    else {
        metrics::LOGINS.with_label_values(&["failure"]).inc();
        v.audit(Some(user.tenant_id), None, Some(&user.email), "login_failure").await;
        return refused(v, &rd);
    };
    if user.failed_logins > 0 {
        let _ = app.store.reset_failed_logins(user.id).await;
    }

    // On the line-auth hostname the line is the second factor, so it must be
    // one of the tenant's before any session exists.
    let factor =
        match v.facts.host {
            HostKind::LineAuth => {
                if tenant.line_match(&v.facts.line, v.facts.client_ip).is_none() {
                    metrics::LOGINS.with_label_values(&["line_refused"]).inc();
                    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "line_auth_failure").await;
                    return Ok(Reply::html(403, pages::line_auth_failed(&v.ui())));
                }
                Some(Factor::Line)
            }
            // A remembered browser of a user seen within 30 days skips the second step.
            HostKind::Ordinary if tenant.two_factor_required() => {
                if super::second::remembered(v, &v.req, user.id).await { Some(Factor::Remembered) } else { None }
            }
            HostKind::Ordinary => None,
        };
    let line = match v.facts.line {
        LineFact::Asserted(id) if tenant.lines.contains(&id) => Some(id),
        _ => None,
    };
    // Some regions' users agree once per line before line information is used.
    if let (HostKind::LineAuth, true, Some(id)) = (v.facts.host, v.facts.consent_region, line) {
        match app.store.line_consented(id.as_str()).await {
            Ok(true) => {}
            Ok(false) => return Ok(ask_line_consent(v, user.id, id, &rd).await),
            Err(_) => return Ok(v.unavailable()),
        }
    }
    if factor.is_some() || !tenant.two_factor_required() || v.facts.host == HostKind::LineAuth {
        let _ = app.store.set_last_access(user.id, crate::store::now()).await;
    }
    let login = NewLogin {
        user_id: user.id,
        tenant_id: user.tenant_id,
        email: &user.email,
        role,
        factor,
        line,
        pending_factor: None,
        pending_remember: false,
    };
    let cookie = match start(v, login).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "session insert failed");
            return Ok(v.unavailable());
        }
    };
    // A login is a privilege change: the session the browser had before is ended.
    end_current(v).await;
    metrics::LOGINS.with_label_values(&["success"]).inc();
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "login_success").await;
    Ok(Reply::redirect(303, rd).header("set-cookie", cookie))
}

/// The per-address throttle every password form shares: Some(429 page) when
/// this address is over it.
pub(super) fn throttled(v: &Visit<'_>) -> Option<Reply> {
    if v.app.login_throttle.allow(v.facts.client_ip) {
        return None;
    }
    metrics::LOGINS.with_label_values(&["throttled"]).inc();
    let body = v.page(
        v.t("Too many sign-in attempts", "ログインの試行回数が多すぎます"),
        v.t(
            "<p>There were too many sign-in attempts from your network. Please wait a minute and try again.</p>",
            "<p>お使いのネットワークからのログイン試行が多すぎます。1分ほど待ってから再度お試しください。</p>",
        ),
    );
    Some(Reply::html(429, body).header("retry-after", crate::throttle::WINDOW.as_secs().to_string()))
}

/// A password check for a signed-in user (re-authentication, password and
/// email change), counted exactly like a login: a wrong one counts toward the
/// lock, a right one resets the count, a locked account never passes.
/// Err: the reply to send instead (no hashing thread free: nothing counted).
pub(super) async fn check_password(
    v: &Visit<'_>,
    user: &crate::store::UserRow,
    password: &str,
) -> std::result::Result<bool, Reply> {
    let ok = if password.len() > 1024 {
        false
    } else {
        match v.app.hasher.verify(user.password_hash.clone(), password.to_owned()).await {
            Ok(ok) => ok,
            Err(e) => {
                tracing::warn!(error = %e, "password check unavailable");
                return Err(v.unavailable().header("retry-after", crate::password::QUEUE_WAIT.as_secs().to_string()));
            }
        }
    };
    if !ok && !user.locked && user.password_hash.is_some() {
        count_failure(v, user).await;
    }
    if ok && !user.locked && user.failed_logins > 0 {
        let _ = v.app.store.reset_failed_logins(user.id).await;
    }
    Ok(ok && !user.locked)
}

/// Counts a wrong password; the tenth in a row locks the account, ends its
/// sessions and mails the unlock link.
async fn count_failure(v: &Visit<'_>, user: &crate::store::UserRow) {
    let app = v.app;
    let count = match app.store.record_failed_login(user.id).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "counting a failed login failed");
            return;
        }
    };
    if count < LOCK_AFTER {
        return;
    }
    match app.store.lock_user(user.id).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::error!(error = %e, "locking an account failed");
            return;
        }
    }
    v.audit(Some(user.tenant_id), None, Some(&user.email), "lock").await;
    if let Err(e) = super::start::end_all(v, user.id).await {
        tracing::error!(error = %e, "ending sessions of a locked account failed");
    }
    match notify::new_link(&app.cfg, &app.store, user.id, LinkPurpose::Unlock, None).await {
        Ok(token) => {
            let link = v.link(&format!("/auth/unlock?ticket={token}"));
            notify::mail(v, &user.email, &Notice::Locked { unlock_link: &link });
        }
        Err(e) => tracing::error!(error = %e, "creating the unlock link failed"),
    }
}

pub async fn logout(v: &Visit<'_>) -> Outcome {
    if let Err(reply) = read_form(v).await? {
        return Ok(reply);
    }
    end_current(v).await;
    v.audit(None, None, None, "logout").await;
    Ok(Reply::redirect(303, "/auth/login".into()).header("set-cookie", clear_cookie(v)))
}

/// Carries a finished login to the line-consent screen until it is answered.
pub const PENDING_COOKIE: &str = "gw_pending";
/// How long the consent screen waits for an answer.
const CONSENT_SECS: i64 = 600;

async fn ask_line_consent(v: &Visit<'_>, user_id: i64, line: policy::LineId, rd: &str) -> Reply {
    let token = crate::tokens::random_token();
    let Some(hash) = crate::tokens::hash_token(&token) else { return v.unavailable() };
    let link = crate::store::NewLink {
        token_hash: &hash,
        purpose: LinkPurpose::LineConsent,
        user_id,
        payload: Some(line.as_str()),
        expires_at: crate::store::now() + CONSENT_SECS,
    };
    if v.app.store.create_link(link).await.is_err() {
        return v.unavailable();
    }
    let (csrf, csrf_cookie) = csrf_for(v);
    let body = v.page(
        v.t("Consent to use your line information", "回線情報の利用への同意"),
        &format!(
            "<p>{intro}</p><p><strong>{line}</strong></p><p class=\"hint\">{once}</p>\
             <form method=\"post\" action=\"/auth/line-consent\">{csrf}<input type=\"hidden\" name=\"rd\" value=\"{rd}\">\
             <p><label><input type=\"checkbox\" name=\"agree\" value=\"1\" required> {agree}</label></p>\
             <button type=\"submit\">{go}</button></form>",
            intro = v.t(
                "To sign you in by your carrier line, the service uses the line number your carrier reports for this connection. Do you agree to this use of your line information?",
                "回線認証のため、通信事業者から通知されるこの接続の回線番号を利用します。回線情報の利用に同意しますか。",
            ),
            line = escape(line.as_str()),
            once = v.t("You are asked once for this line.", "この確認は、回線ごとに一度だけ表示されます。"),
            csrf = hidden_field(&csrf),
            rd = escape(rd),
            agree = v.t("I agree to the use of my line information", "回線情報の利用に同意します"),
            go = v.t("Agree and continue", "同意して続ける"),
        ),
    );
    let pending = crate::session::set_cookie(&crate::session::CookieSpec {
        name: PENDING_COOKIE,
        value: &token,
        secure: v.app.cfg.session.secure_cookies,
        http_only: true,
        max_age: Some(CONSENT_SECS as u64),
    });
    with_cookie(Reply::html(200, body).header("set-cookie", pending), csrf_cookie)
}

/// The answer to the consent screen: the login it held back goes ahead.
pub async fn line_consent(v: &Visit<'_>) -> Outcome {
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let rd = rd::safe_return(form.get("rd").unwrap_or("/"));
    let req = &v.req;
    let token =
        crate::session::cookie_value(req.headers.get_all("cookie").iter().map(|h| h.as_bytes()), PENDING_COOKIE);
    let hash = token.as_deref().and_then(crate::tokens::hash_token);
    if form.get("agree").is_none() || v.facts.host != HostKind::LineAuth {
        return Ok(Reply::redirect(303, "/auth/login".into()));
    }
    let consumed = match hash {
        Some(h) => v.app.store.consume_link_with_payload(&h, LinkPurpose::LineConsent).await.ok().flatten(),
        None => None,
    };
    let Some((user_id, Some(line_text))) = consumed else {
        return Ok(Reply::redirect(303, "/auth/login".into()));
    };
    let Ok(line) = policy::LineId::parse(&line_text) else { return Ok(Reply::redirect(303, "/auth/login".into())) };
    // The line must still be the one this request comes from.
    if v.facts.line != LineFact::Asserted(line) {
        return Ok(Reply::html(403, pages::line_auth_failed(&v.ui())));
    }
    let Ok(Some(user)) = v.app.store.user_by_id(user_id).await else { return Ok(v.unavailable()) };
    let role = user.role;
    if v.app.store.record_line_consent(line.as_str(), user_id).await.is_err() {
        return Ok(v.unavailable());
    }
    v.audit(Some(user.tenant_id), Some(&user.email), Some(line.as_str()), "line_consent").await;
    let login = NewLogin {
        user_id,
        tenant_id: user.tenant_id,
        email: &user.email,
        role,
        factor: Some(Factor::Line),
        line: Some(line),
        pending_factor: None,
        pending_remember: false,
    };
    let cookie = match start(v, login).await {
        Ok(c) => c,
        Err(_) => return Ok(v.unavailable()),
    };
    end_current(v).await;
    let _ = v.app.store.set_last_access(user_id, crate::store::now()).await;
    let clear = crate::session::set_cookie(&crate::session::CookieSpec {
        name: PENDING_COOKIE,
        value: "",
        secure: v.app.cfg.session.secure_cookies,
        http_only: true,
        max_age: Some(0),
    });
    Ok(Reply::redirect(303, rd).header("set-cookie", cookie).header("set-cookie", clear))
}
