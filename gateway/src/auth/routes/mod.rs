//! Every page of the auth UI: method, path, guard, handler. The web layer
//! (`crate::web::handle`) answers 404 and 405 from this table and checks every
//! POST's form and CSRF token before the handler runs.
//!
//! A guard is part of the handler's type: a settings handler takes the
//! [`Gated`] that only `sudo::require` makes, a second-step handler the
//! [`Pending`](two_step::Pending) login that only `two_step::pending` makes. The macros below wrap
//! each handler in its guard, and the same macro writes the guard into the
//! table, so the table cannot say one thing while the code does another.

use super::sudo;
use super::two_step;
use super::{account, admin, directory, federated, invite, links, login, login_method, settings};
use crate::web::route::{Fut, Handler};
use crate::web::{Guard, IntoOutcome, Method, Permission, Route, Visit};

macro_rules! open {
    ($f:path) => {{
        fn h<'a>(v: &'a Visit<'a>) -> Fut<'a> {
            Box::pin(async move { IntoOutcome::into_outcome($f(v).await) })
        }
        (Guard::Anyone, h as Handler)
    }};
}

/// A handler behind a guard: `$pass` makes the guard's product (or the
/// refusal), which the handler takes as its second argument.
macro_rules! guarded {
    ($guard:expr, |$v:ident| $pass:expr, $f:path) => {{
        fn h<'a>($v: &'a Visit<'a>) -> Fut<'a> {
            Box::pin(async move {
                let passed = $pass.await?;
                IntoOutcome::into_outcome($f($v, passed).await)
            })
        }
        ($guard, h as Handler)
    }};
}

macro_rules! second_step {
    ($f:path) => {
        guarded!(Guard::SecondStep, |v| two_step::pending(v), $f)
    };
}

macro_rules! signed_in {
    ($f:path) => {
        guarded!(Guard::SignedIn, |v| sudo::signed_in(v), $f)
    };
}

macro_rules! settings {
    ($p:ident, $f:path) => {
        guarded!(Guard::Settings(Permission::$p), |v| sudo::require(v, Permission::$p), $f)
    };
}

const fn get(path: &'static str, (guard, handler): (Guard, Handler)) -> Route {
    Route { method: Method::Get, path, guard, handler }
}

const fn post(path: &'static str, (guard, handler): (Guard, Handler)) -> Route {
    Route { method: Method::Post, path, guard, handler }
}

pub static ROUTES: &[Route] = &[
    get("/auth/login", open!(login::show)),
    post("/auth/login", open!(login::submit)),
    post("/auth/logout", open!(login::logout)),
    post("/auth/line-consent", open!(login::line_consent)),
    get("/auth/2fa", second_step!(two_step::chooser)),
    post("/auth/2fa/sms", second_step!(two_step::sms)),
    get("/auth/2fa/totp", second_step!(two_step::totp_form)),
    post("/auth/2fa/totp", second_step!(two_step::totp_submit)),
    get("/auth/2fa/recovery", second_step!(two_step::recovery_form)),
    post("/auth/2fa/recovery", second_step!(two_step::recovery_submit)),
    get("/auth/recovery-code", second_step!(two_step::recovery_code)),
    post("/auth/recovery-code", second_step!(two_step::recovery_code_saved)),
    get("/auth/verified", open!(two_step::verified)),
    // The callback before the pattern: `callback` is no provider id.
    get("/auth/oidc/callback", open!(federated::callback)),
    get("/auth/oidc/*", open!(federated::start_provider)),
    get("/auth/ad", open!(federated::directory_form)),
    post("/auth/ad", open!(federated::directory_submit)),
    get("/auth/ad/*", open!(federated::start_directory)),
    get("/auth/invite", open!(invite::show)),
    post("/auth/invite", open!(invite::submit)),
    get("/auth/login-method", open!(login_method::link_form)),
    post("/auth/login-method", open!(login_method::link_submit)),
    get("/auth/unlock", open!(links::unlock)),
    get("/auth/password/forgot", open!(links::forgot_page)),
    post("/auth/password/forgot", open!(links::forgot_submit)),
    get("/auth/password/reset", open!(links::reset_form)),
    post("/auth/password/reset", open!(links::reset_submit)),
    get("/auth/email/confirm", open!(account::email_confirm_form)),
    post("/auth/email/confirm", open!(account::email_confirm_submit)),
    get("/auth/settings/login", signed_in!(sudo::login_form)),
    post("/auth/settings/login", signed_in!(sudo::login_submit)),
    get("/auth/settings", settings!(Menu, account::menu)),
    get("/auth/devices", settings!(OwnDevices, two_step::devices_page)),
    post("/auth/devices", settings!(OwnDevices, two_step::devices_revoke)),
    get("/auth/settings/phone", settings!(OwnSecondFactor, two_step::phone_form)),
    post("/auth/settings/phone", settings!(OwnSecondFactor, two_step::phone_submit)),
    get("/auth/settings/authenticator", settings!(OwnSecondFactor, two_step::app_form)),
    post("/auth/settings/authenticator", settings!(OwnSecondFactor, two_step::app_submit)),
    get("/auth/password/change", settings!(ChangePassword, account::password_form)),
    post("/auth/password/change", settings!(ChangePassword, account::password_submit)),
    get("/auth/email/change", settings!(ChangeEmail, account::email_form)),
    post("/auth/email/change", settings!(ChangeEmail, account::email_submit)),
    get("/auth/settings/route", settings!(SetRoute, settings::route_form)),
    post("/auth/settings/route", settings!(SetRoute, settings::route_submit)),
    get("/auth/settings/2fa", settings!(SetTwoFactor, settings::two_factor_form)),
    post("/auth/settings/2fa", settings!(SetTwoFactor, settings::two_factor_submit)),
    get("/auth/settings/login-method", settings!(LoginMethod, login_method::own_form)),
    post("/auth/settings/login-method", settings!(LoginMethod, login_method::own_submit)),
    get("/auth/settings/directory", settings!(Directory, directory::form)),
    post("/auth/settings/directory", settings!(Directory, directory::submit)),
    get("/auth/settings/lines", settings!(Administer, settings::lines_page)),
    post("/auth/settings/lines", settings!(Administer, settings::lines_submit)),
    get("/auth/admin/users", settings!(Administer, admin::users)),
    post("/auth/admin/users", settings!(Administer, admin::invite)),
    post("/auth/admin/users/action", settings!(Administer, admin::action)),
    post("/auth/admin/invitations/resend", settings!(Administer, admin::resend)),
    post("/auth/admin/invitations/withdraw", settings!(Administer, admin::withdraw)),
    get("/auth/admin/audit", settings!(Administer, admin::audit)),
];

#[cfg(test)]
mod tests;
