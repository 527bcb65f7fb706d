//! The signed-in user's own account: the settings menu, password change and
//! email change. The changes themselves are `accounts` operations; these pages
//! check the forms and show the outcome.

use super::links::{check_new_password, dead_link};
use super::start::{NewLogin, start};
use super::sudo::Gated;
use super::views::account::{
    EmailChanged, EmailConfirmPage, EmailPage, EmailSent, MenuItems, MenuPage, Notice, PasswordDone, PasswordPage,
};
use super::{Visit, csrf_for, read_form, to_login, with_cookie};
use crate::accounts::{EmailConfirm, EmailRequest, Mailed, MethodLink};
use crate::store::{Plan, canonical_email, valid_email};
use crate::web::{Outcome, Refusal, page};

pub async fn menu(v: &Visit<'_>, a: Gated) -> Outcome {
    let (token, cookie) = csrf_for(v);
    // Changing the phone or app is offered for what the user has set up.
    let enrolment = v.app.store.enrolment(a.cached.rec.user_id).await?;
    let may = MenuItems {
        change_email: a.may_change_email(),
        change_password: a.may_change_password(),
        own_devices: !a.break_glass,
        own_phone: a.may_change_own_second_factor() && enrolment.sms_phone.is_some(),
        own_app: a.may_change_own_second_factor() && enrolment.totp_secret.is_some(),
        set_route: a.may_set_route(),
        set_two_factor: a.may_set_two_factor(),
        administer: a.may_administer(),
        login_method: a.may_change_login_method(),
        directory: a.may_set_directory(),
    };
    let plan = match a.plan {
        Plan::Basic => v.t("Basic", "基本プラン"),
        Plan::Trial => v.t("Free trial", "無料トライアル"),
    };
    let view = MenuPage {
        ui: v.ui(),
        title: v.t("Settings", "設定メニュー"),
        csrf: &token,
        email: &a.cached.rec.email,
        organisation: &a.tenant.name,
        plan,
        may,
        break_glass: a.break_glass,
    };
    Ok(with_cookie(page(200, &view)?, cookie))
}

fn password_page(v: &Visit<'_>, csrf: &str, errors: [Option<&str>; 3], status: u16) -> Outcome {
    let view = PasswordPage {
        ui: v.ui(),
        title: v.t("Change password", "パスワードの変更"),
        csrf,
        rule: crate::password::rule_text(v.lang),
        errors,
    };
    page(status, &view)
}

pub async fn password_form(v: &Visit<'_>, _: Gated) -> Outcome {
    let (token, cookie) = csrf_for(v);
    Ok(with_cookie(password_page(v, &token, [None, None, None], 200)?, cookie))
}

pub async fn password_submit(v: &Visit<'_>, a: Gated) -> Outcome {
    let c = a.cached;
    let form = read_form(v)?;
    let (token, _) = csrf_for(v);
    let Some(user) = v.app.store.user_by_id(c.rec.user_id).await? else { return Ok(to_login(v)) };
    // Counted toward the lock like a login, so a stolen session cannot guess it.
    if let Some(r) = super::login::throttled(v).await {
        return Ok(r);
    }
    match super::login::check_password(v, &user, form.get("current_password").unwrap_or("")).await {
        Ok(true) => {}
        Ok(false) => {
            let err = v.t("The current password is not correct.", "現在のパスワードが正しくありません。");
            return password_page(v, &token, [Some(err), None, None], 400);
        }
        Err(reply) => return Ok(reply),
    }
    let password = form.get("password").unwrap_or("");
    if let Err((a, b)) = check_new_password(v, password, form.get("password_confirm").unwrap_or("")) {
        return password_page(v, &token, [None, a, b], 400);
    }
    let hashed = v.app.hasher.hash(password.to_owned()).await.map_err(|e| Refusal::broken("password hashing", e))?;
    let mailed = v.accounts().change_password(&v.actor(Some(&user.email)), &user, &hashed).await?;
    // Every session ended, this one included; this browser gets a new id.
    let login = NewLogin {
        user_id: user.id,
        tenant_id: user.tenant_id,
        email: &user.email,
        role: c.rec.role,
        factor: c.rec.factor,
        line: None,
        pending_factor: None,
        pending_remember: false,
        provider: None,
    };
    let cookie = start(v, login).await?;
    let view = PasswordDone {
        ui: v.ui(),
        title: v.t("Password changed", "パスワードを変更しました"),
        mailed: mailed == Mailed::Sent,
    };
    Ok(page(200, &view)?.header("set-cookie", cookie))
}

/// The email form with what was typed and the errors next to their fields.
struct EmailForm<'f> {
    new_email: &'f str,
    again: &'f str,
    errors: [Option<&'static str>; 3],
}

fn email_page(v: &Visit<'_>, csrf: &str, current: &str, f: EmailForm<'_>, status: u16, ask_password: bool) -> Outcome {
    let view = EmailPage {
        ui: v.ui(),
        title: v.t("Change email address", "メールアドレスの変更"),
        csrf,
        current_email: current,
        new_email: f.new_email,
        new_email_confirm: f.again,
        errors: f.errors,
        ask_password,
    };
    page(status, &view)
}

pub async fn email_form(v: &Visit<'_>, a: Gated) -> Outcome {
    let (token, cookie) = csrf_for(v);
    let blank = EmailForm { new_email: "", again: "", errors: [None, None, None] };
    let ask_password = a.cached.rec.method == policy::LoginMethod::Password;
    Ok(with_cookie(email_page(v, &token, &a.cached.rec.email, blank, 200, ask_password)?, cookie))
}

fn not_an_address(v: &Visit<'_>) -> &'static str {
    v.t(
        "Enter an email address such as name@example.com.",
        "name@example.com のような形式でメールアドレスを入力してください。",
    )
}

pub async fn email_submit(v: &Visit<'_>, a: Gated) -> Outcome {
    let c = a.cached;
    let form = read_form(v)?;
    let (token, _) = csrf_for(v);
    let Some(user) = v.app.store.user_by_id(c.rec.user_id).await? else { return Ok(to_login(v)) };
    let (new_email, again) = (form.get("new_email").unwrap_or(""), form.get("new_email_confirm").unwrap_or(""));
    let ask_password = user.login_method == policy::LoginMethod::Password;
    let refused =
        |errors| email_page(v, &token, &user.email, EmailForm { new_email, again, errors }, 400, ask_password);
    // Counted toward the lock like a login, so a stolen session cannot guess it.
    if let Some(r) = super::login::throttled(v).await {
        return Ok(r);
    }
    // A federated user has no password here: the settings gate had them sign
    // in at their provider again within the last few minutes.
    if ask_password {
        match super::login::check_password(v, &user, form.get("current_password").unwrap_or("")).await {
            Ok(true) => {}
            Ok(false) => {
                let err = v.t("The current password is not correct.", "現在のパスワードが正しくありません。");
                return refused([None, None, Some(err)]);
            }
            Err(reply) => return Ok(reply),
        }
    }
    // Typed twice, so that a typo does not send the link (and later the
    // account) to somebody else's mailbox.
    let shape = (!valid_email(&canonical_email(new_email))).then(|| not_an_address(v));
    let same = canonical_email(new_email) == canonical_email(again);
    let mismatch = (!same).then(|| v.t("The two addresses are not the same.", "2つのメールアドレスが一致しません。"));
    if shape.is_some() || mismatch.is_some() {
        return refused([shape, mismatch, None]);
    }
    match v.accounts().request_email_change(&v.actor(Some(&user.email)), &user, new_email).await? {
        EmailRequest::Sent { new_email, mailed } => {
            let view = EmailSent {
                ui: v.ui(),
                title: v.t("Check the new mailbox", "新しいメールアドレスをご確認ください"),
                new_email: &new_email,
                mailed: mailed == Mailed::Sent,
            };
            page(200, &view)
        }
        EmailRequest::NotAnAddress => refused([Some(not_an_address(v)), None, None]),
        // The address unchanged: the form is how one asks for the login-method link (SPEC section 9).
        EmailRequest::Unchanged => match v.accounts().send_login_method_link(&v.actor(Some(&user.email)), &user).await? {
            MethodLink::Sent(mailed) => {
                let text = match mailed {
                    Mailed::Sent => v.t(
                        "The address is unchanged, so a link to change your sign-in method was sent to it instead.",
                        "メールアドレスが現在と同じため、代わりにログイン方法変更のリンクをこのアドレスにお送りしました。",
                    ),
                    Mailed::Failed => v.t(
                        "The address is unchanged. A link to change your sign-in method was made, but it could not be mailed. Try again later.",
                        "メールアドレスが現在と同じため、ログイン方法変更のリンクを作成しましたが、メールを送信できませんでした。時間をおいてもう一度お試しください。",
                    ),
                };
                let view = Notice {
                    ui: v.ui(),
                    title: v.t("Change your sign-in method", "ログイン方法の変更"),
                    text,
                    error: mailed == Mailed::Failed,
                    back_to_settings: true,
                };
                page(200, &view)
            }
            MethodLink::EmailChangePending => refused([Some(v.t(
                "This is already your email address, and an email change of yours waits for its confirmation. Finish that first.",
                "現在と同じメールアドレスです。また、確認待ちのメールアドレス変更があります。先にそちらを完了してください。",
            )), None, None]),
        },
        EmailRequest::MethodChangePending => refused([Some(v.t(
            "A change of your sign-in method is pending (its link was mailed to you). The email address cannot change at the same time; finish that change first or let its link expire.",
            "ログイン方法の変更が手続き中です（リンクをメールでお送りしています）。メールアドレスは同時に変更できないため、先にそちらを完了するか、リンクの有効期限が切れるまでお待ちください。",
        )), None, None]),
    }
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
    csrf: &str,
    new_email: &str,
    errors: (Option<&str>, Option<&str>),
    status: u16,
    sets_password: bool,
) -> Outcome {
    let view = EmailConfirmPage {
        ui: v.ui(),
        title: v.t("Confirm your new email address", "メールアドレス変更の確認"),
        csrf,
        ticket,
        new_email,
        rule: crate::password::rule_text(v.lang),
        errors,
        sets_password,
    };
    page(status, &view)
}

pub async fn email_confirm_form(v: &Visit<'_>) -> Outcome {
    let ticket = v.req.query("ticket").unwrap_or_default();
    let Some(new_email) = v.accounts().pending_email_change(&ticket).await? else {
        return Ok(dead_link(v, confirm_next(v)));
    };
    let (token, cookie) = csrf_for(v);
    let sets_password = v.accounts().email_change_sets_password(&ticket).await?;
    Ok(with_cookie(confirm_page(v, &ticket, &token, &new_email, (None, None), 200, sets_password)?, cookie))
}

pub async fn email_confirm_submit(v: &Visit<'_>) -> Outcome {
    let ticket = v.req.query("ticket").unwrap_or_default();
    let form = read_form(v)?;
    // A dead link costs a query, not an argon2 run.
    let Some(new_email) = v.accounts().pending_email_change(&ticket).await? else {
        return Ok(dead_link(v, confirm_next(v)));
    };
    let (token, _) = csrf_for(v);
    let hashed = if v.accounts().email_change_sets_password(&ticket).await? {
        let password = form.get("password").unwrap_or("");
        if let Err(errors) = check_new_password(v, password, form.get("password_confirm").unwrap_or("")) {
            return confirm_page(v, &ticket, &token, &new_email, errors, 400, true);
        }
        // Hashed before the link is used, so a failure here never burns it.
        Some(v.app.hasher.hash(password.to_owned()).await.map_err(|e| Refusal::broken("password hashing", e))?)
    } else {
        None
    };
    match v.accounts().confirm_email_change(&v.actor(None), &ticket, hashed.as_deref()).await? {
        EmailConfirm::Changed { new_email, .. } => {
            let view = EmailChanged {
                ui: v.ui(),
                title: v.t("Your email address is changed", "メールアドレスを変更しました"),
                new_email: &new_email,
            };
            page(200, &view)
        }
        EmailConfirm::DeadLink => Ok(dead_link(v, confirm_next(v))),
        EmailConfirm::Taken => {
            let view = Notice {
                ui: v.ui(),
                title: v.t("The change could not be made", "変更できませんでした"),
                text: v.t(
                    "This address now belongs to another account, so the change could not be made. Start again with a different address.",
                    "このメールアドレスは別のアカウントで使用されているため、変更できませんでした。別のアドレスで再度お申し込みください。",
                ),
                error: true,
                back_to_settings: false,
            };
            page(409, &view)
        }
    }
}

#[cfg(test)]
mod tests;
