//! The second step's first page: SMS first, the authenticator app second; or
//! the methods the user has set up, and the recovery code.

use super::super::views::two_step::Chooser;
use super::super::{Visit, csrf_for, with_cookie};
use super::Pending;
use crate::sms::mask_phone;
use crate::web::rd::ReturnPath;
use crate::web::{Outcome, Reply, page};

pub async fn chooser(v: &Visit<'_>, p: Pending) -> Outcome {
    let rd = ReturnPath::from_query(&v.req, "/");
    if p.cached.rec.pending_factor.is_some() {
        return Ok(Reply::redirect(303, rd.on("/auth/recovery-code")));
    }
    let (token, cookie) = csrf_for(v);
    Ok(with_cookie(chooser_page(v, &p, &token, &rd, "", None).await?, cookie))
}

/// The chooser; with `phone_error`, the enrolment form shown again (400).
pub(super) async fn chooser_page(
    v: &Visit<'_>,
    p: &Pending,
    csrf: &str,
    rd: &ReturnPath,
    phone_value: &str,
    phone_error: Option<&str>,
) -> Outcome {
    let enrolment = v.app.store.enrolment(p.cached.rec.user_id).await?;
    let view = Chooser {
        ui: v.ui(),
        title: v.t("2-step verification", "2段階認証"),
        csrf,
        rd,
        first: !enrolment.any(),
        phone: enrolment.sms_phone.as_deref().map(mask_phone),
        app: enrolment.totp_secret.is_some(),
        phone_value,
        phone_error,
    };
    page(if phone_error.is_some() { 400 } else { 200 }, &view)
}
