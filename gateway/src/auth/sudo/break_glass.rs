//! Break-glass: under `line-only` the owner may still open the settings from
//! outside the lines, to switch the route back. The password alone is not
//! enough (SPEC section 11): a one-time code mailed to the owner must follow
//! (or, when the owner has one, the code of their authenticator app), so
//! someone holding only the password cannot turn the internet back on and then
//! enrol a factor of their own. Its use is mailed to the owner and the admins.

use policy::Role;

use super::{Admin, SUDO_SECS, totp_ok};
use crate::auth::two_step::{count_user_failure, locked_reply, throttled};
use crate::auth::{Visit, hidden_field, notify};
use crate::mail::Notice;
use crate::second_factor::recovery;
use crate::store::{BreakGlassCheck, UserRow, now};
use crate::tokens;
use crate::ui::html::{error_box, escape};
use crate::web::Reply;

/// How long a mailed code works.
pub const CODE_SECS: i64 = 600;

fn code_hash(user_id: i64, code: &str) -> String {
    recovery::hash(&format!("break-glass:{user_id}:{code}"))
}

fn code_page(v: &Visit<'_>, token: &str, rd: &str, email: &str, totp: bool, error: Option<&str>) -> String {
    let app = if totp {
        format!(
            "<p class=\"hint\">{}</p>",
            v.t(
                "You can also enter the code from your authenticator app.",
                "認証アプリのコードを入力することもできます。",
            )
        )
    } else {
        String::new()
    };
    v.page(
        v.t("Enter the code we mailed you", "メールでお送りしたコードの入力"),
        &format!(
            "<p>{intro}</p>{err}<p>{sent} <strong>{email}</strong>. {valid}</p>{app}\
             <form method=\"post\" action=\"/auth/settings/login\">{csrf}<input type=\"hidden\" name=\"rd\" value=\"{rd}\">\
             <input type=\"hidden\" name=\"step\" value=\"code\">\
             <label for=\"code\">{label}</label><input id=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required>\
             <button type=\"submit\">{go}</button></form>",
            intro = v.t(
                "Your organisation allows line authentication only, and this connection is not one of its lines or networks. To open the settings from here, a password is not enough.",
                "組織のアクセス経路は「回線認証のみ」で、この接続は登録済みの回線・ネットワークではありません。ここから設定を開くには、パスワードに加えて確認コードが必要です。",
            ),
            err = error.map(error_box).unwrap_or_default(),
            sent = v.t("We sent a one-time code to", "確認コードを次のアドレスにお送りしました:"),
            email = escape(email),
            valid = v.t("It works for 10 minutes, once.", "コードの有効期間は10分間で、一度だけ使用できます。"),
            csrf = hidden_field(token),
            rd = escape(rd),
            label = v.t("Code", "確認コード"),
            go = v.t("Continue", "続ける"),
        ),
    )
}

/// A code that cannot be used any more: back to the password, which mails a new one.
fn start_again(v: &Visit<'_>, token: &str, rd: &str) -> Reply {
    let msg = v.t(
        "The code has expired, was already used, or was tried too often. Enter your password again to get a new code.",
        "確認コードの有効期限が切れたか、使用済みか、入力回数の上限に達しました。パスワードを再度入力すると、新しいコードをお送りします。",
    );
    Reply::html(400, super::login_page(v, token, rd, false, Some(msg)))
}

/// The password was right: a fresh code goes to the owner's mailbox, bound to
/// this session, and the code page is shown.
pub(super) async fn challenge(v: &Visit<'_>, id: &[u8; 32], user: &UserRow, rd: &str, token: &str) -> Reply {
    match v.app.store.second_factor_locked(user.id).await {
        Ok(false) => {}
        Ok(true) => return locked_reply(v),
        Err(_) => return v.unavailable(),
    }
    let totp = match v.app.store.enrolment(user.id).await {
        Ok(e) => e.totp_secret.is_some(),
        Err(_) => return v.unavailable(),
    };
    let code = crate::sms::new_code();
    let (session_hash, hash) = (tokens::hash_bytes(id), code_hash(user.id, &code));
    if let Err(e) = v.app.store.put_break_glass(user.id, &session_hash, Some(&hash), CODE_SECS).await {
        tracing::error!(error = %e, "storing a break-glass code failed");
        return v.unavailable();
    }
    notify::mail(v, &user.email, &Notice::BreakGlassCode { code: &code });
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "break_glass_code_sent").await;
    Reply::html(200, code_page(v, token, rd, &user.email, totp, None))
}

/// The second step: the mailed code (or the authenticator's) opens the gate.
pub(super) async fn check_code(
    v: &Visit<'_>,
    admin: &Admin,
    id: &[u8; 32],
    user: &UserRow,
    entered: &str,
    rd: &str,
    token: &str,
) -> Reply {
    if let Some(r) = throttled(v, user.id) {
        return r;
    }
    match v.app.store.second_factor_locked(user.id).await {
        Ok(false) => {}
        Ok(true) => return locked_reply(v),
        Err(_) => return v.unavailable(),
    }
    let session_hash = tokens::hash_bytes(id);
    match v.app.store.break_glass_pending(user.id, &session_hash).await {
        Ok(Some(_)) => {}
        Ok(None) => return start_again(v, token, rd),
        Err(_) => return v.unavailable(),
    }
    let code: String = entered.chars().filter(|c| !c.is_whitespace()).take(16).collect();
    let by_app = totp_ok(v, user.id, &code).await;
    let check = v.app.store.check_break_glass(user.id, &session_hash, &code_hash(user.id, &code), by_app).await;
    match check {
        Ok(BreakGlassCheck::Ok) => {}
        Ok(BreakGlassCheck::Wrong) => {
            v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "break_glass_code_failure").await;
            if count_user_failure(v, user.id, user.tenant_id, &user.email).await {
                return locked_reply(v);
            }
            let totp = v.app.store.enrolment(user.id).await.map(|e| e.totp_secret.is_some()).unwrap_or(false);
            let msg = v.t("That code is not correct.", "確認コードが正しくありません。");
            return Reply::html(400, code_page(v, token, rd, &user.email, totp, Some(msg)));
        }
        Ok(BreakGlassCheck::Dead) => return start_again(v, token, rd),
        Err(_) => return v.unavailable(),
    }
    let _ = v.app.store.reset_user_factor_failures(user.id).await;
    if v.app.store.grant_sudo(&session_hash, now() + SUDO_SECS).await.is_err() {
        return v.unavailable();
    }
    v.app.sessions.remove(id);
    let event = if by_app { "reauth_success:break_glass:totp" } else { "reauth_success:break_glass" };
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), event).await;
    tell_the_admins(v, admin, user).await;
    Reply::redirect(303, rd.to_owned())
}

/// The owner and every admin of the tenant learn that the settings were opened
/// off the lines.
async fn tell_the_admins(v: &Visit<'_>, admin: &Admin, user: &UserRow) {
    let from = v.facts.ip_text().unwrap_or_else(|| "?".to_owned());
    let users = match v.app.store.tenant_users(admin.tenant.id).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "listing the admins for a break-glass notice failed");
            // The owner at least hears of it.
            vec![user.clone()]
        }
    };
    for u in users.iter().filter(|u| matches!(u.role, Role::Owner | Role::Admin)) {
        notify::mail(v, &u.email, &Notice::BreakGlassUsed { owner: &user.email, from: &from });
    }
}
