//! The admin console's pages: the users (with what can be done to each, and
//! the invitations nobody has accepted), the audit log, and its refusals.

use askama::Template;
use policy::Role;

use crate::ui::html::Ui;

#[derive(Template)]
#[template(path = "auth/admin/users.html")]
pub struct UsersPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    /// The message of a `?done=` key (fixed texts only).
    pub note: Option<&'static str>,
    pub may_set_route: bool,
    pub rows: Vec<Row<'a>>,
    pub invite_error: Option<&'static str>,
}

/// One line of the users table and its "manage" block.
pub struct Row<'a> {
    pub email: &'a str,
    pub role: Role,
    pub state: State,
    pub second_factor: bool,
    pub live_sessions: i64,
    pub manage: Manage<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Active,
    Locked,
    /// Not registered yet: an invitation, or the owner before registering.
    Invited,
    InvitationExpired,
    /// The invitation's mail could not be sent.
    MailFailed,
}

pub enum Manage<'a> {
    User(UserControls<'a>),
    Invitation,
}

/// The forms for one registered user: only those the console person may use.
/// `n` (the row's place on the page) names the fields: a database id on the
/// page would let the console count the users other tenants create.
pub struct UserControls<'a> {
    /// `role-<n>` and `new-email-<n>`: the ids of this row's fields.
    pub role_id: String,
    pub email_id: String,
    pub unlock: bool,
    pub reset_second_factor: bool,
    pub revoke: bool,
    /// The role form, with its error.
    pub role: Option<Option<&'a str>>,
    /// The email-change form, with its error.
    pub email_change: Option<Option<&'a str>>,
    /// The button that mails a login-method change link.
    pub login_method: bool,
}

impl UserControls<'_> {
    /// The block stays open when one of its fields has an error.
    pub fn has_error(&self) -> bool {
        matches!(self.role, Some(Some(_))) || matches!(self.email_change, Some(Some(_)))
    }
}

impl Row<'_> {
    pub fn open(&self) -> bool {
        matches!(&self.manage, Manage::User(c) if c.has_error())
    }
}

impl UsersPage<'_> {
    pub fn role_label(&self, role: &Role) -> &'static str {
        role_label(&self.ui, *role)
    }

    pub fn state_label(&self, state: &State) -> &'static str {
        let ui = &self.ui;
        match state {
            State::Active => ui.t("active", "有効"),
            State::Locked => ui.t("locked", "ロック中"),
            State::Invited => ui.t("invited", "招待中"),
            State::InvitationExpired => ui.t("invitation expired", "招待の期限切れ"),
            State::MailFailed => ui.t("sending failed", "招待メールの送信失敗"),
        }
    }
}

/// The label of a role, in the page's language.
pub fn role_label(ui: &Ui<'_>, role: Role) -> &'static str {
    match role {
        Role::Owner => ui.t("Owner", "オーナー"),
        Role::Admin => ui.t("Administrator", "管理者"),
        Role::User => ui.t("User", "一般ユーザー"),
    }
}

#[derive(Template)]
#[template(path = "auth/admin/audit.html")]
pub struct AuditPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    /// The filters as the person typed them (canonical), kept in their fields.
    pub user: &'a str,
    pub event: &'a str,
    pub page: i64,
    pub entries: Vec<AuditRow>,
    pub newer: Option<String>,
    pub older: Option<String>,
}

/// One audit entry as shown: `-` for what it does not record.
pub struct AuditRow {
    pub at: String,
    pub event: String,
    pub actor: String,
    pub subject: String,
    pub client_ip: String,
    pub host_kind: String,
}

/// A refusal of the console: what happened, and the way back to the users.
#[derive(Template)]
#[template(path = "auth/admin/refusal.html")]
pub struct Refusal<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub text: &'static str,
}
