//! Answers when a request cannot be proxied (Pingora's `fail_to_proxy`):
//! the origin refused the connection (502) or was too slow (504, after
//! `origin_timeouts`). A browser gets a page in its language, an API client
//! the plain status; both carry the headers of every answer of ours, never
//! Pingora's bare `Server: Pingora` error.
//!
//! Failures of the origin are logged through an [`Outage`]: one line when it
//! starts failing, repeats with back-off, one when it answers again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex};

use pingora::ErrorSource;
use pingora::prelude::*;
use pingora::proxy::{FailToProxy, Session};

use super::respond::{Reply, send};
use super::{ui_for, wants_page};
use crate::app::App;
use crate::outage::Outage;
use crate::ui::pages;

/// The status for a failure, as Pingora's default picks it except that an
/// origin out of time is 504 rather than 502. 0: the client is gone.
pub fn status_for(e: &Error) -> u16 {
    use pingora::ErrorType::*;
    match e.etype() {
        HTTPStatus(code) => *code,
        etype => match e.esource() {
            ErrorSource::Upstream => match etype {
                ConnectTimedout | ReadTimedout | WriteTimedout | TLSHandshakeTimedout => 504,
                _ => 502,
            },
            ErrorSource::Downstream => match etype {
                WriteError | ReadError | ConnectionClosed => 0,
                _ => 400,
            },
            ErrorSource::Internal | ErrorSource::Unset => 500,
        },
    }
}

static ORIGIN: LazyLock<Mutex<Outage>> = LazyLock::new(|| Mutex::new(Outage::new("reaching the origin")));
/// Read on every answer from the origin; the lock is taken only while failing.
static ORIGIN_FAILING: AtomicBool = AtomicBool::new(false);

/// An answer came from the origin: ends an outage, if one was logged.
pub fn origin_answered() {
    if ORIGIN_FAILING.load(Ordering::Relaxed) {
        let mut o = ORIGIN.lock().unwrap_or_else(|p| p.into_inner());
        o.ok();
        ORIGIN_FAILING.store(false, Ordering::Relaxed);
    }
}

fn origin_failed(e: &Error) {
    let mut o = ORIGIN.lock().unwrap_or_else(|p| p.into_inner());
    o.failed(e);
    ORIGIN_FAILING.store(true, Ordering::Relaxed);
}

pub async fn answer(app: &App, session: &mut Session, e: &Error) -> FailToProxy {
    let code = status_for(e);
    if *e.esource() == ErrorSource::Upstream {
        origin_failed(e);
    }
    // Part of the origin's answer is already on its way: nothing sensible
    // can follow it; the connection is closed.
    if code == 0 || session.response_written().is_some() {
        return FailToProxy { error_code: code, can_reuse_downstream: false };
    }
    // The request's body may be half read: the connection is not reused.
    session.set_keepalive(None);
    let req = session.req_header();
    let reply = match code {
        502 | 504 if wants_page(req) => {
            let ui = ui_for(app, req);
            let page = if code == 504 { pages::origin_timeout(&ui) } else { pages::origin_unreachable(&ui) };
            Reply::html(code, page)
        }
        502 => Reply::text(502, "bad gateway: the origin could not be reached\n"),
        504 => Reply::text(504, "gateway timeout: the origin did not answer in time\n"),
        400 => {
            let ui = ui_for(app, req);
            let what = ui.t("The request could not be read.", "リクエストを読み取れませんでした。");
            Reply::html(400, pages::bad_request(&ui, what))
        }
        503 => Reply::html(503, pages::unavailable(&ui_for(app, req))),
        other => Reply::text(other, "the request could not be completed\n"),
    };
    if let Err(e) = send(session, reply).await {
        tracing::debug!(error = %e, "the error answer could not be written");
    }
    FailToProxy { error_code: code, can_reuse_downstream: false }
}

/// Whether Pingora's own per-request error line is left out: failures of the
/// origin are logged by [`answer`] with back-off instead.
pub fn quiet(e: &Error) -> bool {
    *e.esource() == ErrorSource::Upstream
}

#[cfg(test)]
mod tests {
    use super::*;
    use pingora::ErrorType;

    #[test]
    fn statuses() {
        let up = |t| {
            let mut e = Error::new(t);
            e.as_up();
            e
        };
        assert_eq!(status_for(&up(ErrorType::ConnectRefused)), 502);
        assert_eq!(status_for(&up(ErrorType::ConnectTimedout)), 504);
        assert_eq!(status_for(&up(ErrorType::ReadTimedout)), 504);
        assert_eq!(status_for(&up(ErrorType::TLSHandshakeFailure)), 502);
        assert_eq!(status_for(&up(ErrorType::HTTPStatus(429))), 429);
        let mut down = Error::new(ErrorType::ConnectionClosed);
        down.as_down();
        assert_eq!(status_for(&down), 0);
        let mut bad = Error::new(ErrorType::InvalidHTTPHeader);
        bad.as_down();
        assert_eq!(status_for(&bad), 400);
        assert_eq!(status_for(&Error::new(ErrorType::InternalError)), 500);
    }
}
