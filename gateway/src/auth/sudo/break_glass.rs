//! Break-glass: under `line-only` the owner may still open the settings from
//! outside the lines, to switch the route back. The password alone is not
//! enough (SPEC section 11): a one-time code mailed to the owner must follow
//! (or, when the owner has one, the code of their authenticator app), so
//! someone holding only the password cannot turn the internet back on and then
//! enrol a factor of their own. Its use is mailed to the owner and the admins.

use policy::Role;

use super::{Gated, SUDO_SECS, totp_ok};
use crate::auth::two_step::{count_user_failure, locked_reply, throttled};
use crate::auth::views::sudo::BreakGlassCodePage;
use crate::auth::{Visit, notify};
use crate::mail::Notice;
use crate::second_factor::recovery;
use crate::store::{BreakGlassCheck, UserRow, now};
use crate::tokens;
use crate::web::{Outcome, Reply, page};

/// How long a mailed code works.
pub const CODE_SECS: i64 = 600;

fn code_hash(user_id: i64, code: &str) -> String {
    recovery::hash(&format!("break-glass:{user_id}:{code}"))
}

fn code_page(
    v: &Visit<'_>,
    csrf: &str,
    rd: &str,
    email: &str,
    totp: bool,
    error: Option<&str>,
    status: u16,
) -> Outcome {
    let view = BreakGlassCodePage {
        ui: v.ui(),
        title: v.t("Enter the code we mailed you", "メールでお送りしたコードの入力"),
        csrf,
        rd,
        email,
        totp,
        error,
    };
    page(status, &view)
}

/// A code that cannot be used any more: back to the password, which mails a new one.
fn start_again(v: &Visit<'_>, token: &str, rd: &str) -> Outcome {
    let msg = v.t(
        "The code has expired, was already used, or was tried too often. Enter your password again to get a new code.",
        "確認コードの有効期限が切れたか、使用済みか、入力回数の上限に達しました。パスワードを再度入力すると、新しいコードをお送りします。",
    );
    super::login_page(v, token, rd, false, Some(msg), 400)
}

/// The password was right: a fresh code goes to the owner's mailbox, bound to
/// this session, and the code page is shown.
pub(super) async fn challenge(v: &Visit<'_>, id: &[u8; 32], user: &UserRow, rd: &str, token: &str) -> Outcome {
    if v.app.store.second_factor_locked(user.id).await? {
        return Ok(locked_reply(v));
    }
    let totp = v.app.store.enrolment(user.id).await?.totp_secret.is_some();
    let code = crate::sms::new_code();
    let (session_hash, hash) = (tokens::hash_bytes(id), code_hash(user.id, &code));
    v.app.store.put_break_glass(user.id, &session_hash, Some(&hash), CODE_SECS).await?;
    notify::mail(v, &user.email, &Notice::BreakGlassCode { code: &code });
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "break_glass_code_sent").await;
    code_page(v, token, rd, &user.email, totp, None, 200)
}

/// The second step: the mailed code (or the authenticator's) opens the gate.
pub(super) async fn check_code(
    v: &Visit<'_>,
    admin: &Gated,
    id: &[u8; 32],
    user: &UserRow,
    entered: &str,
    rd: &str,
    token: &str,
) -> Outcome {
    if let Some(r) = throttled(v, user.id).await {
        return Ok(r);
    }
    if v.app.store.second_factor_locked(user.id).await? {
        return Ok(locked_reply(v));
    }
    let session_hash = tokens::hash_bytes(id);
    if v.app.store.break_glass_pending(user.id, &session_hash).await?.is_none() {
        return start_again(v, token, rd);
    }
    let code: String = entered.chars().filter(|c| !c.is_whitespace()).take(16).collect();
    let by_app = totp_ok(v, user.id, &code).await?;
    match v.app.store.check_break_glass(user.id, &session_hash, &code_hash(user.id, &code), by_app).await? {
        BreakGlassCheck::Ok => {}
        BreakGlassCheck::Wrong => {
            v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "break_glass_code_failure").await;
            if count_user_failure(v, user.id, user.tenant_id, &user.email).await {
                return Ok(locked_reply(v));
            }
            let totp = v.app.store.enrolment(user.id).await?.totp_secret.is_some();
            let msg = v.t("That code is not correct.", "確認コードが正しくありません。");
            return code_page(v, token, rd, &user.email, totp, Some(msg), 400);
        }
        BreakGlassCheck::Dead => return start_again(v, token, rd),
    }
    v.app.store.reset_user_factor_failures(user.id).await?;
    v.app.store.grant_sudo(&session_hash, now() + SUDO_SECS).await?;
    v.app.sessions.remove(id);
    let event = if by_app { "reauth_success:break_glass:totp" } else { "reauth_success:break_glass" };
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), event).await;
    tell_the_admins(v, admin, user).await;
    Ok(Reply::redirect(303, rd.to_owned()))
}

/// The owner and every admin of the tenant learn that the settings were opened
/// off the lines.
async fn tell_the_admins(v: &Visit<'_>, admin: &Gated, user: &UserRow) {
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
