//! The authenticator-app step: set one up (QR code and key), or enter its code.

use policy::Factor;

use super::super::views::two_step::{AppCode, AppSetup};
use super::super::{Visit, csrf_for, with_cookie};
use super::done::complete;
use super::recovery::hold_until_saved;
use super::{Pending, code_entry, locked_now, wrong_code};
use crate::accounts::{Checked, Proof, Purpose};
use crate::second_factor as sf;
use crate::ui::markup::Markup;
use crate::web::rd::ReturnPath;
use crate::web::{Outcome, Refusal, Reply, page};

/// The QR code and key of a secret being set up.
pub(super) fn app_setup(v: &Visit<'_>, email: &str, secret: &[u8]) -> AppSetup {
    let uri = sf::otpauth_uri(secret, email, &v.app.cfg.ui.product_name);
    AppSetup { qr: Markup::qr_code(&uri), key: sf::secret_base32(secret) }
}

/// The page: the setup when nothing is set up yet, else just the code field.
/// `None` when the user has a phone but no app (back to the chooser).
async fn app_page(
    v: &Visit<'_>,
    p: &Pending,
    status: u16,
    csrf: &str,
    rd: &ReturnPath,
    error: Option<&str>,
) -> Result<Option<Reply>, Refusal> {
    let user_id = p.cached.rec.user_id;
    let enrolment = v.app.store.enrolment(user_id).await?;
    let setup = if enrolment.totp_secret.is_some() {
        None
    } else if enrolment.any() {
        return Ok(None);
    } else {
        let secret = v.accounts().authenticator_to_set_up(&v.app.totp_key, user_id).await?;
        Some(app_setup(v, &p.cached.rec.email, &secret))
    };
    let view = AppCode { ui: v.ui(), title: v.t("Authenticator app", "認証アプリ"), csrf, rd, setup, error };
    Ok(Some(page(status, &view)?))
}

pub async fn totp_form(v: &Visit<'_>, p: Pending) -> Outcome {
    let rd = ReturnPath::from_query(&v.req, "/");
    let (token, cookie) = csrf_for(v);
    match app_page(v, &p, 200, &token, &rd, None).await? {
        Some(reply) => Ok(with_cookie(reply, cookie)),
        None => Ok(Reply::redirect(303, rd.on("/auth/2fa"))),
    }
}

pub async fn totp_submit(v: &Visit<'_>, p: Pending) -> Outcome {
    let (form, rd) = code_entry(v, &p).await?;
    let (token, _) = csrf_for(v);
    let user = p.user(v).await?;
    let code = form.get("code").unwrap_or("");
    let remember = form.get("remember").is_some();
    let by = v.actor(Some(&user.email));
    match v.accounts().check_second_factor(&by, &v.app.totp_key, &user, Proof::Totp(code), Purpose::SignIn).await? {
        Checked::Right { enrolled: true, .. } => hold_until_saved(v, &p, Factor::Totp, remember, &rd).await,
        Checked::Right { .. } => complete(v, &p, &user, Factor::Totp, remember, &rd).await,
        Checked::Wrong { locked } => {
            let wrong = v.t(
                "That code is not correct, or it was already used. Wait for the next code.",
                "認証コードが正しくないか、すでに使用済みです。次のコードが表示されるまでお待ちください。",
            );
            let again = match app_page(v, &p, 400, &token, &rd, Some(wrong)).await? {
                Some(reply) => Ok(reply),
                None => Ok(Reply::redirect(303, rd.on("/auth/2fa"))),
            };
            wrong_code(v, &p, locked, again).await
        }
        Checked::Dead | Checked::NotEnrolled => Ok(Reply::redirect(303, rd.on("/auth/2fa"))),
        Checked::Locked => locked_now(v).await,
    }
}
