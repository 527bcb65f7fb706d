//! The auth UI under `/auth/`, answered by the gateway itself on both hostnames.

mod csrf;
mod form;
mod invite;
mod login;
pub mod rd;

pub use csrf::COOKIE as CSRF_COOKIE;

use std::net::IpAddr;

use pingora::prelude::*;
use pingora::proxy::Session;
use policy::{HostKind, LineFact};

use crate::app::App;
use crate::proxy::respond::{Reply, send};
use crate::ui::pages;

/// What the proxy established about the request before handing it here.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub host: HostKind,
    pub client_ip: Option<IpAddr>,
    pub line: LineFact,
}

impl Facts {
    pub fn ip_text(&self) -> Option<String> {
        self.client_ip.map(|ip| ip.to_string())
    }
}

pub async fn handle(app: &App, session: &mut Session, facts: Facts) -> Result<bool> {
    let req = session.req_header();
    let method = req.method.clone();
    let path = req.uri.path().to_owned();
    let get = method == http::Method::GET || method == http::Method::HEAD;
    let post = method == http::Method::POST;
    match path.as_str() {
        "/auth/login" if get => login::show(app, session, facts).await,
        "/auth/login" if post => login::submit(app, session, facts).await,
        "/auth/logout" if post => login::logout(app, session, facts).await,
        "/auth/2fa" if get => login::second_factor(app, session, facts).await,
        "/auth/invite" if get => invite::show(app, session).await,
        "/auth/invite" if post => invite::submit(app, session, facts).await,
        "/auth/login" | "/auth/logout" | "/auth/2fa" | "/auth/invite" => {
            send(session, Reply::text(405, "method not allowed\n")).await
        }
        _ => send(session, Reply::html(404, pages::not_found(app.product()))).await,
    }
}

/// The value of one query parameter of the request, decoded.
pub fn query_param(req: &RequestHeader, name: &str) -> Option<String> {
    let q = req.uri.query()?;
    form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}
