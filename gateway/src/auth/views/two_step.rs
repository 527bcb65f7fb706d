//! The 2-step verification pages: the second step of a sign-in, its
//! completion, remembered browsers, and changing the phone or app.

use askama::Template;

use crate::ui::html::Ui;
use crate::ui::markup::Markup;
use crate::web::rd::ReturnPath;

/// An authenticator app being set up: the QR code and the same key as text.
pub struct AppSetup {
    pub qr: Markup,
    pub key: String,
}

#[derive(Template)]
#[template(path = "auth/two_step/chooser.html")]
pub struct Chooser<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub rd: &'a ReturnPath,
    /// Nothing set up yet: the SMS enrolment form, then the app.
    pub first: bool,
    /// The registered phone, masked.
    pub phone: Option<String>,
    pub app: bool,
    /// The number typed on a refused enrolment form, and why.
    pub phone_value: &'a str,
    pub phone_error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "auth/two_step/sms_code.html")]
pub struct SmsCode<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub rd: &'a ReturnPath,
    pub masked: String,
    /// The number itself, for "send a new code" during enrolment.
    pub phone: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "auth/two_step/app_code.html")]
pub struct AppCode<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub rd: &'a ReturnPath,
    pub setup: Option<AppSetup>,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "auth/two_step/recovery.html")]
pub struct Recovery<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub rd: &'a ReturnPath,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "auth/two_step/save_recovery.html")]
pub struct SaveRecovery<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub rd: &'a ReturnPath,
    pub code: &'a str,
}

/// The manual's "verification complete" screen, then on to where the user was going.
#[derive(Template)]
#[template(path = "auth/two_step/verified.html")]
pub struct Verified<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub rd: &'a ReturnPath,
}

/// Refusals with nothing to fill in: the lock, the ended sign-in, the throttle.
#[derive(Template)]
#[template(path = "auth/two_step/locked.html")]
pub struct Locked<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
}

#[derive(Template)]
#[template(path = "auth/two_step/ended.html")]
pub struct Ended<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
}

#[derive(Template)]
#[template(path = "auth/two_step/too_many.html")]
pub struct TooMany<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
}

pub struct DeviceRow {
    pub id: i64,
    pub label: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "auth/two_step/devices.html")]
pub struct Devices<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub rows: Vec<DeviceRow>,
    pub note: Option<&'a str>,
    /// What the user has set up, to offer changing it.
    pub phone: bool,
    pub app: bool,
}

/// What a change page is changing: its path and words.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Phone,
    App,
}

impl Change {
    pub fn action(&self) -> &'static str {
        match self {
            Change::Phone => "/auth/settings/phone",
            Change::App => "/auth/settings/authenticator",
        }
    }

    pub fn is_phone(&self) -> bool {
        *self == Change::Phone
    }
}

/// A change's first step: a code from the current phone or app, or the
/// recovery code (and, for the phone, the new number).
#[derive(Template)]
#[template(path = "auth/two_step/change_prove.html")]
pub struct ChangeProve<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub change: Change,
    /// The registered phone, masked; a code can be sent to it.
    pub phone: Option<String>,
    pub app: bool,
    /// The method chosen on the form shown again ("sms", "totp", "recovery").
    pub method: &'a str,
    pub new_phone: &'a str,
    pub new_phone_error: Option<&'a str>,
    pub error: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// The code sent to the new number.
#[derive(Template)]
#[template(path = "auth/two_step/change_phone_code.html")]
pub struct ChangePhoneCode<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub ticket: &'a str,
    pub masked: String,
    pub phone: &'a str,
    pub error: Option<&'a str>,
    /// After the recovery code proved it: the new one, shown once.
    pub recovery: Option<&'a str>,
}

/// The new app's QR code and its first code.
#[derive(Template)]
#[template(path = "auth/two_step/change_app_setup.html")]
pub struct ChangeAppSetup<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub csrf: &'a str,
    pub ticket: &'a str,
    pub setup: AppSetup,
    pub error: Option<&'a str>,
    /// After the recovery code proved it: the new one, shown once.
    pub recovery: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "auth/two_step/changed.html")]
pub struct Changed<'a> {
    pub ui: Ui<'a>,
    pub title: &'static str,
    pub change: Change,
}
