//! The invitation link's pages, as the service manual shows them: the
//! address being registered with the password form, a confirmation screen,
//! and the completion.

use askama::Template;

use crate::ui::html::Ui;

/// The address being registered, and the password to choose.
#[derive(Template)]
#[template(path = "auth/invite/form.html")]
pub struct InviteForm<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub ticket: &'a str,
    pub email: &'a str,
    pub rule: &'static str,
    pub password_error: Option<&'static str>,
    pub confirm_error: Option<&'static str>,
    /// The other ways to register (`auth/login_method/choices.html`).
    pub action: &'a str,
    pub providers: Vec<super::methods::MethodOption>,
    /// The tenant's directory, offered to anyone but the owner.
    pub directory: bool,
    pub connection_error: Option<&'static str>,
    /// A refusal for the whole page.
    pub error: Option<&'static str>,
}

/// What will be registered, before it is.
#[derive(Template)]
#[template(path = "auth/invite/confirm.html")]
pub struct InviteConfirm<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub ticket: &'a str,
    pub email: &'a str,
    /// Which staged password this screen confirms (`accounts::staged_digest`).
    pub staged: &'a str,
}

#[derive(Template)]
#[template(path = "auth/invite/done.html")]
pub struct InviteDone<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub email: &'a str,
}
