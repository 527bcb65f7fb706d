//! The auth UI under `/auth/`, answered by the gateway itself on both hostnames.
//! Every handler returns a [`Reply`]; `handle` adds what all pages share (the
//! language cookie) and writes it.

mod account;
mod admin;
mod background;
mod csrf;
pub mod form;
mod invite;
mod links;
mod login;
mod notify;
pub mod rd;
pub mod routes;
mod second;
mod settings;
mod start;
pub mod sudo;

use std::net::IpAddr;

use pingora::prelude::*;
use pingora::proxy::Session;
use policy::{HostKind, LineFact};

pub use csrf::COOKIE as CSRF_COOKIE;
pub use login::PENDING_COOKIE;
pub use second::DEVICE_COOKIE;

use crate::app::App;
use crate::proxy::respond::{Reply, send};
use crate::session::cookie_value;
use crate::ui::html::{Ui, page, t};
use crate::ui::lang::{self, Lang};
use crate::ui::pages;

/// What the proxy established about the request before handing it here.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub host: HostKind,
    pub client_ip: Option<IpAddr>,
    pub line: LineFact,
    /// The carrier (and only the carrier) said the line is in a region whose
    /// users consent once before their line information is used.
    pub consent_region: bool,
}

impl Facts {
    pub fn ip_text(&self) -> Option<String> {
        self.client_ip.map(|ip| ip.to_string())
    }
}

/// One visit to an auth page: the shared state, the request's facts and language.
pub struct Visit<'a> {
    pub app: &'a App,
    pub facts: Facts,
    pub lang: Lang,
    explicit_lang: Option<Lang>,
    path_and_query: String,
    /// A POST's form, read and CSRF-checked by `handle` before dispatch.
    form: Option<form::Form>,
}

impl<'a> Visit<'a> {
    pub fn new(app: &'a App, req: &RequestHeader, facts: Facts) -> Visit<'a> {
        let explicit_lang = query_param(req, "lang").and_then(|l| Lang::parse(&l));
        let cookie = cookie_value(req.headers.get_all("cookie").iter().map(|v| v.as_bytes()), lang::COOKIE);
        let accept = req.headers.get(http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        let chosen = explicit_lang.or_else(|| cookie.as_deref().and_then(Lang::parse));
        let lang = Lang::choose(chosen.map(|l| l.code()), accept);
        let path_and_query = req.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
        Visit { app, facts, lang, explicit_lang, path_and_query, form: None }
    }

    pub fn t(&self, en: &'static str, ja: &'static str) -> &'static str {
        t(self.lang, en, ja)
    }

    /// The current URL with `lang` switched: query parameters such as `ticket` survive.
    pub fn ui(&self) -> Ui<'a> {
        let (path, query) = self.path_and_query.split_once('?').unwrap_or((&self.path_and_query, ""));
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if k != "lang" {
                ser.append_pair(&k, &v);
            }
        }
        ser.append_pair("lang", self.lang.other().code());
        Ui { lang: self.lang, product: &self.app.cfg.ui.product_name, switch_href: format!("{path}?{}", ser.finish()) }
    }

    pub fn page(&self, title: &str, body: &str) -> String {
        page(&self.ui(), title, body)
    }

    /// An absolute URL on the hostname the user is on, for mails: from
    /// `public_urls`, never from the request's `Host`.
    pub fn link(&self, path_and_query: &str) -> String {
        crate::auth::notify::base_url(&self.app.cfg, self.facts.host) + path_and_query
    }

    /// Records a security event with this visit's address and hostname. A
    /// failure is logged, never shown to the user: the action itself is done.
    pub async fn audit(&self, tenant: Option<i64>, actor: Option<&str>, subject: Option<&str>, event: &str) {
        let ip = self.facts.ip_text();
        if let Err(e) =
            self.app.store.audit(tenant, actor, subject, event, ip.as_deref(), Some(self.facts.host.as_str())).await
        {
            tracing::warn!(error = %e, event, "could not write an audit entry");
        }
    }

    pub fn unavailable(&self) -> Reply {
        Reply::html(503, pages::unavailable(&self.ui()))
    }
}

pub async fn handle(app: &App, session: &mut Session, facts: Facts) -> Result<bool> {
    let req = session.req_header();
    let mut visit = Visit::new(app, req, facts);
    let method = req.method.clone();
    let path = req.uri.path().to_owned();
    let get = method == http::Method::GET || method == http::Method::HEAD;
    let post = method == http::Method::POST;
    let Some(route) = routes::find(&path) else {
        return send(session, Reply::html(404, pages::not_found(&visit.ui()))).await;
    };
    if !((get && route.get) || (post && route.post)) {
        return send(session, Reply::text(405, "method not allowed\n")).await;
    }
    if post {
        match check_form(&visit, session).await? {
            Ok(form) => visit.form = Some(form),
            Err(refusal) => return send(session, refusal).await,
        }
    }
    let v = &visit;
    let reply = match path.as_str() {
        "/auth/login" if get => login::show(v, session).await,
        "/auth/login" if post => login::submit(v, session).await?,
        "/auth/logout" if post => login::logout(v, session).await?,
        "/auth/2fa" if get => second::chooser(v, session).await,
        "/auth/2fa/sms" if post => second::sms(v, session).await?,
        "/auth/2fa/totp" if get => second::totp_form(v, session).await,
        "/auth/2fa/totp" if post => second::totp_submit(v, session).await?,
        "/auth/2fa/recovery" if get => second::recovery_form(v, session).await,
        "/auth/2fa/recovery" if post => second::recovery_submit(v, session).await?,
        "/auth/recovery-code" if get => second::recovery_code(v, session).await,
        "/auth/recovery-code" if post => second::recovery_code_saved(v, session).await?,
        "/auth/devices" if get => second::devices(v, session, None).await,
        "/auth/devices" if post => second::devices_revoke(v, session).await?,
        "/auth/line-consent" if post => login::line_consent(v, session).await?,
        "/auth/invite" if get => invite::show(v, session).await,
        "/auth/invite" if post => invite::submit(v, session).await?,
        "/auth/unlock" if get => links::unlock(v, session).await,
        "/auth/password/forgot" if get => links::forgot_form(v, session, None),
        "/auth/password/forgot" if post => links::forgot_submit(v, session).await?,
        "/auth/password/reset" if get => links::reset_form(v, session).await,
        "/auth/password/reset" if post => links::reset_submit(v, session).await?,
        "/auth/password/change" if get => account::password_form(v, session).await,
        "/auth/password/change" if post => account::password_submit(v, session).await?,
        "/auth/email/change" if get => account::email_form(v, session).await,
        "/auth/email/change" if post => account::email_submit(v, session).await?,
        "/auth/email/confirm" if get => account::email_confirm_form(v, session).await,
        "/auth/email/confirm" if post => account::email_confirm_submit(v, session).await?,
        "/auth/settings" if get => account::menu(v, session).await,
        "/auth/settings/login" if get => sudo::login_form(v, session).await,
        "/auth/settings/login" if post => sudo::login_submit(v, session).await?,
        "/auth/settings/route" if get => settings::route_form(v, session).await,
        "/auth/settings/route" if post => settings::route_submit(v, session).await?,
        "/auth/settings/2fa" if get => settings::two_factor_form(v, session).await,
        "/auth/settings/2fa" if post => settings::two_factor_submit(v, session).await?,
        "/auth/settings/lines" if get => settings::lines_page(v, session).await,
        "/auth/settings/lines" if post => settings::lines_submit(v, session).await?,
        "/auth/admin/users" if get => admin::users(v, session).await,
        "/auth/admin/users" if post => admin::invite(v, session).await?,
        "/auth/admin/users/action" if post => admin::action(v, session).await?,
        "/auth/admin/audit" if get => admin::audit(v, session).await,
        // `routes::ROUTES` and these arms are held equal by a test.
        _ => Reply::text(405, "method not allowed\n"),
    };
    let reply = match visit.explicit_lang {
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
    };
    send(session, reply).await
}

/// The value of one query parameter of the request, decoded.
pub fn query_param(req: &RequestHeader, name: &str) -> Option<String> {
    let q = req.uri.query()?;
    form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Pages that need a signed-in user send others to the login form and back.
pub fn to_login(v: &Visit<'_>) -> Reply {
    let rd = percent_encoding::utf8_percent_encode(&v.path_and_query, percent_encoding::NON_ALPHANUMERIC).to_string();
    Reply::redirect(303, format!("/auth/login?rd={rd}"))
}

/// The POST's form, already read and CSRF-checked by `handle`; the Err is the
/// reply to send instead (only when a handler is reached without one, which
/// `handle` does not allow).
pub async fn read_form(v: &Visit<'_>, _session: &mut Session) -> Result<std::result::Result<form::Form, Reply>> {
    match &v.form {
        Some(f) => Ok(Ok(f.clone())),
        None => {
            tracing::error!("an auth handler asked for a form that was not checked");
            Ok(Err(Reply::text(405, "method not allowed\n")))
        }
    }
}

/// Reads a POST's form and checks its CSRF token and origin; the Err is the
/// refusal to send instead.
async fn check_form(v: &Visit<'_>, session: &mut Session) -> Result<std::result::Result<form::Form, Reply>> {
    let f = match form::read(session, v.app.cfg.login.max_body_bytes).await? {
        Ok(f) => f,
        Err(form::FormError::TooLarge) => {
            return Ok(Err(Reply::html(
                413,
                pages::bad_request(
                    &v.ui(),
                    v.t("The form was larger than this server accepts.", "フォームのサイズが上限を超えています。"),
                ),
            )));
        }
        Err(form::FormError::Malformed) => {
            return Ok(Err(Reply::html(
                400,
                pages::bad_request(&v.ui(), v.t("The form could not be read.", "フォームを読み取れませんでした。")),
            )));
        }
        Err(form::FormError::WrongType) => {
            return Ok(Err(Reply::html(
                415,
                pages::bad_request(
                    &v.ui(),
                    v.t("The form was not sent as a web form.", "フォームの送信形式が正しくありません。"),
                ),
            )));
        }
    };
    if !csrf::verify(session.req_header(), f.get("csrf"), &v.app.cfg.session.cookie_name) {
        let body = v.page(
            v.t("The form has expired", "フォームの有効期限が切れました"),
            v.t(
                "<p>For your security the form could not be accepted. Go back, reload the page and try again.</p><p><a href=\"/auth/login\">Go to the sign-in page</a></p>",
                "<p>安全のため、このフォームは受け付けられませんでした。前のページに戻り、再読み込みしてからもう一度お試しください。</p><p><a href=\"/auth/login\">ログインページへ</a></p>",
            ),
        );
        return Ok(Err(Reply::html(403, body)));
    }
    Ok(Ok(f))
}

/// A form page's CSRF token, and the cookie to set when the browser has none yet.
pub fn csrf_for(v: &Visit<'_>, req: &RequestHeader) -> (String, Option<String>) {
    let (token, fresh) = csrf::token_for(req, &v.app.cfg.session.cookie_name);
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

pub use csrf::hidden_field;
