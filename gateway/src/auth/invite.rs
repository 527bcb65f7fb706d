//! Accepting an invitation from the emailed link, as the service manual shows
//! it: the address being registered with the password (twice), a screen that
//! shows what will be registered, then the completion. A POST without `step`
//! (the interface of SPEC section 8: `password`, `password_confirm`) registers
//! at once, as scripts expect.

use policy::Role;

use super::federated::{Begin, Refused, refused};
use super::links::{check_new_password, dead_link};
use super::login_method::{
    Choice, DirectoryRefusal, PASSWORD, choice, directory_chosen, go, provider_options, unknown_method,
    wrong_connection_id,
};
use super::views::{InviteConfirm, InviteDone, InviteForm};
use super::{Visit, csrf_for, read_form, with_cookie};
use crate::accounts::{NewPassword, Registration};
use crate::store::{FlowPurpose, UserRow};
use crate::tokens;
use crate::web::form::Form;
use crate::web::{Outcome, Refusal, page};

fn next_step(v: &Visit<'_>) -> &'static str {
    v.t(
        "Ask your organisation's administrator to send a new invitation.",
        "組織の管理者に、招待メールの再送を依頼してください。",
    )
}

/// The live invitation the request's ticket is for: the ticket, its hash
/// and the invitee. `None` for any dead ticket, withdrawn invitations included.
async fn invitee(v: &Visit<'_>) -> Result<Option<(String, String, UserRow)>, Refusal> {
    let ticket = v.req.query("ticket").unwrap_or_default();
    let Some(hash) = tokens::hash_token(&ticket) else { return Ok(None) };
    Ok(v.accounts().invitee(&hash).await?.map(|user| (ticket, hash, user)))
}

/// What the invitation form shows next to its fields.
#[derive(Default)]
struct FormErrors {
    password: Option<&'static str>,
    confirm: Option<&'static str>,
    connection: Option<&'static str>,
    page: Option<&'static str>,
}

async fn form_page(v: &Visit<'_>, status: u16, ticket: &str, user: &UserRow, errors: FormErrors) -> Outcome {
    // The owner may never use a directory (SPEC section 9).
    let directory = user.role != Role::Owner && v.app.store.directory(user.tenant_id).await?.is_some();
    let (token, cookie) = csrf_for(v);
    let action = format!("/auth/invite?ticket={ticket}");
    let view = InviteForm {
        ui: v.ui(),
        title: v.t("Register as a user", "利用者登録"),
        csrf: &token,
        ticket,
        email: &user.email,
        rule: crate::password::rule_text(v.lang),
        password_error: errors.password,
        confirm_error: errors.confirm,
        action: &action,
        providers: provider_options(v, ""),
        directory,
        connection_error: errors.connection,
        error: errors.page,
    };
    Ok(with_cookie(page(status, &view)?, cookie))
}

/// A provider or the directory chosen on the invitation page: the trip to
/// it, whose callback registers the account and uses the link up.
async fn federated(v: &Visit<'_>, ticket: &str, hash: &str, user: &UserRow, form: &Form, method: &str) -> Outcome {
    let flow = |spec| Begin {
        spec,
        tenant_id: Some(user.tenant_id),
        purpose: FlowPurpose::Invite,
        rd: Some("/".into()),
        user_id: Some(user.id),
        ticket_hash: Some(hash.to_owned()),
        session_hash: None,
    };
    match choice(v, method) {
        Choice::Provider(spec) => go(v, None, user, flow(spec)).await,
        Choice::Directory if user.role == Role::Owner => {
            v.audit(Some(user.tenant_id), None, Some(&user.email), "login_method_refused:ad:owner_directory").await;
            refused(v, Refused::OwnerDirectory)
        }
        Choice::Directory => {
            match directory_chosen(v, user.tenant_id, form.get("connection_id").unwrap_or("")).await? {
                Ok(spec) => go(v, None, user, flow(spec)).await,
                Err(DirectoryRefusal::Throttled(reply)) => Ok(reply),
                Err(DirectoryRefusal::WrongId) => {
                    let errors = FormErrors { connection: Some(wrong_connection_id(v)), ..FormErrors::default() };
                    form_page(v, 400, ticket, user, errors).await
                }
                Err(DirectoryRefusal::NoDirectory) => {
                    let errors = FormErrors { page: Some(unknown_method(v)), ..FormErrors::default() };
                    form_page(v, 400, ticket, user, errors).await
                }
            }
        }
        Choice::Password | Choice::Unknown => {
            let errors = FormErrors { page: Some(unknown_method(v)), ..FormErrors::default() };
            form_page(v, 400, ticket, user, errors).await
        }
    }
}

pub async fn show(v: &Visit<'_>) -> Outcome {
    let Some((ticket, _, user)) = invitee(v).await? else { return Ok(dead_link(v, next_step(v))) };
    form_page(v, 200, &ticket, &user, FormErrors::default()).await
}

pub async fn submit(v: &Visit<'_>) -> Outcome {
    let form = read_form(v)?;
    // Checked before any hashing: a dead ticket costs a query, not an argon2 run.
    let Some((ticket, hash, user)) = invitee(v).await? else { return Ok(dead_link(v, next_step(v))) };
    let step = form.get("step");
    if step == Some("confirm") {
        let digest = form.get("staged").unwrap_or("");
        return complete(v, &ticket, &hash, &user, NewPassword::Staged { digest }).await;
    }
    // No `method` is email and password, as scripts post it (SPEC section 8).
    if let Some(method) = form.get("method").filter(|m| *m != PASSWORD) {
        return federated(v, &ticket, &hash, &user, &form, method).await;
    }
    let password = form.get("password").unwrap_or("");
    if let Err((password, confirm)) = check_new_password(v, password, form.get("password_confirm").unwrap_or("")) {
        return form_page(v, 400, &ticket, &user, FormErrors { password, confirm, ..FormErrors::default() }).await;
    }
    // A review does not use the link up, so whoever holds one could have the
    // server hash again and again: counted per address and per invitee.
    if let Some(reply) = super::login::throttled(v).await {
        return Ok(reply);
    }
    if !v.app.allow_code_for_user(user.id).await {
        let reply = super::login::throttled_reply(v);
        return Ok(reply);
    }
    let hashed = v.app.hasher.hash(password.to_owned()).await.map_err(|e| Refusal::broken("password hashing", e))?;
    if step.is_none() {
        return complete(v, &ticket, &hash, &user, NewPassword::Hashed(&hashed)).await;
    }
    // Any other step is the browser's first one: show what will be registered.
    if !v.accounts().stage_invitation_password(&hash, &hashed).await? {
        return Ok(dead_link(v, next_step(v)));
    }
    let (token, cookie) = csrf_for(v);
    let view = InviteConfirm {
        ui: v.ui(),
        title: v.t("Confirm your registration", "登録内容の確認"),
        csrf: &token,
        ticket: &ticket,
        email: &user.email,
        staged: &crate::accounts::staged_digest(&hashed),
    };
    Ok(with_cookie(page(200, &view)?, cookie))
}

async fn complete(v: &Visit<'_>, ticket: &str, hash: &str, user: &UserRow, password: NewPassword<'_>) -> Outcome {
    match v.accounts().complete_invitation(&v.actor(None), hash, password).await? {
        Registration::Done(user) => {
            page(200, &InviteDone { ui: v.ui(), title: v.t("Registration complete", "登録完了"), email: &user.email })
        }
        Registration::DeadLink => Ok(dead_link(v, next_step(v))),
        Registration::NothingStaged => {
            let first = v.t("Choose your password first.", "先にパスワードを設定してください。");
            form_page(v, 400, ticket, user, FormErrors { password: Some(first), ..FormErrors::default() }).await
        }
    }
}

#[cfg(test)]
mod tests;
