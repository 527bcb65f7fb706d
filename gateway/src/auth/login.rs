//! Login, logout and (until 2-step verification arrives) the 2FA notice.

use pingora::prelude::*;
use pingora::proxy::Session;
use policy::{Factor, HostKind, LineFact, Role};

use super::start::{NewLogin, clear_cookie, end_current, start};
use super::{Visit, csrf_for, hidden_field, notify, query_param, rd, read_form, with_cookie};
use crate::mail::Notice;
use crate::metrics;
use crate::proxy::respond::Reply;
use crate::store::LinkPurpose;
use crate::ui::html::{error_box, escape};
use crate::ui::pages;

/// Consecutive wrong passwords that lock an account.
pub const LOCK_AFTER: i64 = 10;

fn login_page(v: &Visit<'_>, csrf_token: &str, rd: &str, error: Option<&str>) -> String {
    let note = match v.facts.host {
        HostKind::LineAuth => format!(
            "<p class=\"hint\">{}</p>",
            v.t(
                "You are signing in through your organisation's carrier line.",
                "組織の登録回線経由でログインしています。",
            )
        ),
        HostKind::Ordinary => String::new(),
    };
    let error = error.map(error_box).unwrap_or_default();
    v.page(
        v.t("Sign in", "ログイン"),
        &format!(
            "{note}{error}<form method=\"post\" action=\"/auth/login\">{csrf}\
             <input type=\"hidden\" name=\"rd\" value=\"{rd}\">\
             <label for=\"email\">{email_label}</label>\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
             <label for=\"password\">{password_label}</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">{submit}</button></form>\
             <p><a href=\"/auth/password/forgot\">{forgot}</a></p>\
             <p><a href=\"/auth/settings\">{settings}</a></p>",
            csrf = hidden_field(csrf_token),
            rd = escape(rd),
            email_label = v.t("Email address", "メールアドレス"),
            password_label = v.t("Password", "パスワード"),
            submit = v.t("Sign in", "ログイン"),
            forgot = v.t("Forgot your password?", "パスワードをお忘れの方"),
            settings = v.t("Settings", "設定メニュー"),
        ),
    )
}

pub async fn show(v: &Visit<'_>, session: &mut Session) -> Reply {
    let req = session.req_header();
    let rd = rd::safe_return(&query_param(req, "rd").unwrap_or_else(|| "/".into()));
    let (token, cookie) = csrf_for(v, req);
    with_cookie(Reply::html(200, login_page(v, &token, &rd, None)), cookie)
}

/// The one answer for unknown email, wrong password and locked account: same
/// status, same bytes (the form never echoes the email), same work done.
fn refused(v: &Visit<'_>, req: &RequestHeader, rd: &str) -> Reply {
    let (token, cookie) = csrf_for(v, req);
    let msg = v.t(
        "The email address or password is not correct, or the account cannot sign in right now.",
        "メールアドレスまたはパスワードが正しくないか、現在このアカウントではログインできません。",
    );
    with_cookie(Reply::html(401, login_page(v, &token, rd, Some(msg))), cookie)
}

pub async fn submit(v: &Visit<'_>, session: &mut Session) -> Result<Reply> {
    let app = v.app;
    if !app.login_throttle.allow(v.facts.client_ip) {
        metrics::LOGINS.with_label_values(&["throttled"]).inc();
        let body = v.page(
            v.t("Too many sign-in attempts", "ログインの試行回数が多すぎます"),
            v.t(
                "<p>There were too many sign-in attempts from your network. Please wait a minute and try again.</p>",
                "<p>お使いのネットワークからのログイン試行が多すぎます。1分ほど待ってから再度お試しください。</p>",
            ),
        );
        let retry = crate::throttle::WINDOW.as_secs().to_string();
        return Ok(Reply::html(429, body).header("retry-after", retry));
    }
    let form = match read_form(v, session).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let email = form.get("email").unwrap_or("").trim().to_owned();
    let password = form.get("password").unwrap_or("").to_owned();
    let rd = rd::safe_return(form.get("rd").unwrap_or("/"));
    let ip = v.facts.ip_text();
    let host = Some(v.facts.host.as_str());

    let user = match app.store.user_by_email(&email).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            return Ok(v.unavailable());
        }
    };
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = password.len() <= 1024 && app.hasher.verify(stored_hash, password).await;

    let Some(user) = user else {
        metrics::LOGINS.with_label_values(&["failure"]).inc();
        let _ = app
            .store
            .audit(None, None, Some(&crate::store::canonical_email(&email)), "login_failure", ip.as_deref(), host)
            .await;
        return Ok(refused(v, session.req_header(), &rd));
    };
    if !password_ok && !user.locked && user.password_hash.is_some() {
        count_failure(v, &user).await;
    }
    let snapshot = app.policy.load_full();
    let role = Role::parse(&user.role).ok();
    let tenant = snapshot.tenant(user.tenant_id);
    let (Some(role), Some(tenant), true, false, true) =
        (role, tenant, password_ok, user.locked, user.login_method == "password")
    else {
        metrics::LOGINS.with_label_values(&["failure"]).inc();
        let _ =
            app.store.audit(Some(user.tenant_id), None, Some(&user.email), "login_failure", ip.as_deref(), host).await;
        return Ok(refused(v, session.req_header(), &rd));
    };
    if user.failed_logins > 0 {
        let _ = app.store.reset_failed_logins(user.id).await;
    }

    // On the line-auth hostname the line is the second factor, so it must be
    // one of the tenant's before any session exists.
    let factor = match v.facts.host {
        HostKind::LineAuth => {
            if tenant.line_match(&v.facts.line, v.facts.client_ip).is_none() {
                metrics::LOGINS.with_label_values(&["line_refused"]).inc();
                let _ = app
                    .store
                    .audit(
                        Some(user.tenant_id),
                        Some(&user.email),
                        Some(&user.email),
                        "line_auth_failure",
                        ip.as_deref(),
                        host,
                    )
                    .await;
                return Ok(Reply::html(403, pages::line_auth_failed(&v.ui())));
            }
            Some(Factor::Line)
        }
        HostKind::Ordinary => None,
    };
    let line = match v.facts.line {
        LineFact::Asserted(id) if tenant.lines.contains(&id) => Some(id),
        _ => None,
    };
    let login = NewLogin { user_id: user.id, tenant_id: user.tenant_id, email: &user.email, role, factor, line };
    let cookie = match start(v, login).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "session insert failed");
            return Ok(v.unavailable());
        }
    };
    // A login is a privilege change: the session the browser had before is ended.
    end_current(v, session.req_header()).await;
    metrics::LOGINS.with_label_values(&["success"]).inc();
    let _ = app
        .store
        .audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "login_success", ip.as_deref(), host)
        .await;
    Ok(Reply::redirect(303, rd).header("set-cookie", cookie))
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
    let ip = v.facts.ip_text();
    let _ = app
        .store
        .audit(Some(user.tenant_id), None, Some(&user.email), "lock", ip.as_deref(), Some(v.facts.host.as_str()))
        .await;
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

pub async fn logout(v: &Visit<'_>, session: &mut Session) -> Result<Reply> {
    if let Err(reply) = read_form(v, session).await? {
        return Ok(reply);
    }
    end_current(v, session.req_header()).await;
    let _ =
        v.app.store.audit(None, None, None, "logout", v.facts.ip_text().as_deref(), Some(v.facts.host.as_str())).await;
    Ok(Reply::redirect(303, "/auth/login".into()).header("set-cookie", clear_cookie(v)))
}

/// Until 2-step verification is built, a user who needs it is told so plainly.
pub async fn second_factor(v: &Visit<'_>, session: &mut Session) -> Reply {
    let (token, cookie) = csrf_for(v, session.req_header());
    let body = v.page(
        v.t("2-step verification required", "2段階認証が必要です"),
        &format!(
            "{}<form method=\"post\" action=\"/auth/logout\">{}<button type=\"submit\">{}</button></form>",
            v.t(
                "<p>Your organisation requires a second step after the password for sign-ins from the internet.</p>\
                 <p>Setting up 2-step verification is not available in this version of the gateway yet. \
                 Ask your administrator, or connect through your organisation's registered line.</p>",
                "<p>ご利用の組織では、インターネットからのログイン時にパスワードに加えて2段階目の認証が必要です。</p>\
                 <p>このバージョンでは2段階認証の設定はまだご利用いただけません。管理者にお問い合わせいただくか、組織の登録回線経由で接続してください。</p>",
            ),
            hidden_field(&token),
            v.t("Sign out", "ログアウト"),
        ),
    );
    with_cookie(Reply::html(200, body), cookie)
}
