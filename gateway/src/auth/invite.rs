//! Accepting an invitation: the invitee sets a password from the emailed link.

use super::links::{check_new_password, dead_link, live_ticket};
use super::{Visit, csrf_for, hidden_field, read_form, with_cookie};
use crate::store::LinkPurpose;
use crate::tokens;
use crate::ui::html::{escape, password_field};
use crate::web::{Outcome, Reply};

fn next_step(v: &Visit<'_>) -> &'static str {
    v.t(
        "Ask your organisation's administrator to send a new invitation.",
        "組織の管理者に、招待メールの再送を依頼してください。",
    )
}

fn form_page(v: &Visit<'_>, ticket: &str, csrf_token: &str, errors: (Option<&str>, Option<&str>)) -> String {
    v.page(
        v.t("Set your password", "パスワードの設定"),
        &format!(
            "<p>{intro}</p><form method=\"post\" action=\"/auth/invite?ticket={ticket}\">{csrf}{p1}{p2}\
             <button type=\"submit\">{submit}</button></form>",
            intro =
                v.t("Choose the password you will sign in with.", "ログインに使用するパスワードを設定してください。"),
            ticket = escape(ticket),
            csrf = hidden_field(csrf_token),
            p1 = password_field(
                &v.ui(),
                "password",
                v.t("New password", "新しいパスワード"),
                "new-password",
                true,
                errors.0
            ),
            p2 = password_field(
                &v.ui(),
                "password_confirm",
                v.t("New password again", "新しいパスワード（確認）"),
                "new-password",
                false,
                errors.1
            ),
            submit = v.t("Set password", "パスワードを設定"),
        ),
    )
}

pub async fn show(v: &Visit<'_>) -> Reply {
    let ticket = v.req.query("ticket").unwrap_or_default();
    let live = match tokens::hash_token(&ticket) {
        Some(h) => matches!(v.app.store.peek_link(&h, LinkPurpose::Invite).await, Ok(Some(_))),
        None => false,
    };
    if !live {
        return dead_link(v, next_step(v));
    }
    let (token, cookie) = csrf_for(v);
    with_cookie(Reply::html(200, form_page(v, &ticket, &token, (None, None))), cookie)
}

pub async fn submit(v: &Visit<'_>) -> Outcome {
    let ticket = v.req.query("ticket").unwrap_or_default();
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let hash = match live_ticket(v, &ticket, LinkPurpose::Invite).await {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(dead_link(v, next_step(v))),
        Err(e) => {
            tracing::error!(error = %e, "link lookup failed");
            return Ok(v.unavailable());
        }
    };
    let password = form.get("password").unwrap_or("");
    if let Err(errors) = check_new_password(v, password, form.get("password_confirm").unwrap_or("")) {
        let (token, _) = csrf_for(v);
        return Ok(Reply::html(400, form_page(v, &ticket, &token, errors)));
    }
    let hashed = match v.app.hasher.hash(password.to_owned()).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "hashing failed");
            return Ok(v.unavailable());
        }
    };
    let user_id = match v.app.store.consume_link(&hash, LinkPurpose::Invite).await {
        Ok(Some(id)) => id,
        Ok(None) => return Ok(dead_link(v, next_step(v))),
        Err(e) => {
            tracing::error!(error = %e, "link lookup failed");
            return Ok(v.unavailable());
        }
    };
    if let Err(e) = v.app.store.set_password_hash(user_id, &hashed).await {
        tracing::error!(error = %e, "password update failed");
        return Ok(v.unavailable());
    }
    if let Ok(Some(u)) = v.app.store.user_by_id(user_id).await {
        // A user now: the console lists them as such, no longer as an invitation.
        if let Err(e) = v.app.store.invitation_accepted(u.tenant_id, &u.email).await {
            tracing::error!(error = %e, "invitation cleanup failed");
        }
        v.audit(Some(u.tenant_id), Some(&u.email), Some(&u.email), "invitation_accepted").await;
    }
    Ok(Reply::html(
        200,
        v.page(
            v.t("Registration complete", "登録が完了しました"),
            v.t(
                "<p>Your password is set. You can now sign in with your email address and the new password.</p><p><a href=\"/auth/login\">Sign in</a></p>",
                "<p>パスワードを設定しました。メールアドレスと新しいパスワードでログインできます。</p><p><a href=\"/auth/login\">ログイン</a></p>",
            ),
        ),
    ))
}
