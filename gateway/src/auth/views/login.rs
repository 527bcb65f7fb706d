use askama::Template;

use crate::ui::html::Ui;

#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    /// Where to go after signing in (already checked by `rd::safe_return`).
    pub rd: &'a str,
    pub error: Option<&'a str>,
    pub line_auth: bool,
}
