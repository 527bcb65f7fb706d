//! The auth UI's pages under `/auth/`, answered by the gateway itself on both
//! hostnames. The route table is `routes::ROUTES`; the web layer (`crate::web`)
//! runs it, so handlers here see a [`Visit`], never a connection.

mod account;
mod admin;
mod directory;
mod federated;
mod invite;
mod links;
mod login;
mod login_method;
mod notify;
pub mod routes;
mod settings;
mod sms_refusal;
mod start;
pub mod sudo;
mod two_step;
mod views;

#[cfg(test)]
pub(crate) mod testing;

pub use federated::flow::FLOW_COOKIE;
pub use login::{PENDING_COOKIE, REFUSED_EN};

// The queue is the accounts layer's too; its old path still works here.
use crate::background;
pub use two_step::DEVICE_COOKIE;

pub use crate::web::csrf::COOKIE as CSRF_COOKIE;
pub use crate::web::rd;
pub use crate::web::{Facts, Visit};
use crate::web::{Refusal, Reply, csrf, form};

/// Pages that need a signed-in user send others to the login form and back.
pub fn to_login(v: &Visit<'_>) -> Reply {
    let rd =
        percent_encoding::utf8_percent_encode(v.req.path_and_query(), percent_encoding::NON_ALPHANUMERIC).to_string();
    Reply::redirect(303, format!("/auth/login?rd={rd}"))
}

/// The POST's form, already read and CSRF-checked by the dispatcher; a handler
/// reached without one (a GET route calling this) is a programming error,
/// answered 405 and logged.
pub fn read_form(v: &Visit<'_>) -> Result<form::Form, Refusal> {
    match v.form() {
        Some(f) => Ok(f.clone()),
        None => {
            tracing::error!(path = v.req.path(), "an auth handler asked for a form that was not checked");
            Err(Reply::text(405, "method not allowed\n").into())
        }
    }
}

/// A form page's CSRF token, and the cookie to set when the browser has none yet.
pub fn csrf_for(v: &Visit<'_>) -> (String, Option<String>) {
    let (token, fresh) = csrf::token_for(&v.req, &v.app.cfg.session.cookie_name);
    let cookie = fresh.map(|t| csrf::cookie_header(&t, v.app.cfg.session.secure_cookies));
    (token, cookie)
}

/// Adds the CSRF cookie to a reply when one was minted for its form.
pub fn with_cookie(reply: Reply, cookie: Option<String>) -> Reply {
    match cookie {
        Some(c) => reply.header("set-cookie", c),
        None => reply,
    }
}
