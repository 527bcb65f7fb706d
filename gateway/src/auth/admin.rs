//! A first admin page: the tenant's users, and inviting new ones. The full
//! admin console comes later.

use pingora::prelude::*;
use pingora::proxy::Session;
use policy::Role;

use super::current::{Current, current};
use super::{Visit, csrf_for, hidden_field, notify, query_param, read_form, to_login, with_cookie};
use crate::mail::Notice;
use crate::proxy::respond::Reply;
use crate::session::Cached;
use crate::store::{LinkPurpose, NewUser, StoreError};
use crate::ui::html::{error_box, escape};

async fn admin(v: &Visit<'_>, session: &Session) -> Result<std::sync::Arc<Cached>, Reply> {
    match current(v, session.req_header()).await? {
        Current::User(c) if c.rec.role >= Role::Admin => Ok(c),
        Current::User(_) => Err(Reply::html(403, crate::ui::pages::denied(&v.ui(), policy::DenyKind::Role))),
        Current::None => Err(to_login(v)),
    }
}

async fn page(v: &Visit<'_>, session: &Session, c: &Cached, status: u16, note: Option<String>) -> Reply {
    let users = v.app.store.tenant_users(c.rec.tenant_id).await.unwrap_or_default();
    let rows: String = users
        .iter()
        .map(|u| {
            let state = if u.locked {
                v.t("locked", "ロック中")
            } else if u.password_hash.is_none() {
                v.t("invited", "招待中")
            } else {
                v.t("active", "有効")
            };
            format!("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", escape(&u.email), escape(&u.role), state)
        })
        .collect();
    let (token, cookie) = csrf_for(v, session.req_header());
    let body = v.page(
        v.t("Users", "ユーザー管理"),
        &format!(
            "{note}<table><thead><tr><th>{h_email}</th><th>{h_role}</th><th>{h_state}</th></tr></thead><tbody>{rows}</tbody></table>\
             <h2>{invite}</h2><form method=\"post\" action=\"/auth/admin/users\">{csrf}\
             <label for=\"email\">{l_email}</label><input id=\"email\" name=\"email\" type=\"email\" required>\
             <label for=\"role\">{l_role}</label><select id=\"role\" name=\"role\">\
             <option value=\"user\">{r_user}</option><option value=\"admin\">{r_admin}</option></select>\
             <button type=\"submit\">{send}</button></form><p><a href=\"/auth/settings\">{back}</a></p>",
            note = note.unwrap_or_default(),
            h_email = v.t("Email address", "メールアドレス"),
            h_role = v.t("Role", "権限"),
            h_state = v.t("State", "状態"),
            invite = v.t("Invite a user", "ユーザーを招待"),
            csrf = hidden_field(&token),
            l_email = v.t("Email address", "メールアドレス"),
            l_role = v.t("Role", "権限"),
            r_user = v.t("User", "一般ユーザー"),
            r_admin = v.t("Administrator", "管理者"),
            send = v.t("Send the invitation", "招待メールを送信"),
            back = v.t("Back to settings", "設定メニューに戻る"),
        ),
    );
    with_cookie(Reply::html(status, body), cookie)
}

pub async fn users(v: &Visit<'_>, session: &mut Session) -> Reply {
    let c = match admin(v, session).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let note = query_param(session.req_header(), "invited").map(|email| {
        format!(
            "<p class=\"ok\" role=\"status\">{} {}</p>",
            v.t("Invitation sent to", "招待メールを送信しました:"),
            escape(&email)
        )
    });
    page(v, session, &c, 200, note).await
}

pub async fn invite(v: &Visit<'_>, session: &mut Session) -> Result<Reply> {
    let c = match admin(v, session).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let form = match read_form(v, session).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let email = crate::store::canonical_email(form.get("email").unwrap_or(""));
    let role = match form.get("role") {
        Some("admin") => Role::Admin,
        Some("user") | None => Role::User,
        Some(_) => {
            return Ok(
                page(v, session, &c, 400, Some(error_box(v.t("Choose a role.", "権限を選択してください。")))).await
            );
        }
    };
    let created =
        v.app.store.create_user(NewUser { tenant_id: c.rec.tenant_id, email: &email, role, password_hash: None }).await;
    let user_id = match created {
        Ok(id) => id,
        Err(StoreError::Invalid(_)) => {
            let msg = v.t(
                "Enter an email address such as name@example.com.",
                "name@example.com のような形式でメールアドレスを入力してください。",
            );
            return Ok(page(v, session, &c, 400, Some(error_box(msg))).await);
        }
        Err(StoreError::Conflict(_)) => {
            let msg = v.t("This address already has an account.", "このメールアドレスはすでに登録されています。");
            return Ok(page(v, session, &c, 409, Some(error_box(msg))).await);
        }
        Err(_) => return Ok(v.unavailable()),
    };
    let token = match notify::new_link(&v.app.cfg, &v.app.store, user_id, LinkPurpose::Invite, None).await {
        Ok(t) => t,
        Err(_) => return Ok(v.unavailable()),
    };
    let link = v.link(&format!("/auth/invite?ticket={token}"));
    let tenant = v.app.store.tenant_name(c.rec.tenant_id).await.ok().flatten().unwrap_or_default();
    notify::mail(v, &email, &Notice::Invite { link: &link, tenant: &tenant });
    let _ = v
        .app
        .store
        .audit(
            Some(c.rec.tenant_id),
            Some(&c.rec.email),
            Some(&email),
            "invitation_sent",
            v.facts.ip_text().as_deref(),
            Some(v.facts.host.as_str()),
        )
        .await;
    let to = percent_encoding::utf8_percent_encode(&email, percent_encoding::NON_ALPHANUMERIC);
    Ok(Reply::redirect(303, format!("/auth/admin/users?invited={to}")))
}
