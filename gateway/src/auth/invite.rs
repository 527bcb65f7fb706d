//! Accepting an invitation: the invitee sets a password from the emailed link.

use pingora::prelude::*;
use pingora::proxy::Session;

use super::form;
use super::{Facts, csrf, query_param};
use crate::app::App;
use crate::password::{RULE_TEXT, check_rule};
use crate::proxy::respond::{Reply, send};
use crate::store::LinkPurpose;
use crate::tokens;
use crate::ui::html::{escape, page};

fn link_dead(app: &App) -> Reply {
    Reply::html(
        410,
        page(
            app.product(),
            "This link can no longer be used",
            "<p>The link has expired, has already been used, or was replaced by a newer one.</p>\
             <p>Ask your organisation's administrator to send a new invitation.</p>",
        ),
    )
}

fn form_page(app: &App, ticket: &str, csrf_token: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    page(
        app.product(),
        "Set your password",
        &format!(
            "<p>Choose the password you will sign in with.</p>{error}\
             <form method=\"post\" action=\"/auth/invite?ticket={ticket}\">{csrf}\
             <label for=\"password\">New password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required aria-describedby=\"rule\">\
             <p id=\"rule\" class=\"hint\">{rule}</p>\
             <label for=\"password_confirm\">New password again</label>\
             <input id=\"password_confirm\" name=\"password_confirm\" type=\"password\" autocomplete=\"new-password\" required>\
             <button type=\"submit\">Set password</button></form>",
            ticket = escape(ticket),
            csrf = csrf::hidden_field(csrf_token),
            rule = escape(RULE_TEXT),
        ),
    )
}

pub async fn show(app: &App, session: &mut Session) -> Result<bool> {
    let ticket = query_param(session.req_header(), "ticket").unwrap_or_default();
    let live = match tokens::hash_token(&ticket) {
        Some(h) => app.store.peek_link(&h, LinkPurpose::Invite).await.ok().flatten().is_some(),
        None => false,
    };
    if !live {
        return send(session, link_dead(app)).await;
    }
    let (token, new_cookie) = csrf::token_for(session.req_header());
    let mut reply = Reply::html(200, form_page(app, &ticket, &token, None));
    if let Some(t) = new_cookie {
        reply = reply.header("set-cookie", csrf::cookie_header(&t, app.cfg.session.secure_cookies));
    }
    send(session, reply).await
}

pub async fn submit(app: &App, session: &mut Session, facts: Facts) -> Result<bool> {
    let ticket = query_param(session.req_header(), "ticket").unwrap_or_default();
    let form = match form::read(session, app.cfg.login.max_body_bytes).await? {
        Ok(f) => f,
        Err(_) => return send(session, Reply::text(413, "form refused\n")).await,
    };
    if !csrf::verify(session.req_header(), form.get("csrf")) {
        return send(session, Reply::html(403, page(app.product(), "The form has expired", "<p>Reload the page and try again.</p>"))).await;
    }
    let Some(hash) = tokens::hash_token(&ticket) else { return send(session, link_dead(app)).await };
    let password = form.get("password").unwrap_or("");
    let again = form.get("password_confirm").unwrap_or("");
    let (token, _) = csrf::token_for(session.req_header());
    let problem = if password != again {
        Some("The two passwords are not the same.")
    } else {
        check_rule(password).err()
    };
    if let Some(problem) = problem {
        return send(session, Reply::html(400, form_page(app, &ticket, &token, Some(problem)))).await;
    }
    let hashed = match app.hasher.hash(password.to_owned()).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "hashing failed");
            return send(session, Reply::text(500, "internal error\n")).await;
        }
    };
    let user_id = match app.store.consume_link(&hash, LinkPurpose::Invite).await {
        Ok(Some(id)) => id,
        Ok(None) => return send(session, link_dead(app)).await,
        Err(e) => {
            tracing::error!(error = %e, "link lookup failed");
            return send(session, Reply::text(503, "unavailable\n")).await;
        }
    };
    if let Err(e) = app.store.set_password_hash(user_id, &hashed).await {
        tracing::error!(error = %e, "password update failed");
        return send(session, Reply::text(503, "unavailable\n")).await;
    }
    let _ = app.store.audit(None, None, Some(&user_id.to_string()), "invitation_accepted", facts.ip_text().as_deref(), Some(facts.host.as_str())).await;
    let body = page(
        app.product(),
        "Your password is set",
        "<p>Registration is complete. You can now sign in with your email address and the new password.</p>\
         <p><a href=\"/auth/login\">Sign in</a></p>",
    );
    send(session, Reply::html(200, body)).await
}
