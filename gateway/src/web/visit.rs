//! One visit to an auth page: the shared state, the facts the proxy
//! established, the request, its language and (for a POST) its checked form.

use std::net::IpAddr;

use policy::{HostKind, LineFact};

use super::form::Form;
use super::{Reply, Request};
use crate::app::App;
use crate::ui::html::{Ui, t};
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

pub struct Visit<'a> {
    pub app: &'a App,
    pub facts: Facts,
    pub lang: Lang,
    pub req: Request,
    pub(super) explicit_lang: Option<Lang>,
    /// A POST's form, read and CSRF-checked by the dispatcher before the handler.
    pub(super) form: Option<Form>,
    ip_text: Option<String>,
}

impl<'a> Visit<'a> {
    pub fn new(app: &'a App, req: Request, facts: Facts) -> Visit<'a> {
        let explicit_lang = req.query("lang").and_then(|l| Lang::parse(&l));
        let cookie = req.cookie(lang::COOKIE);
        let accept = req.header(http::header::ACCEPT_LANGUAGE);
        let chosen = explicit_lang.or_else(|| cookie.as_deref().and_then(Lang::parse));
        let lang = Lang::choose(chosen.map(|l| l.code()), accept, app.cfg.ui.default_language.into());
        Visit { app, facts, lang, req, explicit_lang, form: None, ip_text: facts.ip_text() }
    }

    pub fn t(&self, en: &'static str, ja: &'static str) -> &'static str {
        t(self.lang, en, ja)
    }

    /// The current URL with `lang` switched: query parameters such as `ticket` survive.
    pub fn ui(&self) -> Ui<'a> {
        let path_and_query = self.req.path_and_query();
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if k != "lang" {
                ser.append_pair(&k, &v);
            }
        }
        ser.append_pair("lang", self.lang.other().code());
        Ui { lang: self.lang, product: &self.app.cfg.ui.product_name, switch_href: format!("{path}?{}", ser.finish()) }
    }

    /// An absolute URL on the hostname the user is on, for mails: from
    /// `public_urls`, never from the request's `Host`, which a client chooses
    /// (a forged name would send the recipient's ticket to someone else).
    pub fn link(&self, path_and_query: &str) -> String {
        self.app.cfg.public_url(self.facts.host == HostKind::LineAuth) + path_and_query
    }

    /// The POST's form, checked by the dispatcher. `None` only for a GET.
    pub fn form(&self) -> Option<&Form> {
        self.form.as_ref()
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

    /// The account operations, with this gateway's session cache.
    pub fn accounts(&self) -> crate::accounts::Accounts<'a> {
        self.app.accounts()
    }

    /// The visitor acting as `name` (their email; `None` for someone holding
    /// a mailed link), from this visit's address and hostname, in its language.
    pub fn actor<'n>(&'n self, name: Option<&'n str>) -> crate::accounts::Actor<'n> {
        crate::accounts::Actor {
            name,
            client_ip: self.ip_text.as_deref(),
            host: Some(self.facts.host),
            lang: self.lang,
        }
    }

    pub fn unavailable(&self) -> Reply {
        Reply::html(503, pages::unavailable(&self.ui()))
    }
}
