use askama::Template;

use crate::ui::html::Ui;

#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    /// Where to go after signing in (a checked `ReturnPath`).
    pub rd: &'a str,
    pub error: Option<&'a str>,
    pub line_auth: bool,
    /// One per configured provider, in the configured order.
    pub providers: Vec<super::federated::ProviderButton>,
    /// The directory button: asks for the connection id.
    pub directory_href: String,
}

/// Too many sign-in attempts from this network.
#[derive(Template)]
#[template(path = "auth/login_throttled.html")]
pub struct LoginThrottled<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
}

/// A line-auth sign-in waits for consent to use the line's information.
#[derive(Template)]
#[template(path = "auth/line_consent.html")]
pub struct LineConsent<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub rd: &'a str,
    pub line: &'a str,
}
