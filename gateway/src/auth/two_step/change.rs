//! Changing the registered phone number or authenticator app, signed in:
//! first a current factor proves it is the user (not someone holding their
//! session cookie), then a code from the new phone or app proves it works.
//! The rules are `accounts::factor_change`; every code entry is throttled
//! like the second step's, and every wrong code counts toward the lock.

use super::super::sudo::Gated;
use super::super::views::two_step::{Change, ChangeAppSetup, ChangePhoneCode, ChangeProve, Changed as ChangedPage};
use super::super::{Visit, csrf_for, read_form, to_login, with_cookie};
use super::app::app_setup;
use super::sms::{Sending, send_code, send_problem};
use super::{locked_reply, throttled};
use crate::accounts::{Changed, Changing, Checked, Proof};
use crate::sms::{mask_phone, normalize_phone};
use crate::store::UserRow;
use crate::web::form::Form;
use crate::web::rd::ReturnPath;
use crate::web::{Outcome, page};

/// What the first page shows again after a step.
#[derive(Default)]
struct Again<'a> {
    status: u16,
    method: &'a str,
    new_phone: &'a str,
    new_phone_error: Option<&'a str>,
    error: Option<&'a str>,
    note: Option<&'a str>,
}

fn changing(change: Change) -> Changing {
    match change {
        Change::Phone => Changing::Phone,
        Change::App => Changing::Authenticator,
    }
}

fn title(v: &Visit<'_>, change: Change) -> &'static str {
    match change {
        Change::Phone => v.t("Change your phone number", "電話番号の変更"),
        Change::App => v.t("Change your authenticator app", "認証アプリの変更"),
    }
}

async fn prove_page(v: &Visit<'_>, user: &UserRow, change: Change, again: Again<'_>) -> Outcome {
    let enrolment = v.app.store.enrolment(user.id).await?;
    let not_set_up = v.t(
        "2-step verification is not set up for your account yet: it is set up at your next sign-in.",
        "お客様のアカウントでは、2段階認証がまだ設定されていません。次回のログイン時に設定してください。",
    );
    let error = again.error.or((!enrolment.any()).then_some(not_set_up));
    let default_method = if enrolment.sms_phone.is_some() {
        "sms"
    } else if enrolment.totp_secret.is_some() {
        "totp"
    } else {
        "recovery"
    };
    let (token, cookie) = csrf_for(v);
    let view = ChangeProve {
        ui: v.ui(),
        title: title(v, change),
        csrf: &token,
        change,
        phone: enrolment.sms_phone.as_deref().map(mask_phone),
        app: enrolment.totp_secret.is_some(),
        method: if again.method.is_empty() { default_method } else { again.method },
        new_phone: again.new_phone,
        new_phone_error: again.new_phone_error,
        error,
        note: again.note,
    };
    let status = if again.status == 0 { 200 } else { again.status };
    Ok(with_cookie(page(status, &view)?, cookie))
}

/// What the page after the proof shows besides its form.
#[derive(Default, Clone, Copy)]
struct Shown<'a> {
    error: Option<&'a str>,
    /// After the recovery code proved it: the new one, shown once.
    recovery: Option<&'a str>,
}

fn phone_code_page(v: &Visit<'_>, status: u16, ticket: &str, phone: &str, shown: Shown<'_>) -> Outcome {
    let (token, _) = csrf_for(v);
    let view = ChangePhoneCode {
        ui: v.ui(),
        title: title(v, Change::Phone),
        csrf: &token,
        ticket,
        masked: mask_phone(phone),
        phone,
        error: shown.error,
        recovery: shown.recovery,
    };
    page(status, &view)
}

async fn app_setup_page(v: &Visit<'_>, user: &UserRow, status: u16, ticket: &str, shown: Shown<'_>) -> Outcome {
    let secret = v.accounts().authenticator_to_set_up(&v.app.totp_key, user.id).await?;
    let (token, _) = csrf_for(v);
    let view = ChangeAppSetup {
        ui: v.ui(),
        title: title(v, Change::App),
        csrf: &token,
        ticket,
        setup: app_setup(v, &user.email, &secret),
        error: shown.error,
        recovery: shown.recovery,
    };
    page(status, &view)
}

fn done_page(v: &Visit<'_>, change: Change) -> Outcome {
    page(200, &ChangedPage { ui: v.ui(), title: title(v, change), change })
}

pub async fn phone_form(v: &Visit<'_>, a: Gated) -> Outcome {
    let user = user(v, &a).await?;
    prove_page(v, &user, Change::Phone, Again::default()).await
}

pub async fn app_form(v: &Visit<'_>, a: Gated) -> Outcome {
    let user = user(v, &a).await?;
    prove_page(v, &user, Change::App, Again::default()).await
}

pub async fn phone_submit(v: &Visit<'_>, a: Gated) -> Outcome {
    submit(v, a, Change::Phone).await
}

pub async fn app_submit(v: &Visit<'_>, a: Gated) -> Outcome {
    submit(v, a, Change::App).await
}

async fn user(v: &Visit<'_>, a: &Gated) -> Result<UserRow, crate::web::Refusal> {
    match v.app.store.user_by_id(a.cached.rec.user_id).await? {
        Some(u) => Ok(u),
        None => Err(to_login(v).into()),
    }
}

async fn submit(v: &Visit<'_>, a: Gated, change: Change) -> Outcome {
    let form = read_form(v)?;
    let user = user(v, &a).await?;
    // Every step sends a code or checks one: all are throttled like the second step.
    if let Some(r) = throttled(v, user.id).await {
        return Ok(r);
    }
    match form.get("step").unwrap_or("") {
        "send" => send_to_current(v, &user, change).await,
        "prove" => prove(v, &user, change, &form).await,
        "resend" if change == Change::Phone => resend(v, &user, &form).await,
        "confirm" => confirm(v, &user, change, &form).await,
        _ => prove_page(v, &user, change, Again { status: 400, ..Again::default() }).await,
    }
}

/// Where an SMS refusal page's "back" leads (through the second step, which
/// sends a signed-in user straight on).
fn back(change: Change) -> ReturnPath {
    ReturnPath::checked(change.action())
}

/// A code to the phone registered now, to prove it is the user.
async fn send_to_current(v: &Visit<'_>, user: &UserRow, change: Change) -> Outcome {
    let Some(phone) = v.app.store.enrolment(user.id).await?.sms_phone else {
        return prove_page(v, user, change, Again { status: 400, ..Again::default() }).await;
    };
    let sent = send_code(v, (user.id, user.tenant_id, &user.email), &phone, &back(change)).await?;
    if let Sending::Refused(reply) = sent {
        return Ok(reply);
    }
    match send_problem(v, &sent) {
        None => {
            let note = v.t("We sent a code to your current phone.", "現在の電話番号に認証コードを送信しました。");
            prove_page(v, user, change, Again { method: "sms", note: Some(note), ..Again::default() }).await
        }
        Some((status, msg)) => {
            prove_page(v, user, change, Again { status, method: "sms", error: Some(&msg), ..Again::default() }).await
        }
    }
}

async fn prove(v: &Visit<'_>, user: &UserRow, change: Change, form: &Form) -> Outcome {
    let method = form.get("method").unwrap_or("");
    let code = form.get("code").unwrap_or("");
    let typed = form.get("phone").unwrap_or("");
    // The new number is checked first: a typo must not use up the recovery code.
    let new_phone = match change {
        Change::Phone => match normalize_phone(typed) {
            Ok(p) => Some(p),
            Err(_) => {
                let why = v.t(
                    "That is not a phone number we can send to. Enter a mobile number such as 090-1234-5678 or +81 90 1234 5678.",
                    "送信できる電話番号ではありません。090-1234-5678 や +81 90 1234 5678 のような携帯電話番号を入力してください。",
                );
                let again =
                    Again { status: 400, method, new_phone: typed, new_phone_error: Some(why), ..Again::default() };
                return prove_page(v, user, change, again).await;
            }
        },
        Change::App => None,
    };
    if let Some(phone) = &new_phone
        && !crate::sms::country_allowed(phone, &v.app.cfg.sms.allowed_country_codes)
    {
        let why = v.t(
            "We cannot send text messages to this number's country. Enter a mobile number of a country we send to, or use an authenticator app.",
            "この電話番号の国・地域にはSMSを送信できません。送信できる国・地域の携帯電話番号を入力するか、認証アプリをご利用ください。",
        );
        let again = Again { status: 400, method, new_phone: typed, new_phone_error: Some(why), ..Again::default() };
        return prove_page(v, user, change, again).await;
    }
    let proof = match method {
        "sms" => Proof::Sms(code),
        "totp" => Proof::Totp(code),
        "recovery" => Proof::Recovery(code),
        _ => {
            let why = v.t("Choose how you confirm it is you.", "確認の方法を選択してください。");
            return prove_page(
                v,
                user,
                change,
                Again { status: 400, new_phone: typed, error: Some(why), ..Again::default() },
            )
            .await;
        }
    };
    let by = v.actor(Some(&user.email));
    let ticket = match v.accounts().prove_for_change(&by, &v.app.totp_key, user, changing(change), proof).await? {
        Ok(ticket) => ticket,
        Err(Checked::Locked | Checked::Wrong { locked: true }) => return Ok(locked_reply(v)),
        Err(refused) => {
            let why = match refused {
                Checked::Dead => v.t(
                    "This code has expired or was tried too often. Send a new one.",
                    "このコードは期限切れか、入力回数の上限に達しました。新しいコードを送信してください。",
                ),
                Checked::NotEnrolled => v.t(
                    "That method is not set up for your account. Choose another.",
                    "その方法はお客様のアカウントに設定されていません。別の方法を選択してください。",
                ),
                _ => v.t("That code is not correct.", "コードが正しくありません。"),
            };
            let again = Again { status: 400, method, new_phone: typed, error: Some(why), ..Again::default() };
            return prove_page(v, user, change, again).await;
        }
    };
    // A used recovery code is replaced at once, so that leaving the change
    // half-way never leaves the user without one.
    let recovery = match proof {
        Proof::Recovery(_) => Some(v.accounts().new_recovery_code(user).await?),
        _ => None,
    };
    let shown = Shown { error: None, recovery: recovery.as_deref() };
    match new_phone {
        Some(phone) => send_to_new(v, user, &ticket, &phone, shown).await,
        None => app_setup_page(v, user, 200, &ticket, shown).await,
    }
}

/// The code to the new number, with the proof's ticket.
async fn send_to_new(v: &Visit<'_>, user: &UserRow, ticket: &str, phone: &str, shown: Shown<'_>) -> Outcome {
    let sent = send_code(v, (user.id, user.tenant_id, &user.email), phone, &back(Change::Phone)).await?;
    if let Sending::Refused(reply) = sent {
        return Ok(reply);
    }
    match send_problem(v, &sent) {
        None => phone_code_page(v, 200, ticket, phone, shown),
        Some((status, msg)) => phone_code_page(v, status, ticket, phone, Shown { error: Some(&msg), ..shown }),
    }
}

/// "Send a new code" to the new number: only with a live proof, and only to
/// the number the last code went to, so one proof cannot make the server
/// text number after number of someone's choosing.
async fn resend(v: &Visit<'_>, user: &UserRow, form: &Form) -> Outcome {
    let ticket = form.get("ticket").unwrap_or("");
    let proof = v.accounts().change_proof(user, Changing::Phone, ticket).await?;
    let last = v.app.store.sms_code_phone(user.id).await?;
    match (proof, normalize_phone(form.get("phone").unwrap_or(""))) {
        (Some(_), Ok(phone)) if last.as_deref() == Some(phone.as_str()) => {
            send_to_new(v, user, ticket, &phone, Shown::default()).await
        }
        _ => start_again(v, user, Change::Phone).await,
    }
}

async fn start_again(v: &Visit<'_>, user: &UserRow, change: Change) -> Outcome {
    let why = v.t(
        "Confirm that it is you again: the confirmation works once, for 10 minutes.",
        "もう一度ご自身であることを確認してください。確認は10分間、一度だけ有効です。",
    );
    prove_page(v, user, change, Again { status: 400, error: Some(why), ..Again::default() }).await
}

async fn confirm(v: &Visit<'_>, user: &UserRow, change: Change, form: &Form) -> Outcome {
    let ticket = form.get("ticket").unwrap_or("");
    let code = form.get("code").unwrap_or("");
    let by = v.actor(Some(&user.email));
    let changed = match change {
        Change::Phone => v.accounts().change_phone(&by, user, ticket, code).await?,
        Change::App => v.accounts().change_authenticator(&by, &v.app.totp_key, user, ticket, code).await?,
    };
    let wrong = v.t("That code is not correct.", "認証コードが正しくありません。");
    let phone = form.get("phone").unwrap_or("");
    match (changed, change) {
        (Changed::Done(_), _) => done_page(v, change),
        (Changed::NoProof, _) => start_again(v, user, change).await,
        (Changed::Locked | Changed::Wrong { locked: true }, _) => Ok(locked_reply(v)),
        (Changed::Wrong { .. }, Change::Phone) => {
            phone_code_page(v, 400, ticket, phone, Shown { error: Some(wrong), ..Shown::default() })
        }
        (Changed::Dead, Change::Phone) => {
            let why = v.t(
                "This code has expired or was tried too often. Send a new one.",
                "このコードは期限切れか、入力回数の上限に達しました。新しいコードを送信してください。",
            );
            phone_code_page(v, 400, ticket, phone, Shown { error: Some(why), ..Shown::default() })
        }
        (Changed::Wrong { .. } | Changed::Dead, Change::App) => {
            app_setup_page(v, user, 400, ticket, Shown { error: Some(wrong), ..Shown::default() }).await
        }
    }
}
