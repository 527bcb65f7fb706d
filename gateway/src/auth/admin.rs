//! The admin console (owner and admins, after re-authentication): the tenant's
//! users with what can be done to each, invitations, and the audit log.
//!
//! Every handler passes [`gate`] first, so a page never renders, and a form
//! never acts, for someone who has not re-entered their password recently.

use policy::Role;

use super::start::end_all;
use super::sudo::Admin;
use super::{Visit, csrf_for, hidden_field, notify, read_form, with_cookie};
use crate::accounts::Mailed;
use crate::mail::Notice;
use crate::store::{
    AuditFilter, Invitation, LinkPurpose, NewUser, StoreError, UserOverview, canonical_email, now, valid_email,
};
use crate::ui::html::{date, escape};
use crate::web::{Outcome, Reply};

/// Audit entries on one page.
const AUDIT_PAGE: i64 = 50;

/// What can be done to a user from the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Unlock,
    ResetSecondFactor,
    Revoke,
    Role,
    EmailChange,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "unlock" => Action::Unlock,
            "reset-2fa" => Action::ResetSecondFactor,
            "revoke" => Action::Revoke,
            "role" => Action::Role,
            "email-change" => Action::EmailChange,
            _ => return None,
        })
    }
}

/// One rule for what the page offers and what the POST accepts, so a form
/// crafted by hand cannot do more than the buttons shown.
fn permitted(me: &Admin, target_id: i64, target_role: Role, action: Action) -> bool {
    let is_self = target_id == me.cached.rec.user_id;
    // The owner's account is the contract holder's: an admin may only help them
    // back in (unlock) or throw out a stolen session (revoke).
    if target_role == Role::Owner && !me.is_owner() && !matches!(action, Action::Unlock | Action::Revoke) {
        return false;
    }
    match action {
        Action::Unlock | Action::ResetSecondFactor | Action::Revoke => true,
        // Nobody promotes or demotes themselves, and the owner's role never moves.
        Action::Role => !is_self && matches!(target_role, Role::User | Role::Admin),
        // One's own address changes in the account settings (with the password).
        Action::EmailChange => !is_self && target_role != Role::Owner,
    }
}

fn role_label(v: &Visit<'_>, role: Role) -> &'static str {
    match role {
        Role::Owner => v.t("Owner", "オーナー"),
        Role::Admin => v.t("Administrator", "管理者"),
        Role::User => v.t("User", "一般ユーザー"),
    }
}

/// A field error shown next to its input on the users page.
enum Problem {
    Invite(&'static str),
    Role(i64, &'static str),
    Email(i64, &'static str),
}

fn field_error(id: &str, problem: Option<&str>) -> (String, String) {
    match problem {
        Some(text) => (
            format!(" aria-describedby=\"{id}-error\" aria-invalid=\"true\""),
            format!("<p id=\"{id}-error\" class=\"field-error\" role=\"alert\">{}</p>", escape(text)),
        ),
        None => (String::new(), String::new()),
    }
}

/// The forms for one user: only those the console person may use on them.
/// `n` (the row's place on the page) names the fields: a database id on the
/// page would let the console count the users other tenants create.
fn user_controls(
    v: &Visit<'_>,
    a: &Admin,
    token: &str,
    n: usize,
    u: &UserOverview,
    problem: Option<&Problem>,
) -> String {
    let role = u.role;
    let user_field =
        format!("{}<input type=\"hidden\" name=\"user\" value=\"{}\">", hidden_field(token), escape(&u.email));
    let button = |action: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"/auth/admin/users/action\">{user_field}\
             <input type=\"hidden\" name=\"action\" value=\"{action}\"><button type=\"submit\">{label}</button></form>"
        )
    };
    let mut out = String::new();
    if u.locked && permitted(a, u.id, role, Action::Unlock) {
        out.push_str(&button("unlock", v.t("Unlock the account", "ロックを解除")));
    }
    if u.has_second_factor && permitted(a, u.id, role, Action::ResetSecondFactor) {
        out.push_str(&button("reset-2fa", v.t("Reset 2-step verification", "2段階認証をリセット")));
    }
    if u.live_sessions > 0 && permitted(a, u.id, role, Action::Revoke) {
        out.push_str(&button("revoke", v.t("Sign out everywhere", "すべての端末でログアウト")));
    }
    if permitted(a, u.id, role, Action::Role) {
        let err = match problem {
            Some(Problem::Role(id, text)) if *id == u.id => Some(*text),
            _ => None,
        };
        let id = format!("role-{n}");
        let (described, err) = field_error(&id, err);
        let option = |value: &str, r: Role| {
            let selected = if role == r { " selected" } else { "" };
            format!("<option value=\"{value}\"{selected}>{}</option>", role_label(v, r))
        };
        out.push_str(&format!(
            "<form method=\"post\" action=\"/auth/admin/users/action\">{user_field}<input type=\"hidden\" name=\"action\" value=\"role\">\
             <label for=\"{id}\">{label}</label><select id=\"{id}\" name=\"role\"{described}>{o_user}{o_admin}</select>{err}\
             <p class=\"hint\">{hint}</p><button type=\"submit\">{go}</button></form>",
            label = v.t("Role", "権限"),
            o_user = option("user", Role::User),
            o_admin = option("admin", Role::Admin),
            hint = v.t(
                "The user is signed out and gets the new role when they sign in again.",
                "変更すると、このユーザーはログアウトされ、次回のログインから新しい権限になります。"
            ),
            go = v.t("Change the role", "権限を変更"),
        ));
    }
    if permitted(a, u.id, role, Action::EmailChange) {
        let err = match problem {
            Some(Problem::Email(id, text)) if *id == u.id => Some(*text),
            _ => None,
        };
        let id = format!("new-email-{n}");
        let (described, err) = field_error(&id, err);
        out.push_str(&format!(
            "<form method=\"post\" action=\"/auth/admin/users/action\">{user_field}<input type=\"hidden\" name=\"action\" value=\"email-change\">\
             <label for=\"{id}\">{label}</label><input id=\"{id}\" name=\"new_email\" type=\"email\" autocomplete=\"off\" required{described}>{err}\
             <p class=\"hint\">{hint}</p><button type=\"submit\">{go}</button></form>",
            label = v.t("New email address", "新しいメールアドレス"),
            hint = v.t(
                "A confirmation link goes to the new address. The change happens when the user opens it and sets their password again.",
                "新しいアドレスに確認リンクを送ります。ユーザーがリンクを開いてパスワードを再設定した時点で変更されます。"
            ),
            go = v.t("Send the confirmation link", "確認リンクを送信"),
        ));
    }
    if out.is_empty() {
        out = format!("<p class=\"hint\">{}</p>", v.t("Nothing to do here.", "操作できる項目はありません。"));
    }
    out
}

/// What can be done to an invitation nobody has accepted: send it again (with
/// another role, if need be). The same for every invitation, whether or not
/// the address has an account in another tenant. (`?again` only tells this
/// form from the invitation form below, for scripts and tests that pick forms
/// by their action; the handler is the same.)
fn invitation_controls(v: &Visit<'_>, token: &str, i: &Invitation) -> String {
    let role = i.role;
    let option = |r: Role| {
        let selected = if role == r { " selected" } else { "" };
        format!("<option value=\"{}\"{selected}>{}</option>", r.as_str(), role_label(v, r))
    };
    format!(
        "<p class=\"hint\">{waiting}</p><form method=\"post\" action=\"/auth/admin/users?again\">{csrf}\
         <input type=\"hidden\" name=\"email\" value=\"{email}\"><label>{label}<select name=\"role\">{o_user}{o_admin}</select></label>\
         <button type=\"submit\">{again}</button></form>",
        waiting = v.t(
            "The invitation has not been accepted yet. Nothing else can be changed before the person registers.",
            "招待はまだ承諾されていません。登録が完了するまで、ほかの操作はできません。"
        ),
        csrf = hidden_field(token),
        email = escape(&i.email),
        label = v.t("Role", "権限"),
        o_user = option(Role::User),
        o_admin = option(Role::Admin),
        again = v.t("Send the invitation again", "招待メールを再送信"),
    )
}

/// One row of the users page: a registered user (or one created outside the
/// console), or an invitation not yet accepted.
enum Listed<'a> {
    User(&'a UserOverview),
    Invited(&'a Invitation),
}

impl Listed<'_> {
    fn email(&self) -> &str {
        match self {
            Listed::User(u) => &u.email,
            Listed::Invited(i) => &i.email,
        }
    }
}

/// The message for a `?done=` key; only these fixed texts are ever shown.
fn done_message(v: &Visit<'_>, key: &str) -> Option<&'static str> {
    Some(match key {
        "invited" => v.t("The invitation was sent.", "招待メールを送信しました。"),
        "unlocked" => v.t("The account is unlocked.", "アカウントのロックを解除しました。"),
        "2fa-reset" => v.t(
            "2-step verification was reset. The user was signed out and told by email; they set it up again at their next sign-in.",
            "2段階認証をリセットしました。ユーザーはログアウトされ、メールで通知されました。次回ログイン時に再設定します。",
        ),
        "2fa-reset-unmailed" => v.t(
            "2-step verification was reset and the user was signed out, but the email telling them could not be sent. Tell them yourself; they set it up again at their next sign-in.",
            "2段階認証をリセットし、ユーザーをログアウトさせましたが、通知メールを送信できませんでした。ご本人に直接お知らせください。次回ログイン時に再設定します。",
        ),
        "revoked" => v.t("The user was signed out on every device.", "ユーザーをすべての端末でログアウトさせました。"),
        "role" => v.t(
            "The role was changed. It applies from the user's next sign-in.",
            "権限を変更しました。ユーザーの次回ログインから適用されます。",
        ),
        "email-link" => v.t(
            "A confirmation link was sent to the new address.",
            "新しいメールアドレスに確認リンクを送信しました。",
        ),
        _ => return None,
    })
}

async fn users_page(v: &Visit<'_>, a: &Admin, status: u16, note: Option<&str>, problem: Option<Problem>) -> Reply {
    let tenant_id = a.cached.rec.tenant_id;
    let live_since = now() - v.app.cfg.session.idle_timeout.as_secs() as i64;
    let (users, invitations) = match tokio::try_join!(
        v.app.store.tenant_user_overview(tenant_id, live_since),
        v.app.store.tenant_invitations(tenant_id)
    ) {
        Ok(both) => both,
        Err(_) => return v.unavailable(),
    };
    let mut listed: Vec<Listed<'_>> =
        users.iter().map(Listed::User).chain(invitations.iter().map(Listed::Invited)).collect();
    listed.sort_by(|x, y| x.email().cmp(y.email()));
    let (token, cookie) = csrf_for(v);
    let at = now();
    let rows: String = listed
        .iter()
        .map(|row| {
            let (role, state, second, live) = match row {
                Listed::User(u) => {
                    let state = if u.locked {
                        v.t("locked", "ロック中")
                    } else if u.invited {
                        v.t("invited", "招待中")
                    } else {
                        v.t("active", "有効")
                    };
                    (u.role, state, u.has_second_factor, u.live_sessions)
                }
                Listed::Invited(i) => {
                    let state = if i.expired(at) {
                        v.t("invitation expired", "招待の期限切れ")
                    } else {
                        v.t("invited", "招待中")
                    };
                    (i.role, state, false, 0)
                }
            };
            let second = if second { v.t("set up", "設定済み") } else { v.t("not set up", "未設定") };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(row.email()),
                role_label(v, role),
                state,
                second,
                live
            )
        })
        .collect();
    let manage: String = listed
        .iter()
        .enumerate()
        .map(|(n, row)| {
            let (open, controls) = match row {
                Listed::User(u) => {
                    let open = match &problem {
                        Some(Problem::Role(id, _) | Problem::Email(id, _)) if *id == u.id => " open",
                        _ => "",
                    };
                    (open, user_controls(v, a, &token, n, u, problem.as_ref()))
                }
                Listed::Invited(i) => ("", invitation_controls(v, &token, i)),
            };
            format!("<details{open}><summary>{}</summary>{controls}</details>", escape(row.email()))
        })
        .collect();
    let invite_err = match &problem {
        Some(Problem::Invite(text)) => Some(*text),
        _ => None,
    };
    let (invite_described, invite_err) = field_error("email", invite_err);
    let note = note.map(|n| format!("<p class=\"ok\" role=\"status\">{}</p>", escape(n))).unwrap_or_default();
    let route_link = if a.may_set_route() {
        format!("<li><a href=\"/auth/settings/route\">{}</a></li>", v.t("Access route", "アクセス経路"))
    } else {
        String::new()
    };
    let body = v.page(
        v.t("Users", "ユーザー管理"),
        &format!(
            "{note}<nav aria-label=\"{nav}\"><ul><li><a href=\"/auth/admin/audit\">{audit}</a></li>\
             <li><a href=\"/auth/settings/lines\">{lines}</a></li>{route_link}\
             <li><a href=\"/auth/settings\">{back}</a></li></ul></nav>\
             <table><thead><tr><th>{h_email}</th><th>{h_role}</th><th>{h_state}</th><th>{h_2fa}</th><th>{h_sessions}</th></tr></thead>\
             <tbody>{rows}</tbody></table>\
             <h2>{h_manage}</h2>{manage}\
             <h2>{invite}</h2><form method=\"post\" action=\"/auth/admin/users\">{csrf}\
             <label for=\"email\">{l_email}</label><input id=\"email\" name=\"email\" type=\"email\" required{invite_described}>{invite_err}\
             <label for=\"role\">{l_role}</label><select id=\"role\" name=\"role\">\
             <option value=\"user\">{r_user}</option><option value=\"admin\">{r_admin}</option></select>\
             <button type=\"submit\">{send}</button></form>",
            nav = v.t("Administration", "管理メニュー"),
            audit = v.t("Audit log", "監査ログ"),
            lines = v.t("Line numbers and networks", "回線番号とネットワーク"),
            back = v.t("Back to settings", "設定メニューに戻る"),
            h_email = v.t("Email address", "メールアドレス"),
            h_role = v.t("Role", "権限"),
            h_state = v.t("State", "状態"),
            h_2fa = v.t("2-step verification", "2段階認証"),
            h_sessions = v.t("Signed-in sessions", "ログイン中のセッション"),
            h_manage = v.t("Manage a user", "ユーザーの操作"),
            invite = v.t("Invite a user", "ユーザーを招待"),
            csrf = hidden_field(&token),
            l_email = v.t("Email address", "メールアドレス"),
            l_role = v.t("Role", "権限"),
            r_user = v.t("User", "一般ユーザー"),
            r_admin = v.t("Administrator", "管理者"),
            send = v.t("Send the invitation", "招待メールを送信"),
        ),
    );
    with_cookie(Reply::html(status, body), cookie)
}

pub async fn users(v: &Visit<'_>, a: Admin) -> Reply {
    let done = v.req.query("done");
    let note = done.as_deref().and_then(|k| done_message(v, k));
    users_page(v, &a, 200, note, None).await
}

/// Records an administrator's action on a user.
async fn audit_action(v: &Visit<'_>, a: &Admin, subject: &str, event: &str) {
    v.audit(Some(a.cached.rec.tenant_id), Some(&a.cached.rec.email), Some(subject), event).await;
}

pub async fn invite(v: &Visit<'_>, a: Admin) -> Outcome {
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let tenant_id = a.cached.rec.tenant_id;
    let email = canonical_email(form.get("email").unwrap_or(""));
    let role = match form.get("role") {
        Some("admin") => Role::Admin,
        Some("user") | None => Role::User,
        Some(_) => return Ok(users_page(v, &a, 400, None, None).await),
    };
    if !valid_email(&email) {
        let msg = v.t(
            "Enter an email address such as name@example.com.",
            "name@example.com のような形式でメールアドレスを入力してください。",
        );
        return Ok(users_page(v, &a, 400, None, Some(Problem::Invite(msg))).await);
    }
    match v.app.store.user_by_email(&email).await {
        // One of the admin's own users who has registered (or the owner, who
        // is invited by the operator): they are on the page anyway.
        Ok(Some(u)) if u.tenant_id == tenant_id && (u.password_hash.is_some() || u.role == Role::Owner) => {
            let msg = v.t("This address already has an account.", "このメールアドレスはすでに登録されています。");
            return Ok(users_page(v, &a, 409, None, Some(Problem::Invite(msg))).await);
        }
        Ok(_) => {}
        Err(_) => return Ok(v.unavailable()),
    }
    // From here every invitation, fresh, repeated or to another tenant's
    // account, takes the same path to the answer: the invitation row, the audit
    // entry, a job. What differs (a user and a link, or a notice to the
    // account holder) happens in the job, after the answer, so neither the
    // answer nor its time tells the kinds apart.
    let expires_at = now() + v.app.cfg.links.validity.as_secs() as i64;
    if v.app.store.record_invitation(tenant_id, &email, role, expires_at).await.is_err() {
        return Ok(v.unavailable());
    }
    audit_action(v, &a, &email, "invitation_sent").await;
    let job = InvitationJob {
        store: v.app.store.clone(),
        mailer: v.app.mailer.clone(),
        tenant_id,
        email,
        role,
        base_url: v.link(""),
        lang: v.lang,
        product: v.app.cfg.ui.product_name.clone(),
        validity: v.app.cfg.links.validity,
    };
    super::background::spawn("invitation", job.run());
    Ok(Reply::redirect(303, "/auth/admin/users?done=invited".into()))
}

/// An invitation carried out after the answer was sent: a user without a
/// password and a registration link for an address nobody has (or a new link,
/// with the role asked for now, for one invited before), or, for an address
/// with an account in another tenant, a notice to its holder and nothing else.
struct InvitationJob {
    store: crate::store::Store,
    mailer: std::sync::Arc<crate::mail::Mailer>,
    tenant_id: i64,
    email: String,
    role: Role,
    base_url: String,
    lang: crate::ui::lang::Lang,
    product: String,
    validity: std::time::Duration,
}

impl InvitationJob {
    async fn run(self) {
        let created = self
            .store
            .create_user(NewUser {
                tenant_id: self.tenant_id,
                email: &self.email,
                role: self.role,
                password_hash: None,
            })
            .await;
        let invitee = match created {
            Ok(id) => Some(id),
            Err(StoreError::Conflict(_)) => match self.store.user_by_email(&self.email).await {
                Ok(Some(u)) if u.tenant_id == self.tenant_id => {
                    // Registered (or made owner) since the answer: nothing to send.
                    if u.password_hash.is_some() || u.role == Role::Owner {
                        return;
                    }
                    if let Err(e) = self.store.set_user_role(self.tenant_id, u.id, self.role).await {
                        tracing::error!(error = %e, "invitee role change failed");
                        return;
                    }
                    Some(u.id)
                }
                Ok(Some(_)) => None,
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(error = %e, "invitee lookup failed");
                    return;
                }
            },
            Err(e) => {
                tracing::error!(error = %e, "creating the invitee failed");
                return;
            }
        };
        let tenant = self.store.tenant_name(self.tenant_id).await.ok().flatten().unwrap_or_default();
        let days = self.validity.as_secs() / 86400;
        let msg = match invitee {
            Some(user_id) => {
                let token = crate::tokens::random_token();
                let Some(hash) = crate::tokens::hash_token(&token) else { return };
                let link = crate::store::NewLink {
                    token_hash: &hash,
                    purpose: LinkPurpose::Invite,
                    user_id,
                    payload: None,
                    expires_at: now() + self.validity.as_secs() as i64,
                };
                if let Err(e) = self.store.create_link(link).await {
                    tracing::error!(error = %e, "creating an invitation link failed");
                    return;
                }
                let link = format!("{}/auth/invite?ticket={token}", self.base_url);
                crate::mail::render(&Notice::Invite { link: &link, tenant: &tenant }, self.lang, &self.product, days)
            }
            None => crate::mail::render(&Notice::InviteHasAccount { tenant: &tenant }, self.lang, &self.product, days),
        };
        // Sent here, not on a task of its own, so that the job holds its place
        // in the bounded queue until the relay has the mail.
        if let Err(e) = self.mailer.send(&self.email, &msg).await {
            tracing::warn!(error = %e, "invitation mail not sent");
        }
    }
}

/// A refusal page of the console: what happened, and the way back to the users.
fn back_to_users(v: &Visit<'_>, status: u16, title: &str, text: &str) -> Reply {
    let back = v.t("Back to users", "ユーザー管理に戻る");
    Reply::html(status, v.page(title, &format!("<p>{text}</p><p><a href=\"/auth/admin/users\">{back}</a></p>")))
}

/// The one answer to any action on an invitation nobody has accepted, whether
/// or not the address has an account elsewhere.
fn not_registered(v: &Visit<'_>) -> Reply {
    let text = v.t(
        "This person has not accepted the invitation yet, so nothing can be changed for them. To change the role or send the link again, send the invitation again.",
        "この方はまだ招待を承諾していないため、操作できません。権限の変更やリンクの再送は、招待メールを再送信してください。",
    );
    back_to_users(v, 409, v.t("Not registered yet", "まだ登録されていません"), text)
}

/// The same answer for an address of another organisation as for one that
/// exists nowhere, so the console cannot be used to probe for accounts.
fn no_such_user(v: &Visit<'_>) -> Reply {
    back_to_users(
        v,
        404,
        v.t("No such user", "ユーザーが見つかりません"),
        v.t(
            "There is no user with this email address in your organisation.",
            "このメールアドレスのユーザーは組織内に存在しません。",
        ),
    )
}

fn not_permitted(v: &Visit<'_>) -> Reply {
    let text = v.t(
        "Administrators may only unlock the owner's account or sign the owner out, and nobody changes their own role or email address from this page.",
        "管理者がオーナーのアカウントに対して行えるのは、ロック解除とログアウトのみです。また、このページでご自身の権限やメールアドレスを変更することはできません。",
    );
    back_to_users(v, 403, v.t("This cannot be done here", "この操作はできません"), text)
}

pub async fn action(v: &Visit<'_>, a: Admin) -> Outcome {
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let Some(action) = form.get("action").and_then(Action::parse) else {
        let what = v.t("Choose one of the actions on the users page.", "ユーザー管理ページの操作を選んでください。");
        return Ok(Reply::html(400, crate::ui::pages::bad_request(&v.ui(), what)));
    };
    let email = canonical_email(form.get("user").unwrap_or(""));
    let tenant_id = a.cached.rec.tenant_id;
    let target = match v.app.store.user_by_email(&email).await {
        Ok(Some(u)) if u.tenant_id == tenant_id && u.password_hash.is_some() => u,
        // Not a registered user here: an invitation of this tenant (whoever
        // holds the address) or nobody, asked the same way for every address.
        Ok(found) => match v.app.store.invitation(tenant_id, &email).await {
            Ok(Some(_)) => return Ok(not_registered(v)),
            // Created outside the console (the owner by `tenant create`): as before.
            Ok(None) => match found {
                Some(u) if u.tenant_id == tenant_id => u,
                _ => return Ok(no_such_user(v)),
            },
            Err(_) => return Ok(v.unavailable()),
        },
        Err(_) => return Ok(v.unavailable()),
    };
    let target_role = target.role;
    if !permitted(&a, target.id, target_role, action) {
        return Ok(not_permitted(v));
    }
    let by = v.actor(Some(&a.cached.rec.email));
    let done = match action {
        Action::Unlock => {
            v.accounts().unlock(&by, &target).await?;
            "unlocked"
        }
        Action::ResetSecondFactor => match v.accounts().reset_second_factor(&by, &target).await? {
            (_, Mailed::Sent) => "2fa-reset",
            (_, Mailed::Failed) => "2fa-reset-unmailed",
        },
        Action::Revoke => {
            v.accounts().end_sessions(&by, &target).await?;
            "revoked"
        }
        Action::Role => {
            let role = match form.get("role") {
                Some("user") => Role::User,
                Some("admin") => Role::Admin,
                _ => {
                    let msg = v.t("Choose User or Administrator.", "一般ユーザーか管理者を選んでください。");
                    return Ok(users_page(v, &a, 400, None, Some(Problem::Role(target.id, msg))).await);
                }
            };
            match v.app.store.set_user_role(target.tenant_id, target.id, role).await {
                Ok(true) => {}
                // The user became the owner or left in the meantime.
                Ok(false) => return Ok(not_permitted(v)),
                Err(_) => return Ok(v.unavailable()),
            }
            // A session carries the role it was signed in with; ending them makes
            // the change bite now rather than at the next expiry.
            if end_all(v, target.id).await.is_err() {
                return Ok(v.unavailable());
            }
            audit_action(v, &a, &target.email, &format!("admin_role:{}", role.as_str())).await;
            "role"
        }
        Action::EmailChange => {
            let new_email = canonical_email(form.get("new_email").unwrap_or(""));
            let problem = if !valid_email(&new_email) {
                Some(v.t(
                    "Enter an email address such as name@example.com.",
                    "name@example.com のような形式でメールアドレスを入力してください。",
                ))
            } else if new_email == target.email {
                Some(v.t("This is already the user's email address.", "現在と同じメールアドレスです。"))
            } else {
                None
            };
            if let Some(msg) = problem {
                return Ok(users_page(v, &a, 400, None, Some(Problem::Email(target.id, msg))).await);
            }
            // Whether the new address is taken is checked when the link is used
            // (as for the owner's own change), so this form cannot probe addresses.
            let token =
                match notify::new_link(&v.app.cfg, &v.app.store, target.id, LinkPurpose::EmailChange, Some(&new_email))
                    .await
                {
                    Ok(t) => t,
                    Err(_) => return Ok(v.unavailable()),
                };
            let link = v.link(&format!("/auth/email/confirm?ticket={token}"));
            notify::mail(v, &new_email, &Notice::EmailChangeConfirm { link: &link, new_email: &new_email });
            audit_action(v, &a, &target.email, "admin_email_change_link").await;
            "email-link"
        }
    };
    Ok(Reply::redirect(303, format!("/auth/admin/users?done={done}")))
}

/// `/auth/admin/audit?user=&event=&page=` with the given page number.
fn audit_href(user: Option<&str>, event: Option<&str>, page: i64) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    if let Some(u) = user {
        ser.append_pair("user", u);
    }
    if let Some(e) = event {
        ser.append_pair("event", e);
    }
    ser.append_pair("page", &page.to_string());
    format!("/auth/admin/audit?{}", ser.finish())
}

pub async fn audit(v: &Visit<'_>, a: Admin) -> Reply {
    let req = &v.req;
    // Over-long filters match nothing real; capping them keeps the query cheap.
    let user = req.query("user").map(|u| canonical_email(&u)).filter(|u| !u.is_empty() && u.len() <= 254);
    let event = req.query("event").map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty() && e.len() <= 64);
    let page = req.query("page").and_then(|p| p.trim().parse::<i64>().ok()).unwrap_or(1).clamp(1, 1_000_000);
    let filter = AuditFilter { user: user.as_deref(), event_prefix: event.as_deref() };
    // One more than a page tells whether an older page exists.
    let mut entries = match v
        .app
        .store
        .audit_search(a.cached.rec.tenant_id, &filter, (page - 1) * AUDIT_PAGE, AUDIT_PAGE + 1)
        .await
    {
        Ok(e) => e,
        Err(_) => return v.unavailable(),
    };
    let older = entries.len() as i64 > AUDIT_PAGE;
    entries.truncate(AUDIT_PAGE as usize);
    let opt = |s: &Option<String>| s.as_deref().map(escape).unwrap_or_else(|| "-".into());
    let rows: String = entries
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                date(e.at),
                escape(&e.event),
                opt(&e.actor),
                opt(&e.subject),
                opt(&e.client_ip),
                opt(&e.host_kind)
            )
        })
        .collect();
    let table = if entries.is_empty() {
        format!("<p>{}</p>", v.t("No events match.", "該当するイベントはありません。"))
    } else {
        format!(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table>",
            v.t("Time (UTC)", "日時 (UTC)"),
            v.t("Event", "イベント"),
            v.t("By", "実行者"),
            v.t("Concerning", "対象"),
            v.t("Address", "接続元"),
            v.t("Hostname", "ホスト種別"),
        )
    };
    let mut pager = Vec::new();
    if page > 1 {
        pager.push(format!(
            "<a href=\"{}\" rel=\"prev\">{}</a>",
            escape(&audit_href(user.as_deref(), event.as_deref(), page - 1)),
            v.t("Newer", "新しいイベント")
        ));
    }
    if older {
        pager.push(format!(
            "<a href=\"{}\" rel=\"next\">{}</a>",
            escape(&audit_href(user.as_deref(), event.as_deref(), page + 1)),
            v.t("Older", "古いイベント")
        ));
    }
    let body = v.page(
        v.t("Audit log", "監査ログ"),
        &format!(
            "<form method=\"get\" action=\"/auth/admin/audit\">\
             <label for=\"user\">{l_user}</label><input id=\"user\" name=\"user\" type=\"email\" value=\"{user}\" aria-describedby=\"user-hint\">\
             <p id=\"user-hint\" class=\"hint\">{h_user}</p>\
             <label for=\"event\">{l_event}</label><input id=\"event\" name=\"event\" type=\"text\" value=\"{event}\" aria-describedby=\"event-hint\">\
             <p id=\"event-hint\" class=\"hint\">{h_event}</p>\
             <button type=\"submit\">{go}</button></form>\
             <p class=\"hint\">{page_label} {page}</p>{table}<nav aria-label=\"{pages}\"><p>{pager}</p></nav>\
             <p><a href=\"/auth/admin/users\">{back}</a></p>",
            l_user = v.t("User's email address", "ユーザーのメールアドレス"),
            user = escape(user.as_deref().unwrap_or("")),
            h_user = v.t("Events by or about this user.", "このユーザーが行った、またはこのユーザーに関するイベント。"),
            l_event = v.t("Event", "イベント"),
            event = escape(event.as_deref().unwrap_or("")),
            h_event = v.t(
                "The start of the event name: login finds login_success and login_failure.",
                "イベント名の先頭部分: login で login_success と login_failure が見つかります。"
            ),
            go = v.t("Show", "表示"),
            page_label = v.t("Page", "ページ"),
            pages = v.t("Pages", "ページ送り"),
            pager = pager.join(" · "),
            back = v.t("Back to users", "ユーザー管理に戻る"),
        ),
    );
    Reply::html(200, body)
}
