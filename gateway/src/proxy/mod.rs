//! The Pingora proxy: one `ProxyHttp` phase per concern.
//!
//! - `request_filter`: establish the facts (host, client address, line, path,
//!   session), answer `/auth/*` and health checks, call `policy::decide`, and
//!   answer every refusal directly.
//! - `upstream_peer`: the origin.
//! - `upstream_request_filter`: remove client-sent identity headers, add ours,
//!   forward the normalised path.

mod auth_ui;
pub mod bare;
pub mod client;
pub mod edge;
pub mod fault;
pub mod host;
pub mod hsts;
pub mod identity;
pub mod limits;
pub mod origin;
pub mod respond;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use http::HeaderName;
use pingora::prelude::*;
use pingora::proxy::{ProxyHttp, Session};
use policy::{HostKind, LineFact, Outcome, PathFact, Request, SessionFact, SessionView};

use crate::app::App;
use crate::metrics;
use crate::session::CookieFact;
use crate::ui::pages;
use respond::{Reply, send};

pub struct Gateway {
    pub app: Arc<App>,
    pub edge: edge::Edge,
}

impl Gateway {
    pub fn new(app: Arc<App>) -> anyhow::Result<Gateway> {
        let edge = edge::Edge::new(&app.cfg)?;
        Ok(Gateway { app, edge })
    }
}

/// The language for a page the proxy writes itself (refusals): the visitor's
/// explicit choice, else `Accept-Language`, else `ui.default_language`.
fn ui_for<'a>(app: &'a App, req: &RequestHeader) -> crate::ui::html::Ui<'a> {
    use crate::ui::lang::{self, Lang};
    let cookie = crate::session::cookie_value(header_values(req, &http::header::COOKIE), lang::COOKIE);
    let accept = req.headers.get(http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    crate::ui::html::Ui::plain(
        Lang::choose(cookie.as_deref(), accept, app.cfg.ui.default_language.into()),
        app.product(),
    )
}

/// What the request phases tell the upstream phases.
#[derive(Default)]
pub struct Ctx {
    client_ip: Option<IpAddr>,
    host: Option<HostKind>,
    inject: Option<identity::IdentityHeaders>,
    /// Set when the path the origin should see differs from the raw one.
    upstream_uri: Option<http::Uri>,
    /// What the `logging` phase records (metrics, access log).
    log: LogFacts,
}

/// Facts gathered along the phases for the `logging` phase.
#[derive(Default)]
struct LogFacts {
    started: Option<Instant>,
    answer: metrics::Answer,
    /// The decision's label, `auth` for the gateway's pages, empty for neither.
    outcome: &'static str,
    upstream_started: Option<Instant>,
    upstream_status: Option<u16>,
    upstream_us: Option<u64>,
    /// Only kept when the access log is on.
    user: Option<http::HeaderValue>,
    tenant: Option<http::HeaderValue>,
}

/// By a parsed name, not a `&str`: a string is parsed and folded again at each
/// lookup (about 300 instructions each, four lookups a request).
fn header_values<'a>(req: &'a RequestHeader, name: &'a HeaderName) -> impl Iterator<Item = &'a [u8]> + 'a {
    req.headers.get_all(name).iter().map(|v| v.as_bytes())
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Pages get redirected to the login form; API calls get a status they can act on.
fn wants_page(req: &RequestHeader) -> bool {
    (req.method == http::Method::GET || req.method == http::Method::HEAD)
        && req.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

/// `rd` for the login page: the path and query the user asked for.
pub fn return_to(req: &RequestHeader) -> String {
    let pq = req.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    percent_encoding::utf8_percent_encode(pq, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = Ctx;

    fn new_ctx(&self) -> Ctx {
        Ctx::default()
    }

    fn init_downstream_modules(&self, modules: &mut pingora::modules::http::HttpModules) {
        // Pingora's default: response compression, present but off.
        modules.add_module(pingora::modules::http::compression::ResponseCompressionBuilder::enable(0));
        if let Some(value) = &self.edge.hsts {
            modules.add_module(Box::new(hsts::HstsBuilder { value: value.clone() }));
        }
    }

    async fn early_request_filter(&self, session: &mut Session, ctx: &mut Ctx) -> Result<()> {
        ctx.log.started = Some(Instant::now());
        if self.edge.hsts.is_some() {
            let Session { downstream_modules_ctx, downstream_session, .. } = session;
            hsts::Hsts::mark(downstream_modules_ctx, downstream_session);
        }
        Ok(())
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut Ctx) -> Result<bool> {
        let app = &*self.app;
        let started = Instant::now();
        let req = session.req_header();
        let path = req.uri.path();
        if path == "/healthz" {
            return send(session, Reply::text(200, "ok\n")).await;
        }
        if path == "/readyz" {
            return send(
                session,
                if metrics::ready() { Reply::text(200, "ready\n") } else { Reply::text(503, "not ready\n") },
            )
            .await;
        }

        let host = host::host_kind(
            req.uri.authority().map(|a| a.as_str()),
            header_values(req, &http::header::HOST),
            &self.edge.hosts,
        );
        let peer = session.client_addr().and_then(|a| a.as_inet()).map(|a| a.ip());
        let client_ip = client::client_ip(peer, header_values(req, &X_FORWARDED_FOR), &self.edge.trusted_proxies);
        let line = client::line_fact(peer, header_values(req, &self.edge.line_header), &self.edge.carrier_networks);
        if line == LineFact::Untrusted {
            metrics::SPOOFED_LINE_HEADERS.inc();
        }
        ctx.client_ip = client_ip;
        ctx.host = host;

        if let Some(host) = host
            && (path == "/auth" || path.starts_with("/auth/"))
        {
            let region = client::carrier_region(
                peer,
                &self.edge.carrier_networks,
                self.edge.region_header.as_ref().map(|h| header_values(req, h)),
            );
            let consent_region =
                region.is_some_and(|r| self.edge.consent_regions.iter().any(|c| c.eq_ignore_ascii_case(r)));
            let facts = crate::web::Facts { host, client_ip, line, consent_region };
            ctx.log.answer = metrics::Answer::Auth;
            ctx.log.outcome = "auth";
            // Boxed: the auth UI's state machine is large, and every proxied
            // request's future would otherwise carry (and allocate) room for it.
            return Box::pin(auth_ui::serve(app, session, facts)).await;
        }

        // Most paths are already in normal form: then neither normalising nor
        // rewriting allocates anything. `None` here means "the raw path is it".
        let normalised = if policy::already_normal(path) { None } else { Some(policy::normalize_path(path)) };
        let path_fact = match &normalised {
            None => PathFact::Normalised(path),
            Some(Ok(p)) => PathFact::Normalised(p),
            Some(Err(_)) => PathFact::Malformed,
        };
        let cookie =
            crate::session::read_cookie(header_values(req, &http::header::COOKIE), &app.cfg.session.cookie_name);
        let record = match cookie {
            CookieFact::Present(id) if host.is_some() => {
                match app.sessions.lookup(&app.store, &id, crate::store::now()).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(error = %e, "session lookup failed");
                        return send(session, Reply::html(503, pages::unavailable(&ui_for(app, session.req_header()))))
                            .await;
                    }
                }
            }
            _ => None,
        };
        let session_fact = match (cookie, &record) {
            (CookieFact::Missing, _) => SessionFact::Missing,
            (CookieFact::Malformed, _) => SessionFact::Malformed,
            (CookieFact::Present(_), None) => SessionFact::Unknown,
            (CookieFact::Present(_), Some(c)) => SessionFact::Valid(SessionView {
                user: &c.rec.email,
                tenant: c.rec.tenant_id,
                role: c.rec.role,
                method: c.rec.method,
                provider: c.rec.provider.as_deref(),
                factor: c.rec.factor,
                host: c.rec.host,
            }),
        };
        let snapshot = app.policy.load();
        let request = Request { host, client_ip, line, path: path_fact, session: session_fact };
        let decision = policy::decide(&snapshot, &request);
        metrics::DECISION_SECONDS.observe(started.elapsed().as_secs_f64());
        let host_label = host.map(HostKind::as_str).unwrap_or("unknown");
        metrics::count_request(host_label, decision.outcome.label());
        ctx.log.outcome = decision.outcome.label();
        ctx.log.answer = metrics::Answer::Refusal;

        let req = session.req_header();
        let reply = match decision.outcome {
            Outcome::Allow(id) => {
                // The session's own header value when the identity is the session's
                // user (it always is today); built afresh otherwise.
                let cached_user =
                    record.as_ref().and_then(|c| c.user_header.clone().filter(|_| c.rec.email == id.user));
                // A provider id is `[a-z0-9-]` (checked in config and for
                // stored rows); the password methods are static names.
                let method = match id.method.static_name() {
                    Some(name) => Ok(http::HeaderValue::from_static(name)),
                    None => http::HeaderValue::from_str(id.method.as_str()),
                };
                let values = (
                    cached_user.map_or_else(|| http::HeaderValue::from_str(id.user), Ok),
                    http::HeaderValue::from_str(id.tenant),
                );
                let (Ok(user), Ok(tenant), Ok(method)) = (values.0, values.1, method) else {
                    // Stored names are checked on the way in; fail closed all the same.
                    tracing::error!("identity not representable as a header; refusing");
                    let reply = Reply::html(503, pages::unavailable(&ui_for(app, req)));
                    return send(session, reply).await;
                };
                if crate::access_log::enabled() {
                    ctx.log.user = Some(user.clone());
                    ctx.log.tenant = Some(tenant.clone());
                }
                ctx.inject =
                    Some(identity::IdentityHeaders { user, tenant, role: id.role.as_str(), method, line: id.line });
                return forward(app, session, ctx, rewrite_of(&normalised)).await;
            }
            Outcome::Bypass => return forward(app, session, ctx, rewrite_of(&normalised)).await,
            Outcome::Login if wants_page(req) => Reply::redirect(302, format!("/auth/login?rd={}", return_to(req))),
            Outcome::SecondFactor if wants_page(req) => {
                Reply::redirect(302, format!("/auth/2fa?rd={}", return_to(req)))
            }
            Outcome::Login | Outcome::SecondFactor => {
                Reply::text(401, "authentication required\n").header("www-authenticate", "Cookie".into())
            }
            Outcome::Deny(kind) => Reply::html(403, pages::denied(&ui_for(app, req), kind)),
            Outcome::UnknownHost => Reply::html(421, pages::misdirected(&ui_for(app, req))),
            Outcome::BadRequest => {
                let ui = ui_for(app, req);
                let what = ui.t("The address could not be decoded.", "アドレスを解釈できませんでした。");
                Reply::html(400, pages::bad_request(&ui, what))
            }
        };
        tracing::debug!(outcome = decision.outcome.label(), reasons = ?decision.reasons, "refused");
        send(session, reply).await
    }

    async fn upstream_peer(&self, _session: &mut Session, ctx: &mut Ctx) -> Result<Box<HttpPeer>> {
        ctx.log.upstream_started = Some(Instant::now());
        Ok(self.edge.origin.peer())
    }

    async fn upstream_response_filter(
        &self,
        _session: &mut Session,
        upstream_response: &mut ResponseHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        // The first final answer counts (an interim 100 Continue comes first).
        if ctx.log.upstream_status.is_none_or(|s| s < 200)
            && let Some(t) = ctx.log.upstream_started
        {
            let took = t.elapsed();
            if upstream_response.status.as_u16() >= 200 {
                metrics::ORIGIN_DURATION.observe(took.as_secs_f64());
            }
            ctx.log.upstream_status = Some(upstream_response.status.as_u16());
            ctx.log.upstream_us = Some(took.as_micros().try_into().unwrap_or(u64::MAX));
        }
        fault::origin_answered();
        Ok(())
    }

    async fn logging(&self, session: &mut Session, e: Option<&pingora::Error>, ctx: &mut Ctx) {
        let took = ctx.log.started.map(|t| t.elapsed()).unwrap_or_default();
        metrics::observe_request(ctx.log.answer, took.as_secs_f64());
        if let Some(e) = e
            && ctx.log.upstream_started.is_some()
            && e.esource == pingora::ErrorSource::Upstream
        {
            metrics::count_origin_error(&e.etype);
        }
        if crate::access_log::enabled() {
            crate::access_log::push(log_record(session, ctx, took, e));
        }
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        up: &mut RequestHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        let own = [
            self.app.cfg.session.cookie_name.as_str(),
            crate::auth::CSRF_COOKIE,
            crate::auth::DEVICE_COOKIE,
            crate::auth::PENDING_COOKIE,
            crate::auth::FLOW_COOKIE,
            crate::ui::lang::COOKIE,
        ];
        let forwarded = self.edge.forwarded_hosts.get(ctx.host);
        identity::rewrite_upstream(up, &self.edge.rewrite, &own, ctx.client_ip, forwarded, ctx.inject.take())?;
        if let Some(uri) = ctx.upstream_uri.take() {
            up.set_uri(uri);
        }
        Ok(())
    }

    async fn fail_to_proxy(&self, session: &mut Session, e: &Error, _ctx: &mut Ctx) -> pingora::proxy::FailToProxy {
        fault::answer(&self.app, session, e).await
    }

    fn suppress_error_log(&self, _session: &Session, _ctx: &Ctx, e: &Error) -> bool {
        fault::quiet(e)
    }
}

/// The access log's record of a finished request. The path goes without its
/// query (sign-in links carry tickets there); no header but Host is read.
fn log_record(
    session: &Session,
    ctx: &mut Ctx,
    took: std::time::Duration,
    e: Option<&pingora::Error>,
) -> crate::access_log::Record {
    let req = session.req_header();
    let host = req
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| req.headers.get(http::header::HOST).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .unwrap_or_default();
    // With no response written, the status the client was sent on an error
    // is Pingora's (502 for an origin that failed), else 0: nothing was sent.
    let status = match session.response_written() {
        Some(r) => r.status.as_u16(),
        None => e.map_or(0, |e| match e.etype {
            pingora::ErrorType::HTTPStatus(code) => code,
            _ if e.esource == pingora::ErrorSource::Upstream => 502,
            _ => 0,
        }),
    };
    crate::access_log::Record {
        time: {
            let now = std::time::SystemTime::now();
            now.checked_sub(took).unwrap_or(now)
        },
        client: ctx.client_ip.or_else(|| session.client_addr().and_then(|a| a.as_inet()).map(|a| a.ip())),
        host,
        method: req.method.clone(),
        path: req.uri.path().to_owned(),
        status,
        bytes: session.body_bytes_sent(),
        duration_us: took.as_micros().try_into().unwrap_or(u64::MAX),
        outcome: ctx.log.outcome,
        user: ctx.log.user.take(),
        tenant: ctx.log.tenant.take(),
        upstream_status: ctx.log.upstream_status,
        upstream_us: ctx.log.upstream_us,
    }
}

/// The normalised path when it differs from the raw one (`None`: forward as is).
fn rewrite_of(normalised: &Option<std::result::Result<String, policy::PathError>>) -> Option<&str> {
    match normalised {
        Some(Ok(p)) => Some(p),
        // Unreachable for allowed requests (a malformed path is refused); "/"
        // keeps it fail-closed should that ever change.
        Some(Err(_)) => Some("/"),
        None => None,
    }
}

/// Lets an allowed request go on to the origin with the path the rules saw;
/// if that path cannot be written as a URI, nothing is forwarded.
async fn forward(app: &App, session: &mut Session, ctx: &mut Ctx, normalised: Option<&str>) -> Result<bool> {
    let Some(normalised) = normalised else {
        ctx.log.answer = metrics::Answer::Origin;
        return Ok(false);
    };
    match upstream_uri(session.req_header(), normalised) {
        Ok(uri) => {
            ctx.upstream_uri = uri;
            ctx.log.answer = metrics::Answer::Origin;
            Ok(false)
        }
        Err(()) => {
            let ui = ui_for(app, session.req_header());
            let what = ui.t("The address could not be decoded.", "アドレスを解釈できませんでした。");
            send(session, Reply::html(400, pages::bad_request(&ui, what))).await
        }
    }
}

/// The origin reads the path the rules were matched against, re-encoded, with
/// the original query. None when the raw path already is that; an error when
/// the rewritten URI cannot be built (then nothing is forwarded).
fn upstream_uri(req: &RequestHeader, normalised: &str) -> std::result::Result<Option<http::Uri>, ()> {
    let encoded = policy::encode_path(normalised);
    if encoded == req.uri.path() {
        return Ok(None);
    }
    let pq = match req.uri.query() {
        Some(q) => format!("{encoded}?{q}"),
        None => encoded,
    };
    http::Uri::builder().path_and_query(pq).build().map(Some).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use policy::{AuthMethod, Factor, LoginMethod, Role};

    /// `upstream_request_filter` makes these names header values with `from_static`,
    /// which panics on a byte a header cannot carry: every one must be plain ASCII.
    #[test]
    fn role_and_method_names_are_static_header_values() {
        let factors = [
            None,
            Some(Factor::Sms),
            Some(Factor::Totp),
            Some(Factor::Recovery),
            Some(Factor::Remembered),
            Some(Factor::Line),
        ];
        let mut names: Vec<&str> = [Role::User, Role::Admin, Role::Owner].iter().map(|r| r.as_str()).collect();
        for login in [LoginMethod::Password, LoginMethod::Federated] {
            for factor in factors {
                names.push(AuthMethod { login, factor, provider: None }.as_str());
            }
        }
        for n in names {
            assert!(!n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic()), "{n:?}");
            assert_eq!(http::HeaderValue::from_static(n), n);
        }
    }
}
