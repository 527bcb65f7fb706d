//! The signed-in user's own account: the settings menu, password change and
//! email change.

use super::links::{check_new_password, dead_link};
use super::start::{NewLogin, end_all, start};
use super::sudo::Admin;
use super::{Visit, csrf_for, hidden_field, notify, read_form, to_login, with_cookie};
use crate::mail::Notice;
use crate::store::LinkPurpose;
use crate::tokens;
use crate::ui::html::{error_box, escape, password_field};
use crate::web::{Outcome, Reply};

pub async fn menu(v: &Visit<'_>, a: Admin) -> Reply {
    let item = |href: &str, label: &str| format!("<li><a href=\"{href}\">{}</a></li>", escape(label));
    let mut items = Vec::new();
    if a.may_change_password() {
        items.push(item("/auth/password/change", v.t("Change password", "パスワードの変更")));
    }
    if a.may_change_email() {
        items.push(item("/auth/email/change", v.t("Change email address", "メールアドレスの変更")));
    }
    if a.may_set_route() {
        items.push(item("/auth/settings/route", v.t("Access route", "アクセス経路")));
    }
    if a.may_set_two_factor() {
        items.push(item("/auth/settings/2fa", v.t("2-step verification for the organisation", "組織の2段階認証")));
    }
    if a.may_administer() {
        items.push(item("/auth/settings/lines", v.t("Line numbers and networks", "回線番号・ネットワーク")));
        items.push(item("/auth/admin/users", v.t("Users", "ユーザー管理")));
        items.push(item("/auth/admin/audit", v.t("Audit log", "操作ログ")));
    }
    if !a.break_glass {
        items.push(item("/auth/devices", v.t("Remembered browsers", "記憶済みのブラウザ")));
    }
    let banner = if a.break_glass {
        format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            v.t(
                "Your organisation allows line authentication only, and this connection is not a registered line or network. You can switch the access route back here; storage stays closed from this connection.",
                "組織のアクセス経路が「回線認証のみ」で、この接続は登録済みの回線・ネットワークではありません。ここからアクセス経路を元に戻せます。この接続からストレージは利用できません。",
            )
        )
    } else {
        String::new()
    };
    let (token, cookie) = csrf_for(v);
    let body = v.page(
        v.t("Settings", "設定メニュー"),
        &format!(
            "{banner}<p class=\"hint\">{signed} {email}</p><ul>{items}</ul>\
             <form method=\"post\" action=\"/auth/logout\">{csrf}<button type=\"submit\">{out}</button></form>",
            signed = v.t("Signed in as", "ログイン中:"),
            email = escape(&a.cached.rec.email),
            items = items.join(""),
            csrf = hidden_field(&token),
            out = v.t("Sign out", "ログアウト"),
        ),
    );
    with_cookie(Reply::html(200, body), cookie)
}

fn password_page(v: &Visit<'_>, csrf_token: &str, errors: [Option<&str>; 3]) -> String {
    v.page(
        v.t("Change password", "パスワードの変更"),
        &format!(
            "<form method=\"post\" action=\"/auth/password/change\">{csrf}{p0}{p1}{p2}<button type=\"submit\">{submit}</button></form>\
             <p class=\"hint\">{note}</p>",
            csrf = hidden_field(csrf_token),
            p0 = password_field(&v.ui(), "current_password", v.t("Current password", "現在のパスワード"), "current-password", false, errors[0]),
            p1 = password_field(&v.ui(), "password", v.t("New password", "新しいパスワード"), "new-password", true, errors[1]),
            p2 = password_field(&v.ui(), "password_confirm", v.t("New password again", "新しいパスワード（確認）"), "new-password", false, errors[2]),
            submit = v.t("Change password", "パスワードを変更"),
            note = v.t("Your other devices will be signed out.", "他の端末ではログアウトされます。"),
        ),
    )
}

pub async fn password_form(v: &Visit<'_>, _: Admin) -> Reply {
    let (token, cookie) = csrf_for(v);
    with_cookie(Reply::html(200, password_page(v, &token, [None, None, None])), cookie)
}

pub async fn password_submit(v: &Visit<'_>, a: Admin) -> Outcome {
    let c = a.cached;
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let (token, _) = csrf_for(v);
    let user = match v.app.store.user_by_id(c.rec.user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return Ok(to_login(v)),
        Err(_) => return Ok(v.unavailable()),
    };
    // Counted toward the lock like a login, so a stolen session cannot guess it.
    if let Some(r) = super::login::throttled(v) {
        return Ok(r);
    }
    let current_ok = match super::login::check_password(v, &user, form.get("current_password").unwrap_or("")).await {
        Ok(ok) => ok,
        Err(r) => return Ok(r),
    };
    if !current_ok {
        let err = v.t("The current password is not correct.", "現在のパスワードが正しくありません。");
        return Ok(Reply::html(400, password_page(v, &token, [Some(err), None, None])));
    }
    let password = form.get("password").unwrap_or("");
    if let Err((a, b)) = check_new_password(v, password, form.get("password_confirm").unwrap_or("")) {
        return Ok(Reply::html(400, password_page(v, &token, [None, a, b])));
    }
    let hashed = match v.app.hasher.hash(password.to_owned()).await {
        Ok(h) => h,
        Err(_) => return Ok(v.unavailable()),
    };
    let login = NewLogin {
        user_id: user.id,
        tenant_id: user.tenant_id,
        email: &user.email,
        role: c.rec.role,
        factor: c.rec.factor,
        line: None,
        pending_factor: None,
        pending_remember: false,
    };
    // Every session ends, this one included; this browser gets a new id.
    let done = async {
        v.app.store.set_password_hash(user.id, &hashed).await?;
        end_all(v, user.id).await?;
        start(v, login).await
    };
    let cookie = match done.await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "password change failed");
            return Ok(v.unavailable());
        }
    };
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "password_changed").await;
    notify::mail(v, &user.email, &Notice::PasswordChanged);
    let body = v.page(
        v.t("Password changed", "パスワードを変更しました"),
        v.t(
            "<p class=\"ok\">Your password is changed.</p><p><a href=\"/auth/settings\">Back to settings</a></p>",
            "<p class=\"ok\">パスワードを変更しました。</p><p><a href=\"/auth/settings\">設定メニューに戻る</a></p>",
        ),
    );
    Ok(Reply::html(200, body).header("set-cookie", cookie))
}

fn email_page(v: &Visit<'_>, csrf_token: &str, errors: [Option<&str>; 2]) -> String {
    let err0 = errors[0]
        .map(|e| format!("<p id=\"new_email-error\" class=\"field-error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    v.page(
        v.t("Change email address", "メールアドレスの変更"),
        &format!(
            "<p>{intro}</p><form method=\"post\" action=\"/auth/email/change\">{csrf}\
             <label for=\"new_email\">{label}</label><input id=\"new_email\" name=\"new_email\" type=\"email\" required>{err0}\
             {pw}<button type=\"submit\">{submit}</button></form>",
            intro = v.t(
                "We will send a confirmation link to the new address. The change happens when you open it; you will then set your password again and set up 2-step verification again.",
                "新しいメールアドレスに確認用のリンクをお送りします。リンクを開いた時点で変更され、パスワードと2段階認証を再設定していただきます。",
            ),
            csrf = hidden_field(csrf_token),
            label = v.t("New email address", "新しいメールアドレス"),
            pw = password_field(&v.ui(), "current_password", v.t("Current password", "現在のパスワード"), "current-password", false, errors[1]),
            submit = v.t("Send the confirmation link", "確認リンクを送信"),
        ),
    )
}

pub async fn email_form(v: &Visit<'_>, _: Admin) -> Reply {
    let (token, cookie) = csrf_for(v);
    with_cookie(Reply::html(200, email_page(v, &token, [None, None])), cookie)
}

pub async fn email_submit(v: &Visit<'_>, a: Admin) -> Outcome {
    let c = a.cached;
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let (token, _) = csrf_for(v);
    let user = match v.app.store.user_by_id(c.rec.user_id).await {
        Ok(Some(u)) => u,
        _ => return Ok(v.unavailable()),
    };
    // Counted toward the lock like a login, so a stolen session cannot guess it.
    if let Some(r) = super::login::throttled(v) {
        return Ok(r);
    }
    let current_ok = match super::login::check_password(v, &user, form.get("current_password").unwrap_or("")).await {
        Ok(ok) => ok,
        Err(r) => return Ok(r),
    };
    if !current_ok {
        let err = v.t("The current password is not correct.", "現在のパスワードが正しくありません。");
        return Ok(Reply::html(400, email_page(v, &token, [None, Some(err)])));
    }
    let new_email = crate::store::canonical_email(form.get("new_email").unwrap_or(""));
    let problem = if !crate::store::valid_email(&new_email) {
        Some(v.t(
            "Enter an email address such as name@example.com.",
            "name@example.com のような形式でメールアドレスを入力してください。",
        ))
    } else if new_email == user.email {
        Some(v.t("This is already your email address.", "現在と同じメールアドレスです。"))
    } else {
        None
    };
    if let Some(p) = problem {
        return Ok(Reply::html(400, email_page(v, &token, [Some(p), None])));
    }
    // Whether the new address is taken is checked when the link is used, so this
    // page cannot be used to find out which addresses have accounts.
    let link =
        match notify::new_link(&v.app.cfg, &v.app.store, user.id, LinkPurpose::EmailChange, Some(&new_email)).await {
            Ok(t) => v.link(&format!("/auth/email/confirm?ticket={t}")),
            Err(_) => return Ok(v.unavailable()),
        };
    notify::mail(v, &new_email, &Notice::EmailChangeConfirm { link: &link, new_email: &new_email });
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "email_change_requested").await;
    let body = v.page(
        v.t("Check the new mailbox", "新しいメールアドレスをご確認ください"),
        &format!(
            "<p>{} <strong>{}</strong></p>",
            v.t("We sent a confirmation link to", "確認用のリンクを次のアドレスにお送りしました:"),
            escape(&new_email)
        ),
    );
    Ok(Reply::html(200, body))
}

fn confirm_next(v: &Visit<'_>) -> &'static str {
    v.t(
        "Start the email change again from the settings menu.",
        "設定メニューから、もう一度メールアドレスの変更をお申し込みください。",
    )
}

fn confirm_page(
    v: &Visit<'_>,
    ticket: &str,
    csrf_token: &str,
    errors: (Option<&str>, Option<&str>),
    top: Option<&str>,
) -> String {
    v.page(
        v.t("Confirm your new email address", "新しいメールアドレスの確認"),
        &format!(
            "{top}<p>{intro}</p><form method=\"post\" action=\"/auth/email/confirm?ticket={ticket}\">{csrf}{p1}{p2}<button type=\"submit\">{submit}</button></form>",
            top = top.map(error_box).unwrap_or_default(),
            intro = v.t("To finish the change, set your password again.", "変更を完了するため、パスワードを再設定してください。"),
            ticket = escape(ticket),
            csrf = hidden_field(csrf_token),
            p1 = password_field(&v.ui(), "password", v.t("New password", "新しいパスワード"), "new-password", true, errors.0),
            p2 = password_field(&v.ui(), "password_confirm", v.t("New password again", "新しいパスワード（確認）"), "new-password", false, errors.1),
            submit = v.t("Confirm", "確定"),
        ),
    )
}

pub async fn email_confirm_form(v: &Visit<'_>) -> Reply {
    let ticket = v.req.query("ticket").unwrap_or_default();
    let live = match tokens::hash_token(&ticket) {
        Some(h) => matches!(v.app.store.peek_link(&h, LinkPurpose::EmailChange).await, Ok(Some(_))),
        None => false,
    };
    if !live {
        return dead_link(v, confirm_next(v));
    }
    let (token, cookie) = csrf_for(v);
    with_cookie(Reply::html(200, confirm_page(v, &ticket, &token, (None, None), None)), cookie)
}

pub async fn email_confirm_submit(v: &Visit<'_>) -> Outcome {
    let ticket = v.req.query("ticket").unwrap_or_default();
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let hash = match super::links::live_ticket(v, &ticket, LinkPurpose::EmailChange).await {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(dead_link(v, confirm_next(v))),
        Err(_) => return Ok(v.unavailable()),
    };
    let (token, _) = csrf_for(v);
    let password = form.get("password").unwrap_or("");
    if let Err(errors) = check_new_password(v, password, form.get("password_confirm").unwrap_or("")) {
        return Ok(Reply::html(400, confirm_page(v, &ticket, &token, errors, None)));
    }
    let hashed = match v.app.hasher.hash(password.to_owned()).await {
        Ok(h) => h,
        Err(_) => return Ok(v.unavailable()),
    };
    let (user_id, new_email) = match v.app.store.consume_link_with_payload(&hash, LinkPurpose::EmailChange).await {
        Ok(Some((id, Some(email)))) => (id, email),
        Ok(_) => return Ok(dead_link(v, confirm_next(v))),
        Err(_) => return Ok(v.unavailable()),
    };
    let Ok(Some(user)) = v.app.store.user_by_id(user_id).await else { return Ok(dead_link(v, confirm_next(v))) };
    let old_email = user.email.clone();
    match v.app.store.set_email(user_id, &new_email).await {
        Ok(()) => {}
        Err(crate::store::StoreError::Conflict(_)) => {
            let msg = v.t(
                "This address now belongs to another account, so the change could not be made. Start again with a different address.",
                "このメールアドレスは別のアカウントで使用されているため、変更できませんでした。別のアドレスで再度お申し込みください。",
            );
            return Ok(Reply::html(
                409,
                v.page(v.t("The change could not be made", "変更できませんでした"), &error_box(msg)),
            ));
        }
        Err(_) => return Ok(v.unavailable()),
    }
    let had_second_factor = v.app.store.enrolment(user_id).await.map(|e| e.any()).unwrap_or(false);
    let done = async {
        v.app.store.set_password_hash(user_id, &hashed).await?;
        v.app.store.reset_second_factors(user_id).await?;
        end_all(v, user_id).await
    };
    if done.await.is_err() {
        return Ok(v.unavailable());
    }
    v.audit(Some(user.tenant_id), Some(&new_email), Some(&old_email), "email_changed").await;
    notify::mail(v, &old_email, &Notice::EmailChanged { new_email: &new_email });
    if had_second_factor {
        notify::mail(v, &new_email, &Notice::SecondFactorReset);
    }
    Ok(Reply::html(
        200,
        v.page(
            v.t("Your email address is changed", "メールアドレスを変更しました"),
            &format!(
                "<p>{} <strong>{}</strong></p><p><a href=\"/auth/login\">{}</a></p>",
                v.t("From now on, sign in with", "今後は次のアドレスでログインしてください:"),
                escape(&new_email),
                v.t("Sign in", "ログイン")
            ),
        ),
    ))
}
