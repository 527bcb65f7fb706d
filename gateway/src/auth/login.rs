//! Login, logout and (until 2-step verification arrives) the 2FA notice.

use pingora::prelude::*;
use pingora::proxy::Session;
use policy::{Factor, HostKind, LoginMethod, Role};

use super::form::{self, FormError};
use super::{Facts, csrf, query_param, rd};
use crate::app::App;
use crate::metrics;
use crate::proxy::respond::{Reply, send};
use crate::session::{CookieFact, CookieSpec, read_cookie, set_cookie};
use crate::store::{NewSession, SessionRecord, now};
use crate::tokens;
use crate::ui::html::{escape, page};
use crate::ui::pages;

/// One message for unknown email, wrong password and locked account, so the
/// form never tells a stranger which accounts exist.
const LOGIN_FAILED: &str = "The email address or password is not correct, or the account cannot sign in right now.";

fn login_page(app: &App, host: HostKind, csrf_token: &str, rd: &str, email: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let note = match host {
        HostKind::LineAuth => "<p class=\"hint\">You are signing in through your organisation's carrier line.</p>",
        HostKind::Ordinary => "",
    };
    page(
        app.product(),
        "Sign in",
        &format!(
            "{note}{error}<form method=\"post\" action=\"/auth/login\">{csrf}\
             <input type=\"hidden\" name=\"rd\" value=\"{rd}\">\
             <label for=\"email\">Email address</label>\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{email}\">\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">Sign in</button></form>",
            csrf = csrf::hidden_field(csrf_token),
            rd = escape(rd),
            email = escape(email),
        ),
    )
}

fn with_csrf_cookie(app: &App, reply: Reply, new_cookie: Option<String>) -> Reply {
    match new_cookie {
        Some(t) => reply.header("set-cookie", csrf::cookie_header(&t, app.cfg.session.secure_cookies)),
        None => reply,
    }
}

pub async fn show(app: &App, session: &mut Session, facts: Facts) -> Result<bool> {
    let req = session.req_header();
    let rd = rd::safe_return(&query_param(req, "rd").unwrap_or_else(|| "/".into()));
    let (token, new_cookie) = csrf::token_for(req);
    let body = login_page(app, facts.host, &token, &rd, "", None);
    send(session, with_csrf_cookie(app, Reply::html(200, body), new_cookie)).await
}

async fn form_refused(app: &App, session: &mut Session, e: FormError) -> Result<bool> {
    let (status, what) = match e {
        FormError::TooLarge => (413, "The form was larger than this server accepts."),
        FormError::WrongType => (415, "The form was not sent as a web form."),
    };
    send(session, Reply::html(status, pages::bad_request(app.product(), what))).await
}

async fn csrf_refused(app: &App, session: &mut Session) -> Result<bool> {
    let body = page(
        app.product(),
        "The form has expired",
        "<p>For your security the form could not be accepted. Go back, reload the page and try again.</p>\
         <p><a href=\"/auth/login\">Go to the sign-in page</a></p>",
    );
    send(session, Reply::html(403, body)).await
}

pub async fn submit(app: &App, session: &mut Session, facts: Facts) -> Result<bool> {
    if !app.login_throttle.allow(facts.client_ip) {
        metrics::LOGINS.with_label_values(&["throttled"]).inc();
        let body = page(
            app.product(),
            "Too many sign-in attempts",
            "<p>There were too many sign-in attempts from your network. Please wait a minute and try again.</p>",
        );
        let retry = crate::throttle::WINDOW.as_secs().to_string();
        return send(session, Reply::html(429, body).header("retry-after", retry)).await;
    }
    let form = match form::read(session, app.cfg.login.max_body_bytes).await? {
        Ok(f) => f,
        Err(e) => return form_refused(app, session, e).await,
    };
    if !csrf::verify(session.req_header(), form.get("csrf")) {
        return csrf_refused(app, session).await;
    }
    let email = form.get("email").unwrap_or("").trim().to_owned();
    let password = form.get("password").unwrap_or("").to_owned();
    let rd = rd::safe_return(form.get("rd").unwrap_or("/"));

    let user = match app.store.user_by_email(&email).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            return send(session, Reply::html(503, pages::unavailable(app.product()))).await;
        }
    };
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = password.len() <= 1024 && app.hasher.verify(stored_hash, password).await;
    let usable = user.filter(|u| password_ok && !u.locked && u.login_method == "password");
    let snapshot = app.policy.load_full();
    let account = usable.and_then(|u| {
        let role = Role::parse(&u.role).ok()?;
        let tenant = snapshot.tenant(u.tenant_id)?;
        Some((u, role, tenant))
    });
    let Some((user, role, tenant)) = account else {
        metrics::LOGINS.with_label_values(&["failure"]).inc();
        let _ = app
            .store
            .audit(None, None, Some(&email.to_lowercase()), "login_failure", facts.ip_text().as_deref(), Some(facts.host.as_str()))
            .await;
        let (token, new_cookie) = csrf::token_for(session.req_header());
        let body = login_page(app, facts.host, &token, &rd, &email, Some(LOGIN_FAILED));
        return send(session, with_csrf_cookie(app, Reply::html(401, body), new_cookie)).await;
    };

    // On the line-auth hostname the line is the second factor, so it must be
    // one of the tenant's before any session exists.
    let factor = match facts.host {
        HostKind::LineAuth => {
            if tenant.line_match(&facts.line, facts.client_ip).is_none() {
                metrics::LOGINS.with_label_values(&["line_refused"]).inc();
                let _ = app
                    .store
                    .audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "line_auth_failure", facts.ip_text().as_deref(), Some(facts.host.as_str()))
                    .await;
                return send(session, Reply::html(403, pages::line_auth_failed(app.product()))).await;
            }
            Some(Factor::Line)
        }
        HostKind::Ordinary => None,
    };
    let line = match facts.line {
        policy::LineFact::Asserted(id) if tenant.lines.contains(&id) => Some(id),
        _ => None,
    };

    let token = tokens::random_token();
    let Some(id) = tokens::decode_token(&token) else {
        return send(session, Reply::html(500, pages::unavailable(app.product()))).await;
    };
    let expires_at = now() + app.cfg.session.lifetime.as_secs() as i64;
    let id_hash = tokens::hash_bytes(&id);
    let line_text = line.map(|l| l.as_str().to_owned());
    let ip_text = facts.ip_text();
    let inserted = app
        .store
        .insert_session(NewSession {
            id_hash: &id_hash,
            user_id: user.id,
            host: facts.host,
            factor,
            line: line_text.as_deref(),
            client_ip: ip_text.as_deref(),
            expires_at,
        })
        .await;
    if let Err(e) = inserted {
        tracing::error!(error = %e, "session insert failed");
        return send(session, Reply::html(503, pages::unavailable(app.product()))).await;
    }
    app.sessions.insert(
        &id,
        SessionRecord {
            user_id: user.id,
            tenant_id: user.tenant_id,
            email: user.email.clone(),
            role,
            method: LoginMethod::Password,
            factor,
            host: facts.host,
            expires_at,
            last_seen_at: now(),
        },
    );
    // A login is a privilege change: the session the browser had before is ended.
    end_current_session(app, session.req_header()).await;
    metrics::LOGINS.with_label_values(&["success"]).inc();
    let _ = app
        .store
        .audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "login_success", ip_text.as_deref(), Some(facts.host.as_str()))
        .await;
    let cookie = set_cookie(&CookieSpec {
        name: &app.cfg.session.cookie_name,
        value: &token,
        secure: app.cfg.session.secure_cookies,
        http_only: true,
        max_age: Some(app.cfg.session.lifetime.as_secs()),
    });
    send(session, Reply::redirect(303, rd).header("set-cookie", cookie)).await
}

async fn end_current_session(app: &App, req: &RequestHeader) {
    let cookie = read_cookie(req.headers.get_all("cookie").iter().map(|v| v.as_bytes()), &app.cfg.session.cookie_name);
    if let CookieFact::Present(old) = cookie {
        app.sessions.remove(&old);
        if let Err(e) = app.store.delete_session(&tokens::hash_bytes(&old)).await {
            tracing::warn!(error = %e, "could not delete the previous session");
        }
    }
}

pub async fn logout(app: &App, session: &mut Session, facts: Facts) -> Result<bool> {
    let form = match form::read(session, app.cfg.login.max_body_bytes).await? {
        Ok(f) => f,
        Err(e) => return form_refused(app, session, e).await,
    };
    if !csrf::verify(session.req_header(), form.get("csrf")) {
        return csrf_refused(app, session).await;
    }
    end_current_session(app, session.req_header()).await;
    let _ = app.store.audit(None, None, None, "logout", facts.ip_text().as_deref(), Some(facts.host.as_str())).await;
    let cookie = set_cookie(&CookieSpec {
        name: &app.cfg.session.cookie_name,
        value: "",
        secure: app.cfg.session.secure_cookies,
        http_only: true,
        max_age: Some(0),
    });
    send(session, Reply::redirect(303, "/auth/login".into()).header("set-cookie", cookie)).await
}

/// Until 2-step verification is built, a user who needs it is told so plainly.
pub async fn second_factor(app: &App, session: &mut Session, _facts: Facts) -> Result<bool> {
    let (token, new_cookie) = csrf::token_for(session.req_header());
    let logout = format!(
        "<form method=\"post\" action=\"/auth/logout\">{}<button type=\"submit\">Sign out</button></form>",
        csrf::hidden_field(&token)
    );
    let body = pages::second_factor_required(app.product(), &logout);
    send(session, with_csrf_cookie(app, Reply::html(200, body), new_cookie)).await
}
