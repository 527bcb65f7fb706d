//! The admin console (owner and admins, after re-authentication): the tenant's
//! users with what can be done to each, invitations, and the audit log.
//!
//! Every handler takes the [`Gated`] that only the settings gate makes (the
//! route table's `settings!(Administer, …)`), so a page never renders, and a
//! form never acts, for someone who has not re-entered their password
//! recently. The changes themselves are account operations (`crate::accounts`).

use policy::Role;

use super::sudo::Gated;
use super::views::admin::{AuditPage, AuditRow, Manage, Refusal, Row, State, UserControls, UsersPage};
use super::{Visit, csrf_for, read_form, with_cookie};
use crate::accounts::{EmailLink, Invited, Mailed, MethodLink};
use crate::store::{AuditFilter, Invitation, InvitationMail, UserOverview, canonical_email, now};
use crate::ui::html::date;
use crate::web::{Outcome, Reply, page};

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
    LoginMethod,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "unlock" => Action::Unlock,
            "reset-2fa" => Action::ResetSecondFactor,
            "revoke" => Action::Revoke,
            "role" => Action::Role,
            "email-change" => Action::EmailChange,
            "login-method" => Action::LoginMethod,
            _ => return None,
        })
    }
}

/// One rule for what the page offers and what the POST accepts, so a form
/// crafted by hand cannot do more than the buttons shown.
fn permitted(me: &Gated, target_id: i64, target_role: Role, action: Action) -> bool {
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
        // The owner changes their own method in the settings.
        Action::LoginMethod => !is_self && target_role != Role::Owner,
    }
}

/// A field error shown next to its input on the users page.
enum Problem {
    Invite(&'static str),
    Role(i64, &'static str),
    Email(i64, &'static str),
}

/// One row of the users page: a registered user (or the owner before
/// registering), or an invitation not yet accepted.
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
        "invited" => v.t(
            "The invitation is being sent. Should the email fail, the list below says so.",
            "招待メールを送信しています。送信できなかった場合は、下の一覧に表示されます。",
        ),
        "withdrawn" => v.t(
            "The invitation was withdrawn. Its link no longer works.",
            "招待を取り消しました。招待メールのリンクは使えなくなりました。",
        ),
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
        "method-link" => v.t(
            "A link to change the sign-in method was sent to the user.",
            "ユーザーにログイン方法変更のリンクを送信しました。",
        ),
        "method-link-unmailed" => v.t(
            "The link to change the sign-in method could not be mailed. Try again later.",
            "ログイン方法変更のリンクをメールで送信できませんでした。時間をおいてもう一度お試しください。",
        ),
        "email-link-unmailed" => v.t(
            "The confirmation link could not be sent to the new address. Check the address and try again.",
            "新しいメールアドレスに確認リンクを送信できませんでした。アドレスをご確認のうえ、もう一度お試しください。",
        ),
        _ => return None,
    })
}

fn state_of_user(u: &UserOverview) -> State {
    if u.locked {
        State::Locked
    } else if u.invited {
        State::Invited
    } else {
        State::Active
    }
}

fn state_of_invitation(i: &Invitation, at: i64) -> State {
    if i.mail == InvitationMail::Failed {
        State::MailFailed
    } else if i.expired(at) {
        State::InvitationExpired
    } else {
        State::Invited
    }
}

fn user_row<'a>(a: &Gated, n: usize, u: &'a UserOverview, problem: Option<&Problem>) -> Row<'a> {
    let may = |action| permitted(a, u.id, u.role, action);
    let role_error = match problem {
        Some(Problem::Role(id, text)) if *id == u.id => Some(*text),
        _ => None,
    };
    let email_error = match problem {
        Some(Problem::Email(id, text)) if *id == u.id => Some(*text),
        _ => None,
    };
    let controls = UserControls {
        role_id: format!("role-{n}"),
        email_id: format!("new-email-{n}"),
        unlock: u.locked && may(Action::Unlock),
        reset_second_factor: u.has_second_factor && may(Action::ResetSecondFactor),
        revoke: u.live_sessions > 0 && may(Action::Revoke),
        role: may(Action::Role).then_some(role_error),
        email_change: may(Action::EmailChange).then_some(email_error),
        login_method: may(Action::LoginMethod),
    };
    Row {
        email: &u.email,
        role: u.role,
        state: state_of_user(u),
        second_factor: u.has_second_factor,
        live_sessions: u.live_sessions,
        manage: Manage::User(controls),
    }
}

async fn users_page(
    v: &Visit<'_>,
    a: &Gated,
    status: u16,
    note: Option<&'static str>,
    problem: Option<Problem>,
) -> Outcome {
    let tenant_id = a.cached.rec.tenant_id;
    let live_since = now() - v.app.cfg.session.idle_timeout.as_secs() as i64;
    let (users, invitations) = tokio::try_join!(
        v.app.store.tenant_user_overview(tenant_id, live_since),
        v.app.store.tenant_invitations(tenant_id)
    )?;
    let mut listed: Vec<Listed<'_>> =
        users.iter().map(Listed::User).chain(invitations.iter().map(Listed::Invited)).collect();
    listed.sort_by(|x, y| x.email().cmp(y.email()));
    let at = now();
    let rows = listed
        .iter()
        .enumerate()
        .map(|(n, row)| match row {
            Listed::User(u) => user_row(a, n, u, problem.as_ref()),
            // The same for every invitation, whether or not the address has
            // an account in another tenant.
            Listed::Invited(i) => Row {
                email: &i.email,
                role: i.role,
                state: state_of_invitation(i, at),
                second_factor: false,
                live_sessions: 0,
                manage: Manage::Invitation,
            },
        })
        .collect();
    let invite_error = match problem {
        Some(Problem::Invite(text)) => Some(text),
        _ => None,
    };
    let (token, cookie) = csrf_for(v);
    let view = UsersPage {
        ui: v.ui(),
        title: v.t("Users", "ユーザー管理"),
        csrf: &token,
        note,
        may_set_route: a.may_set_route(),
        rows,
        invite_error,
    };
    Ok(with_cookie(page(status, &view)?, cookie))
}

pub async fn users(v: &Visit<'_>, a: Gated) -> Outcome {
    let done = v.req.query("done");
    let note = done.as_deref().and_then(|k| done_message(v, k));
    users_page(v, &a, 200, note, None).await
}

fn bad_address(v: &Visit<'_>) -> &'static str {
    v.t(
        "Enter an email address that can receive mail, such as name@example.com (letters, digits and . + - _ before the @).",
        "name@example.com のように、メールを受信できるアドレスを入力してください（@の前に使えるのは英数字と . + - _ です）。",
    )
}

/// The role a console form asks for: user or admin, never the owner.
/// `Err` for anything else.
fn asked_role(form: &crate::web::form::Form) -> Result<Option<Role>, ()> {
    match form.get("role") {
        Some("user") => Ok(Some(Role::User)),
        Some("admin") => Ok(Some(Role::Admin)),
        None => Ok(None),
        Some(_) => Err(()),
    }
}

pub async fn invite(v: &Visit<'_>, a: Gated) -> Outcome {
    let form = read_form(v)?;
    let Ok(role) = asked_role(&form) else {
        let msg = v.t("Choose User or Administrator.", "一般ユーザーか管理者を選んでください。");
        return users_page(v, &a, 400, None, Some(Problem::Invite(msg))).await;
    };
    let email = form.get("email").unwrap_or("");
    let by = v.actor(Some(&a.cached.rec.email));
    // Every invitation the form accepts, fresh, repeated or to another
    // tenant's account, takes the same path to the answer (see accounts::invite).
    match v.accounts().invite(&by, a.cached.rec.tenant_id, email, role.unwrap_or(Role::User)).await? {
        Invited::Queued => Ok(Reply::redirect(303, "/auth/admin/users?done=invited".into())),
        Invited::BadAddress => users_page(v, &a, 400, None, Some(Problem::Invite(bad_address(v)))).await,
        Invited::Member | Invited::NoInvitation => {
            let msg = v.t("This address already has an account.", "このメールアドレスはすでに登録されています。");
            users_page(v, &a, 409, None, Some(Problem::Invite(msg))).await
        }
    }
}

/// Sends one of the tenant's pending invitations again (expired, failed, or
/// to change the role): a new link, a new expiry.
pub async fn resend(v: &Visit<'_>, a: Gated) -> Outcome {
    let form = read_form(v)?;
    let Ok(role) = asked_role(&form) else {
        let what = v.t("Choose User or Administrator.", "一般ユーザーか管理者を選んでください。");
        return Ok(Reply::html(400, crate::ui::pages::bad_request(&v.ui(), what)));
    };
    let email = form.get("email").unwrap_or("");
    let by = v.actor(Some(&a.cached.rec.email));
    match v.accounts().resend_invitation(&by, a.cached.rec.tenant_id, email, role).await? {
        Invited::Queued => Ok(Reply::redirect(303, "/auth/admin/users?done=invited".into())),
        Invited::NoInvitation => no_such_invitation(v),
        Invited::Member => back_to_users(
            v,
            409,
            v.t("Already registered", "登録済みです"),
            v.t(
                "This person has registered meanwhile; they are in the list of users.",
                "この方はすでに登録を完了しています。ユーザーの一覧をご確認ください。",
            ),
        ),
        // Invited before the address rules were tightened.
        Invited::BadAddress => back_to_users(
            v,
            400,
            v.t("This address cannot receive mail", "このアドレスにはメールを送信できません"),
            v.t(
                "This invitation's address is not one that mail can reach. Withdraw the invitation and invite the correct address.",
                "この招待のメールアドレスには、メールを送信できません。招待を取り消して、正しいアドレスで招待し直してください。",
            ),
        ),
    }
}

/// Withdraws one of the tenant's pending invitations; its link dies at once.
pub async fn withdraw(v: &Visit<'_>, a: Gated) -> Outcome {
    let form = read_form(v)?;
    let email = form.get("email").unwrap_or("");
    let by = v.actor(Some(&a.cached.rec.email));
    if v.accounts().withdraw_invitation(&by, a.cached.rec.tenant_id, email).await? {
        Ok(Reply::redirect(303, "/auth/admin/users?done=withdrawn".into()))
    } else {
        no_such_invitation(v)
    }
}

/// A refusal page of the console: what happened, and the way back to the users.
fn back_to_users(v: &Visit<'_>, status: u16, title: &'static str, text: &'static str) -> Outcome {
    page(status, &Refusal { ui: v.ui(), title, text })
}

/// The answer for an address this tenant has no pending invitation of,
/// whether or not it has an account anywhere.
fn no_such_invitation(v: &Visit<'_>) -> Outcome {
    back_to_users(
        v,
        404,
        v.t("No such invitation", "招待が見つかりません"),
        v.t(
            "Your organisation has no pending invitation for this email address.",
            "このメールアドレスへの未承諾の招待は、組織内にありません。",
        ),
    )
}

/// The one answer to any action on an invitation nobody has accepted, whether
/// or not the address has an account elsewhere.
fn not_registered(v: &Visit<'_>) -> Outcome {
    let text = v.t(
        "This person has not accepted the invitation yet, so nothing can be changed for them. To change the role or send the link again, send the invitation again.",
        "この方はまだ招待を承諾していないため、操作できません。権限の変更やリンクの再送は、招待メールを再送信してください。",
    );
    back_to_users(v, 409, v.t("Not registered yet", "まだ登録されていません"), text)
}

/// The same answer for an address of another organisation as for one that
/// exists nowhere, so the console cannot be used to probe for accounts.
fn no_such_user(v: &Visit<'_>) -> Outcome {
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

fn not_permitted(v: &Visit<'_>) -> Outcome {
    let text = v.t(
        "Administrators may only unlock the owner's account or sign the owner out, and nobody changes their own role or email address from this page.",
        "管理者がオーナーのアカウントに対して行えるのは、ロック解除とログアウトのみです。また、このページでご自身の権限やメールアドレスを変更することはできません。",
    );
    back_to_users(v, 403, v.t("This cannot be done here", "この操作はできません"), text)
}

pub async fn action(v: &Visit<'_>, a: Gated) -> Outcome {
    let form = read_form(v)?;
    let Some(action) = form.get("action").and_then(Action::parse) else {
        let what = v.t("Choose one of the actions on the users page.", "ユーザー管理ページの操作を選んでください。");
        return Ok(Reply::html(400, crate::ui::pages::bad_request(&v.ui(), what)));
    };
    let email = canonical_email(form.get("user").unwrap_or(""));
    let tenant_id = a.cached.rec.tenant_id;
    let target = match v.app.store.user_by_email(&email).await? {
        Some(u) if u.tenant_id == tenant_id && u.registered() => u,
        // Not a registered user here: an invitation of this tenant (whoever
        // holds the address) or nobody, asked the same way for every address.
        found => {
            if v.app.store.invitation(tenant_id, &email).await?.is_some() {
                return not_registered(v);
            }
            match found {
                // The owner before registering, invited by the operator: as before.
                Some(u) if u.tenant_id == tenant_id && u.role == Role::Owner => u,
                // A withdrawn invitee's row (until the queue removes it) is nobody.
                _ => return no_such_user(v),
            }
        }
    };
    if !permitted(&a, target.id, target.role, action) {
        return not_permitted(v);
    }
    let by = v.actor(Some(&a.cached.rec.email));
    let accounts = v.accounts();
    let done = match action {
        Action::Unlock => {
            accounts.unlock(&by, &target).await?;
            "unlocked"
        }
        Action::ResetSecondFactor => match accounts.reset_second_factor(&by, &target).await? {
            (_, Mailed::Sent) => "2fa-reset",
            (_, Mailed::Failed) => "2fa-reset-unmailed",
        },
        Action::Revoke => {
            accounts.end_sessions(&by, &target).await?;
            "revoked"
        }
        Action::Role => {
            let Ok(Some(role)) = asked_role(&form) else {
                let msg = v.t("Choose User or Administrator.", "一般ユーザーか管理者を選んでください。");
                return users_page(v, &a, 400, None, Some(Problem::Role(target.id, msg))).await;
            };
            // False: the user became the owner or left in the meantime.
            if !accounts.change_role(&by, &target, role).await? {
                return not_permitted(v);
            }
            "role"
        }
        Action::EmailChange => {
            let new_email = form.get("new_email").unwrap_or("");
            match accounts.send_email_change_link(&by, &target, new_email).await? {
                EmailLink::Sent(Mailed::Sent) => "email-link",
                EmailLink::Sent(Mailed::Failed) => "email-link-unmailed",
                EmailLink::BadAddress => {
                    return users_page(v, &a, 400, None, Some(Problem::Email(target.id, bad_address(v)))).await;
                }
                // The address unchanged: the login-method link instead (SPEC section 9).
                EmailLink::Unchanged => return method_link(v, &by, &target).await,
                EmailLink::MethodChangePending => {
                    let msg = v.t(
                        "A change of this user's sign-in method is pending, so the email address cannot change now. Wait until that link is used or expires.",
                        "このユーザーはログイン方法の変更を手続き中のため、今はメールアドレスを変更できません。リンクが使われるか、有効期限が切れるまでお待ちください。",
                    );
                    return users_page(v, &a, 409, None, Some(Problem::Email(target.id, msg))).await;
                }
            }
        }
        Action::LoginMethod => return method_link(v, &by, &target).await,
    };
    Ok(Reply::redirect(303, format!("/auth/admin/users?done={done}")))
}

/// Mails the user a login-method change link, unless an email change of
/// theirs is pending (the two never run at once).
async fn method_link(v: &Visit<'_>, by: &crate::accounts::Actor<'_>, target: &crate::store::UserRow) -> Outcome {
    let done = match v.accounts().send_login_method_link(by, target).await? {
        MethodLink::Sent(Mailed::Sent) => "method-link",
        MethodLink::Sent(Mailed::Failed) => "method-link-unmailed",
        MethodLink::EmailChangePending => {
            return back_to_users(
                v,
                409,
                v.t("An email change is pending", "メールアドレスの変更が手続き中です"),
                v.t(
                    "This user's email address change waits for its confirmation, so the sign-in method cannot change now. Wait until that link is used or expires.",
                    "このユーザーはメールアドレスの変更を手続き中のため、今はログイン方法を変更できません。リンクが使われるか、有効期限が切れるまでお待ちください。",
                ),
            );
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

pub async fn audit(v: &Visit<'_>, a: Gated) -> Outcome {
    let req = &v.req;
    // Over-long filters match nothing real; capping them keeps the query cheap.
    let user = req.query("user").map(|u| canonical_email(&u)).filter(|u| !u.is_empty() && u.len() <= 254);
    let event = req.query("event").map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty() && e.len() <= 64);
    let page_no = req.query("page").and_then(|p| p.trim().parse::<i64>().ok()).unwrap_or(1).clamp(1, 1_000_000);
    let filter = AuditFilter { user: user.as_deref(), event_prefix: event.as_deref() };
    // One more than a page tells whether an older page exists.
    let mut entries =
        v.app.store.audit_search(a.cached.rec.tenant_id, &filter, (page_no - 1) * AUDIT_PAGE, AUDIT_PAGE + 1).await?;
    let older = entries.len() as i64 > AUDIT_PAGE;
    entries.truncate(AUDIT_PAGE as usize);
    let shown = |s: Option<String>| s.unwrap_or_else(|| "-".into());
    let entries = entries
        .into_iter()
        .map(|e| AuditRow {
            at: date(e.at),
            event: e.event,
            actor: shown(e.actor),
            subject: shown(e.subject),
            client_ip: shown(e.client_ip),
            host_kind: shown(e.host_kind),
        })
        .collect();
    let view = AuditPage {
        ui: v.ui(),
        title: v.t("Audit log", "操作ログ"),
        user: user.as_deref().unwrap_or(""),
        event: event.as_deref().unwrap_or(""),
        page: page_no,
        entries,
        newer: (page_no > 1).then(|| audit_href(user.as_deref(), event.as_deref(), page_no - 1)),
        older: older.then(|| audit_href(user.as_deref(), event.as_deref(), page_no + 1)),
    };
    page(200, &view)
}

#[cfg(test)]
mod tests;
