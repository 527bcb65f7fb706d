//! Choosing a login method: the owner's own setting, the emailed change
//! link's page, the choices the invitation page shares with them, and the
//! owner's directory connection.

use askama::Template;

use crate::ui::html::Ui;

/// A provider the person may choose, as a button.
pub struct MethodOption {
    /// The provider id posted as `method`.
    pub value: String,
    pub label: String,
    /// The person signs in with it now.
    pub current: bool,
}

/// The login-method page, in the settings (`back_to_settings`) or from the
/// emailed link. `action` is where each choice posts.
#[derive(Template)]
#[template(path = "auth/login_method/form.html")]
pub struct MethodPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub action: &'a str,
    /// The current method's name.
    pub current: &'a str,
    /// Email and password is the current method: no new password is asked.
    pub password_current: bool,
    pub providers: Vec<MethodOption>,
    /// The tenant's directory is offered (with its connection id to type).
    pub directory: bool,
    pub rule: &'static str,
    /// A refusal for the whole page (at the top).
    pub error: Option<&'a str>,
    pub password_error: Option<&'a str>,
    pub confirm_error: Option<&'a str>,
    pub connection_error: Option<&'a str>,
    pub back_to_settings: bool,
}

/// What a login-method page came to: nothing changed, or the new method and
/// the way to sign in with it.
#[derive(Template)]
#[template(path = "auth/login_method/done.html")]
pub struct MethodDone<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub text: &'a str,
    pub sign_in: bool,
    pub back_to_settings: bool,
}

/// The connection the owner created: what they hand to their users.
pub struct DirectoryShown {
    pub connection_id: String,
    pub ordinary_url: String,
    pub line_auth_url: String,
}

#[derive(Template)]
#[template(path = "auth/settings/directory.html")]
pub struct DirectoryPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub note: Option<&'static str>,
    pub existing: Option<DirectoryShown>,
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// Issuer, client id, secret.
    pub errors: [Option<&'static str>; 3],
}
