//! The signed-in user's own pages: the settings menu, password and email change.

use askama::Template;

use crate::ui::html::Ui;

/// What the menu offers: SPEC section 6's table, as `sudo::Gated` answers it.
pub struct MenuItems {
    pub change_email: bool,
    pub change_password: bool,
    pub own_devices: bool,
    /// The registered phone and authenticator app (`/auth/settings/{phone,authenticator}`).
    pub own_phone: bool,
    pub own_app: bool,
    pub set_route: bool,
    pub set_two_factor: bool,
    pub administer: bool,
    /// The owner's own login method (basic plan).
    pub login_method: bool,
    /// The tenant's Active Directory connection (the owner).
    pub directory: bool,
}

#[derive(Template)]
#[template(path = "auth/account/menu.html")]
pub struct MenuPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub email: &'a str,
    pub organisation: &'a str,
    pub plan: &'static str,
    pub may: MenuItems,
    pub break_glass: bool,
}

impl MenuPage<'_> {
    fn own_group(&self) -> bool {
        self.may.change_email
            || self.may.login_method
            || self.may.change_password
            || self.may.own_devices
            || self.may.own_phone
            || self.may.own_app
    }

    fn organisation_group(&self) -> bool {
        self.may.set_route || self.may.set_two_factor || self.may.administer || self.may.directory
    }
}

#[derive(Template)]
#[template(path = "auth/account/password.html")]
pub struct PasswordPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub rule: &'static str,
    /// Current password, new password, its confirmation.
    pub errors: [Option<&'a str>; 3],
}

#[derive(Template)]
#[template(path = "auth/account/password_done.html")]
pub struct PasswordDone<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub mailed: bool,
}

#[derive(Template)]
#[template(path = "auth/account/email.html")]
pub struct EmailPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub current_email: &'a str,
    /// What was typed, shown again next to its error.
    pub new_email: &'a str,
    pub new_email_confirm: &'a str,
    /// New address, the address again, current password.
    pub errors: [Option<&'a str>; 3],
    /// A password user confirms with their password; a federated user has
    /// none (they signed in at their provider again to open the settings).
    pub ask_password: bool,
}

#[derive(Template)]
#[template(path = "auth/account/email_sent.html")]
pub struct EmailSent<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub new_email: &'a str,
    pub mailed: bool,
}

/// The page the mailed link opens: the new address, and the password to set.
#[derive(Template)]
#[template(path = "auth/account/email_confirm.html")]
pub struct EmailConfirmPage<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub ticket: &'a str,
    pub new_email: &'a str,
    pub rule: &'static str,
    pub errors: (Option<&'a str>, Option<&'a str>),
    /// A password user sets their password again; a federated user has none.
    pub sets_password: bool,
}

#[derive(Template)]
#[template(path = "auth/account/email_changed.html")]
pub struct EmailChanged<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub new_email: &'a str,
}

/// A page that only says something, with the way back.
#[derive(Template)]
#[template(path = "auth/account/notice.html")]
pub struct Notice<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub text: &'a str,
    pub error: bool,
    pub back_to_settings: bool,
}
