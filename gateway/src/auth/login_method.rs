//! Changing a login method (SPEC section 9): the owner's own setting
//! (`/auth/settings/login-method`, basic plan) and the page of the emailed
//! change link (`/auth/login-method?ticket=`). Email and password is set
//! here; a provider or the tenant's directory is a trip to it, finished by
//! the callback (`federated::bind`). The choices are shared with the
//! invitation page.

use policy::Role;

use super::federated::{Begin, Refused, begin, directory_spec, method_label, provider, refused};
use super::links::{check_new_password, dead_link};
use super::sudo::Gated;
use super::views::methods::{MethodDone, MethodOption, MethodPage};
use super::{Visit, csrf_for, read_form, to_login, with_cookie};
use crate::accounts::{DIRECTORY, MethodChange};
use crate::federation::ProviderSpec;
use crate::session::{CookieFact, read_cookie};
use crate::store::{FlowPurpose, LinkPurpose, StoreError, UserRow};
use crate::tokens;
use crate::web::form::Form;
use crate::web::{Outcome, Refusal, Reply, page};

pub const PASSWORD: &str = "password";

/// The configured providers as buttons, the current one marked.
pub fn provider_options(v: &Visit<'_>, current: &str) -> Vec<MethodOption> {
    v.app
        .cfg
        .login
        .providers
        .iter()
        .map(|p| MethodOption { value: p.id.clone(), label: method_label(v, &p.id), current: p.id == current })
        .collect()
}

/// What a posted `method` names.
pub enum Choice {
    Password,
    Provider(ProviderSpec),
    Directory,
    Unknown,
}

pub fn choice(v: &Visit<'_>, method: &str) -> Choice {
    match method {
        PASSWORD => Choice::Password,
        DIRECTORY => Choice::Directory,
        id => provider(v, id).map_or(Choice::Unknown, Choice::Provider),
    }
}

/// Why a directory choice was not taken.
pub enum DirectoryRefusal {
    /// The tenant has no directory: the choice was never offered.
    NoDirectory,
    WrongId,
    /// Too many wrong ids from this address: the throttle's page.
    Throttled(Reply),
}

/// The tenant's directory when `typed` is its connection id. A wrong id
/// counts toward the per-address sign-in throttle, so nobody walks the id space.
pub async fn directory_chosen(
    v: &Visit<'_>,
    tenant_id: i64,
    typed: &str,
) -> Result<Result<ProviderSpec, DirectoryRefusal>, StoreError> {
    let Some(dir) = v.app.store.directory(tenant_id).await? else { return Ok(Err(DirectoryRefusal::NoDirectory)) };
    let typed = typed.trim();
    if !tokens::constant_time_eq(typed.as_bytes(), dir.connection_id.as_bytes()) {
        v.audit(Some(tenant_id), None, None, "login_method_refused:ad:wrong_connection_id").await;
        if let Some(reply) = super::login::throttled(v).await {
            return Ok(Err(DirectoryRefusal::Throttled(reply)));
        }
        return Ok(Err(DirectoryRefusal::WrongId));
    }
    // A secret that no longer opens is a provider that cannot be reached.
    match directory_spec(v, &dir) {
        Some(spec) => Ok(Ok(spec)),
        None => Ok(Err(DirectoryRefusal::NoDirectory)),
    }
}

/// Records the trip a person sets out on to change (or register) their
/// method, then sends them to the provider; the callback audits the outcome.
pub async fn go(v: &Visit<'_>, actor: Option<&str>, user: &UserRow, b: Begin) -> Outcome {
    let event = format!("login_method_started:{}:{}", b.spec.id, b.purpose.as_str());
    v.audit(Some(user.tenant_id), actor, Some(&user.email), &event).await;
    begin(v, b).await
}

pub fn wrong_connection_id(v: &Visit<'_>) -> &'static str {
    v.t(
        "That is not your organisation's connection ID. Check the ID your administrator gave you.",
        "組織の接続IDと一致しません。管理者から案内された接続IDをご確認ください。",
    )
}

pub fn unknown_method(v: &Visit<'_>) -> &'static str {
    v.t("Choose one of the sign-in methods on this page.", "この画面のログイン方法から選んでください。")
}

fn no_directory(v: &Visit<'_>) -> &'static str {
    v.t(
        "Your organisation has no Active Directory connection, so it cannot be chosen.",
        "組織に Active Directory 接続がないため、選択できません。",
    )
}

fn email_change_pending(v: &Visit<'_>) -> &'static str {
    v.t(
        "An email address change is waiting for its confirmation. Finish it (or let its link expire) before changing the sign-in method: the two are never done at the same time.",
        "メールアドレスの変更が確認待ちです。ログイン方法とメールアドレスは同時に変更できないため、先にメールアドレスの変更を完了するか、リンクの有効期限が切れるまでお待ちください。",
    )
}

/// The owner choosing the directory, in the settings: a page that says why not.
async fn owner_directory(v: &Visit<'_>, user: &UserRow) -> Outcome {
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "login_method_refused:ad:owner_directory")
        .await;
    refused(v, Refused::OwnerDirectory)
}

/// What a page's errors are, each next to its place.
#[derive(Default)]
struct Errors<'e> {
    error: Option<&'e str>,
    password: Option<&'e str>,
    confirm: Option<&'e str>,
    connection: Option<&'e str>,
}

/// Where the page is: the settings, or the link with its ticket.
enum Place<'t> {
    Settings,
    Link(&'t str),
}

async fn method_page(v: &Visit<'_>, user: &UserRow, place: Place<'_>, errors: Errors<'_>, status: u16) -> Outcome {
    let current = v.accounts().current_method(user).await?;
    // The owner never uses a directory; others see it when their tenant has one.
    let directory = user.role != Role::Owner && v.app.store.directory(user.tenant_id).await?.is_some();
    let (token, cookie) = csrf_for(v);
    let action = match place {
        Place::Settings => "/auth/settings/login-method".to_owned(),
        Place::Link(ticket) => format!("/auth/login-method?ticket={ticket}"),
    };
    let label = method_label(v, &current);
    let view = MethodPage {
        ui: v.ui(),
        title: v.t("Change your sign-in method", "ログイン方法の変更"),
        csrf: &token,
        action: &action,
        current: &label,
        password_current: current == PASSWORD,
        providers: provider_options(v, &current),
        directory,
        rule: crate::password::rule_text(v.lang),
        error: errors.error,
        password_error: errors.password,
        confirm_error: errors.confirm,
        connection_error: errors.connection,
        back_to_settings: matches!(place, Place::Settings),
    };
    Ok(with_cookie(page(status, &view)?, cookie))
}

fn done(v: &Visit<'_>, text: &str, sign_in: bool, back_to_settings: bool) -> Outcome {
    let view =
        MethodDone { ui: v.ui(), title: v.t("Sign-in method", "ログイン方法"), text, sign_in, back_to_settings };
    page(200, &view)
}

/// The method chosen is the one in use. For a provider that can only mean
/// another of its accounts, which is never switched to directly (SPEC section
/// 9: through another method); for a password, nothing changes.
async fn same_method(v: &Visit<'_>, user: &UserRow, method: &str, in_settings: bool) -> Outcome {
    if method == "password" {
        return nothing_changes(v, in_settings);
    }
    let event = format!("login_method_refused:{method}:same_provider_other_account");
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), &event).await;
    super::federated::refused(v, super::federated::Refused::SameProviderOtherAccount)
}

fn nothing_changes(v: &Visit<'_>, in_settings: bool) -> Outcome {
    let text =
        v.t("This is already your sign-in method. Nothing changes.", "現在と同じログイン方法です。変更はありません。");
    done(v, text, false, in_settings)
}

/// Email and password chosen: the new password is checked and hashed, then
/// (with `link`, once that link is used up) the switch is made.
async fn to_password(v: &Visit<'_>, user: &UserRow, form: &Form, place: Place<'_>) -> Outcome {
    let password = form.get("password").unwrap_or("");
    if let Err((password, confirm)) = check_new_password(v, password, form.get("password_confirm").unwrap_or("")) {
        return method_page(v, user, place, Errors { password, confirm, ..Errors::default() }, 400).await;
    }
    // Whoever holds a link could have the server hash without end: counted
    // per address like a sign-in.
    if let (Place::Link(_), Some(reply)) = (&place, super::login::throttled(v).await) {
        return Ok(reply);
    }
    let hashed = v.app.hasher.hash(password.to_owned()).await.map_err(|e| Refusal::broken("password hashing", e))?;
    if let Place::Link(ticket) = place {
        let used = match tokens::hash_token(ticket) {
            Some(hash) => v.app.store.consume_link(&hash, LinkPurpose::LoginMethod).await?,
            None => None,
        };
        if used != Some(user.id) {
            return Ok(dead_link(v, link_next(v)));
        }
    }
    let label = method_label(v, PASSWORD);
    let (change, _) = v.accounts().switch_to_password(&v.actor(Some(&user.email)), user, &hashed, &label).await?;
    if !matches!(change, MethodChange::Done(_)) {
        return refused(v, Refused::NotNow);
    }
    let text = v.t(
        "Your sign-in method is now email and password. You were signed out everywhere; sign in with your new password.",
        "ログイン方法をメールアドレスとパスワードに変更しました。すべての端末からログアウトしましたので、新しいパスワードでログインしてください。",
    );
    done(v, text, true, false)
}

// ---- The owner's own setting ----

pub async fn own_form(v: &Visit<'_>, a: Gated) -> Outcome {
    let Some(user) = v.app.store.user_by_id(a.cached.rec.user_id).await? else { return Ok(to_login(v)) };
    method_page(v, &user, Place::Settings, Errors::default(), 200).await
}

pub async fn own_submit(v: &Visit<'_>, a: Gated) -> Outcome {
    let form = read_form(v)?;
    let Some(user) = v.app.store.user_by_id(a.cached.rec.user_id).await? else { return Ok(to_login(v)) };
    let method = form.get("method").unwrap_or("");
    if method == DIRECTORY {
        return owner_directory(v, &user).await;
    }
    if method == v.accounts().current_method(&user).await? {
        return same_method(v, &user, method, true).await;
    }
    if v.accounts().email_change_pending(&user).await? {
        let errors = Errors { error: Some(email_change_pending(v)), ..Errors::default() };
        return method_page(v, &user, Place::Settings, errors, 409).await;
    }
    match choice(v, method) {
        Choice::Password => to_password(v, &user, &form, Place::Settings).await,
        Choice::Provider(spec) => {
            // The callback finishes only in this same session.
            let CookieFact::Present(session) = read_cookie(
                v.req.headers.get_all("cookie").iter().map(|h| h.as_bytes()),
                &v.app.cfg.session.cookie_name,
            ) else {
                return Ok(to_login(v));
            };
            let b = Begin {
                spec,
                tenant_id: Some(user.tenant_id),
                purpose: FlowPurpose::OwnMethod,
                rd: Some("/".into()),
                user_id: Some(user.id),
                ticket_hash: None,
                session_hash: Some(tokens::hash_bytes(&session)),
            };
            go(v, Some(&user.email), &user, b).await
        }
        Choice::Directory | Choice::Unknown => {
            let errors = Errors { error: Some(unknown_method(v)), ..Errors::default() };
            method_page(v, &user, Place::Settings, errors, 400).await
        }
    }
}

// ---- The emailed change link ----

fn link_next(v: &Visit<'_>) -> &'static str {
    v.t(
        "Ask your organisation's administrator to send a new link to change your sign-in method.",
        "組織の管理者に、ログイン方法変更のリンクの再送を依頼してください。",
    )
}

pub async fn link_form(v: &Visit<'_>) -> Outcome {
    let ticket = v.req.query("ticket").unwrap_or_default();
    let Some((_, user)) = v.accounts().method_link_user(&ticket).await? else { return Ok(dead_link(v, link_next(v))) };
    method_page(v, &user, Place::Link(&ticket), Errors::default(), 200).await
}

pub async fn link_submit(v: &Visit<'_>) -> Outcome {
    let form = read_form(v)?;
    let ticket = v.req.query("ticket").unwrap_or_default();
    let Some((hash, user)) = v.accounts().method_link_user(&ticket).await? else {
        return Ok(dead_link(v, link_next(v)));
    };
    let method = form.get("method").unwrap_or("");
    if method == v.accounts().current_method(&user).await? {
        return same_method(v, &user, method, false).await;
    }
    let flow = |spec, tenant_id| Begin {
        spec,
        tenant_id,
        purpose: FlowPurpose::MethodLink,
        rd: Some("/".into()),
        user_id: Some(user.id),
        ticket_hash: Some(hash.clone()),
        session_hash: None,
    };
    match choice(v, method) {
        Choice::Password => to_password(v, &user, &form, Place::Link(&ticket)).await,
        Choice::Provider(spec) => go(v, Some(&user.email), &user, flow(spec, Some(user.tenant_id))).await,
        Choice::Directory if user.role == Role::Owner => owner_directory(v, &user).await,
        Choice::Directory => {
            match directory_chosen(v, user.tenant_id, form.get("connection_id").unwrap_or("")).await? {
                Ok(spec) => go(v, Some(&user.email), &user, flow(spec, Some(user.tenant_id))).await,
                Err(DirectoryRefusal::Throttled(reply)) => Ok(reply),
                Err(DirectoryRefusal::WrongId) => {
                    let errors = Errors { connection: Some(wrong_connection_id(v)), ..Errors::default() };
                    method_page(v, &user, Place::Link(&ticket), errors, 400).await
                }
                Err(DirectoryRefusal::NoDirectory) => {
                    let errors = Errors { error: Some(no_directory(v)), ..Errors::default() };
                    method_page(v, &user, Place::Link(&ticket), errors, 400).await
                }
            }
        }
        Choice::Unknown => {
            let errors = Errors { error: Some(unknown_method(v)), ..Errors::default() };
            method_page(v, &user, Place::Link(&ticket), errors, 400).await
        }
    }
}

#[cfg(test)]
mod tests;
