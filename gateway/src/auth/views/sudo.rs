//! The settings gate: the password asked again, and break-glass's mailed code.

use askama::Template;

use crate::ui::html::Ui;

#[derive(Template)]
#[template(path = "auth/sudo/login.html")]
pub struct SudoLoginPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    /// Where to go afterwards (already checked by `rd::safe_return`).
    pub rd: &'a str,
    /// The authenticator's code is asked too.
    pub code: bool,
    pub error: Option<&'a str>,
    /// A federated user confirms at this provider (its label) instead.
    pub provider: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/sudo/code.html")]
pub struct BreakGlassCodePage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub rd: &'a str,
    /// Where the code went.
    pub email: &'a str,
    /// The owner has an authenticator, whose code is taken too.
    pub totp: bool,
    pub error: Option<&'a str>,
}
