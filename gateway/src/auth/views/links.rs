//! The pages of the mailed links that need no session: unlock, forgot, reset.

use askama::Template;

use crate::ui::html::Ui;
use crate::ui::markup::Markup;

/// Every link that cannot be used, whatever the reason, and what to do next.
#[derive(Template)]
#[template(path = "auth/links/dead.html")]
pub struct Dead<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    /// What to do instead: a literal of the page that sent here.
    pub next: Markup,
}

#[derive(Template)]
#[template(path = "auth/links/unlocked.html")]
pub struct Unlocked<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
}

#[derive(Template)]
#[template(path = "auth/links/forgot.html")]
pub struct Forgot<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "auth/links/forgot_sent.html")]
pub struct ForgotSent<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub email: &'a str,
    pub days: u64,
}

#[derive(Template)]
#[template(path = "auth/links/reset.html")]
pub struct Reset<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    /// The ticket of the mailed link, sent back with the form.
    pub ticket: &'a str,
    pub rule: &'static str,
    pub password_error: Option<&'static str>,
    pub confirm_error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "auth/links/reset_done.html")]
pub struct ResetDone<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
}
