use askama::Template;

use crate::ui::html::Ui;

/// A sign-in through a provider that signed nobody in, and why.
#[derive(Template)]
#[template(path = "auth/federated/notice.html")]
pub struct FederatedNotice<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub text: &'static str,
    pub advise_sign_out: bool,
}

/// Asks for a directory's connection id.
#[derive(Template)]
#[template(path = "auth/federated/directory.html")]
pub struct DirectoryEntry<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub rd: &'a str,
    pub error: Option<&'a str>,
}

/// After a form: on to the provider.
#[derive(Template)]
#[template(path = "auth/federated/continue.html")]
pub struct ContinueToProvider<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub url: &'a str,
}

/// A sign-in button on the login page.
pub struct ProviderButton {
    pub href: String,
    pub label: String,
}
