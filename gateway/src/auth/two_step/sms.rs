//! The SMS step: a code to the registered phone (or, at enrolment, to the
//! number entered), and the code entered back.

use policy::Factor;

use super::super::views::two_step::SmsCode;
use super::super::{Visit, csrf_for, read_form};
use super::chooser::chooser_page;
use super::done::complete;
use super::recovery::hold_until_saved;
use super::{Pending, locked_now, throttled, wrong_code};
use crate::accounts::{Checked, Proof, Purpose, sms_hash};
use crate::sms::{SmsMessage, mask_phone, normalize_phone};
use crate::ui::lang::Lang;
use crate::web::rd::ReturnPath;
use crate::web::{Outcome, Refusal, Reply, page};

/// An SMS code's life, and the least time between two codes.
const SMS_TTL: i64 = 300;
const SMS_GAP: i64 = 30;

/// What became of a code to send.
pub(super) enum Sending {
    Sent,
    /// The transport refused it: try again in a moment.
    Failed,
    /// A code went out less than `SMS_GAP` seconds ago: wait this long.
    Wait(i64),
    /// Refused before sending (country, the tenant's daily budget): the page says why.
    Refused(Reply),
}

/// Sends a new code to `phone` for `user`, within the country list, the
/// tenant's daily budget and the gap between codes. `back` is where the
/// refusal page's "back" leads (through the second-step page).
pub(super) async fn send_code(
    v: &Visit<'_>,
    user: (i64, i64, &str),
    phone: &str,
    back: &ReturnPath,
) -> Result<Sending, Refusal> {
    let (user_id, tenant_id, email) = user;
    let back = back.encoded();
    let who = super::super::sms_refusal::Sender { tenant_id, email, rd_query: &back };
    if let Some(r) = super::super::sms_refusal::refuse_country(v, &who, phone).await {
        return Ok(Sending::Refused(r));
    }
    let code = crate::sms::new_code();
    if let Err(wait) = v.app.store.put_sms_code(user_id, phone, &sms_hash(user_id, &code), SMS_TTL, SMS_GAP).await? {
        return Ok(Sending::Wait(wait));
    }
    if let Some(r) = super::super::sms_refusal::refuse_over_budget(v, &who).await {
        return Ok(Sending::Refused(r));
    }
    let product = &v.app.cfg.ui.product_name;
    let body = match v.lang {
        Lang::Ja => format!("【{product}】認証コード：{code}（5分間有効）。このコードを他人に教えないでください。"),
        Lang::En => format!("{product}: your code is {code}. It works for 5 minutes. Never share it."),
    };
    match v.app.sms.send(&SmsMessage { to: phone.to_owned(), body, code }).await {
        Ok(()) => Ok(Sending::Sent),
        Err(e) => {
            tracing::error!(error = %e, "sending an SMS code failed");
            Ok(Sending::Failed)
        }
    }
}

/// The words for a code that could not go out, or must wait.
pub(super) fn send_problem(v: &Visit<'_>, sent: &Sending) -> Option<(u16, String)> {
    match sent {
        Sending::Sent | Sending::Refused(_) => None,
        Sending::Failed => Some((
            502,
            v.t(
                "The code could not be sent. Try again in a moment.",
                "認証コードを送信できませんでした。しばらくしてから再度お試しください。",
            )
            .to_owned(),
        )),
        Sending::Wait(wait) => Some((
            429,
            match v.lang {
                Lang::Ja => format!("新しいコードは{wait}秒後に送信できます。届いたコードを入力してください。"),
                Lang::En => format!("A new code can be sent in {wait} seconds. Enter the code you received."),
            },
        )),
    }
}

fn code_page(v: &Visit<'_>, status: u16, csrf: &str, rd: &ReturnPath, phone: &str, error: Option<&str>) -> Outcome {
    let view = SmsCode {
        ui: v.ui(),
        title: v.t("Enter the code", "認証コードの入力"),
        csrf,
        rd,
        masked: mask_phone(phone),
        phone,
        error,
    };
    page(status, &view)
}

pub async fn sms(v: &Visit<'_>, p: Pending) -> Outcome {
    let form = read_form(v)?;
    let user_id = p.cached.rec.user_id;
    let rd = ReturnPath::from_form(&form, "/");
    let (token, _) = csrf_for(v);
    let enrolment = v.app.store.enrolment(user_id).await?;
    if let Some(code) = form.get("code") {
        if let Some(r) = throttled(v, user_id).await {
            return Ok(r);
        }
        let user = p.user(v).await?;
        let shown = enrolment.sms_phone.clone().or_else(|| form.get("phone").map(str::to_owned)).unwrap_or_default();
        let by = v.actor(Some(&user.email));
        let remember = form.get("remember").is_some();
        return match v
            .accounts()
            .check_second_factor(&by, &v.app.totp_key, &user, Proof::Sms(code), Purpose::SignIn)
            .await?
        {
            Checked::Right { enrolled: true, .. } => hold_until_saved(v, &p, Factor::Sms, remember, &rd).await,
            Checked::Right { .. } => complete(v, &p, &user, Factor::Sms, remember, &rd).await,
            Checked::Wrong { locked } => {
                let msg = v.t("That code is not correct.", "認証コードが正しくありません。");
                wrong_code(v, &p, locked, code_page(v, 400, &token, &rd, &shown, Some(msg))).await
            }
            Checked::Dead => {
                let msg = v.t(
                    "This code has expired or was tried too often. Send a new one.",
                    "このコードは期限切れか、入力回数の上限に達しました。新しいコードを送信してください。",
                );
                code_page(v, 400, &token, &rd, &shown, Some(msg))
            }
            Checked::NotEnrolled => Ok(Reply::redirect(303, rd.on("/auth/2fa"))),
            Checked::Locked => locked_now(v).await,
        };
    }
    // Send a code: to the registered phone, or (enrolment) to the number entered.
    let phone = match (&enrolment.sms_phone, form.get("phone")) {
        (Some(registered), _) => registered.clone(),
        (None, Some(entered)) if !enrolment.any() => match normalize_phone(entered) {
            Ok(p) => p,
            Err(_) => {
                let why = v.t(
                    "That is not a phone number we can send to. Enter a mobile number such as 090-1234-5678 or +81 90 1234 5678.",
                    "送信できる電話番号ではありません。090-1234-5678 や +81 90 1234 5678 のような携帯電話番号を入力してください。",
                );
                return chooser_page(v, &p, &token, &rd, entered, Some(why)).await;
            }
        },
        _ => return Ok(Reply::redirect(303, rd.on("/auth/2fa"))),
    };
    if let Some(r) = throttled(v, user_id).await {
        return Ok(r);
    }
    let r = &p.cached.rec;
    let sent = send_code(v, (user_id, r.tenant_id, &r.email), &phone, &rd).await?;
    if let Sending::Refused(reply) = sent {
        return Ok(reply);
    }
    match send_problem(v, &sent) {
        None => code_page(v, 200, &token, &rd, &phone, None),
        Some((429, msg)) => {
            let Sending::Wait(wait) = sent else { return code_page(v, 429, &token, &rd, &phone, Some(&msg)) };
            Ok(code_page(v, 429, &token, &rd, &phone, Some(&msg))?.header("retry-after", wait.to_string()))
        }
        Some((status, msg)) => code_page(v, status, &token, &rd, &phone, Some(&msg)),
    }
}
