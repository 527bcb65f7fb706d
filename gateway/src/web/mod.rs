//! The web layer of the auth UI: requests, replies, routes and their guards,
//! forms and CSRF, with no Pingora type in sight. `proxy::auth_ui` turns a
//! Pingora session into a [`Request`] (reading the body once) and writes the
//! [`Reply`]; [`handle`] runs one route of a table (`auth::routes::ROUTES`).
//!
//! Everything a route may forget is done here instead: 404 and 405 from the
//! table, every POST's form read and CSRF-checked before its handler, a broken
//! dependency logged and answered 503, the language cookie set.

pub mod csrf;
pub mod form;
pub mod rd;
mod refusal;
mod reply;
mod request;
pub mod route;
mod visit;

pub use refusal::{IntoOutcome, Outcome, Refusal};
pub use reply::Reply;
pub use request::{Body, Request};
pub use route::{Guard, Method, Permission, Route};
pub use visit::{Facts, Visit};

use crate::app::App;
use crate::ui::lang;
use crate::ui::pages;

pub async fn handle(app: &App, table: &[Route], req: Request, facts: Facts) -> Reply {
    let mut visit = Visit::new(app, req, facts);
    let route = match route::find(table, &visit.req.method, visit.req.path()) {
        Ok(r) => r,
        Err(false) => return Reply::html(404, pages::not_found(&visit.ui())),
        Err(true) => {
            let allow = route::allowed(table, visit.req.path());
            return Reply::text(405, "method not allowed\n").header("allow", allow);
        }
    };
    if route.method == Method::Post {
        match checked_form(&visit) {
            Ok(form) => visit.form = Some(form),
            Err(refusal) => return refusal,
        }
    }
    let reply = match (route.handler)(&visit).await {
        Ok(reply) | Err(Refusal::Answer(reply)) => reply,
        Err(Refusal::Broken { what, cause }) => {
            tracing::error!(path = route.path, what, cause, "an auth page could not be served");
            visit.unavailable()
        }
    };
    match visit.explicit_lang {
        Some(l) => reply.header(
            "set-cookie",
            crate::session::set_cookie(&crate::session::CookieSpec {
                name: lang::COOKIE,
                value: l.code(),
                secure: app.cfg.session.secure_cookies,
                http_only: true,
                max_age: Some(365 * 86400),
            }),
        ),
        None => reply,
    }
}

/// A page from its template; a template that fails to render (only a value
/// whose `Display` fails can do that) is a broken page, logged by `handle`.
pub fn page(status: u16, view: &impl askama::Template) -> Outcome {
    match view.render() {
        Ok(html) => Ok(Reply::html(status, html)),
        Err(e) => Err(Refusal::broken("a template", e)),
    }
}

/// A POST's form with its CSRF token and origin checked; the Err is the refusal.
fn checked_form(v: &Visit<'_>) -> Result<form::Form, Reply> {
    let bad = |status, en, ja| Reply::html(status, pages::bad_request(&v.ui(), v.t(en, ja)));
    let f = match form::from_request(&v.req, form::body_cap(&v.app.cfg, v.req.path())) {
        Ok(f) => f,
        Err(form::FormError::TooLarge) => {
            return Err(bad(
                413,
                "The form was larger than this server accepts.",
                "フォームのサイズが上限を超えています。",
            ));
        }
        Err(form::FormError::Malformed) => {
            return Err(bad(400, "The form could not be read.", "フォームを読み取れませんでした。"));
        }
        Err(form::FormError::WrongType) => {
            return Err(bad(415, "The form was not sent as a web form.", "フォームの送信形式が正しくありません。"));
        }
    };
    if !csrf::verify(&v.req, f.get("csrf"), &v.app.cfg.session.cookie_name) {
        let body = pages::form_expired(&v.ui());
        return Err(Reply::html(403, body));
    }
    Ok(f)
}
