//! The adapter between Pingora and the auth UI's web layer: the request head
//! is copied into a `web::Request`, a POST's body read once (size-capped), the
//! route table run, and the reply written. Nothing past here sees Pingora.

use pingora::prelude::*;
use pingora::proxy::Session;

use super::respond::send;
use crate::app::App;
use crate::web::{self, Body, Facts};

pub async fn serve(app: &App, session: &mut Session, facts: Facts) -> Result<bool> {
    let head = session.req_header();
    let mut req = web::Request::new(head.method.clone(), head.uri.clone(), head.headers.clone());
    if req.method == http::Method::POST {
        // Bounded like the header: over HTTP/2 nothing else times a body out,
        // and a stranger could hold a stream (and its task) open for ever.
        let deadline = app.cfg.connections.header_timeout;
        req.body =
            match tokio::time::timeout(deadline, read_body(session, web::form::body_cap(&app.cfg, req.path()))).await {
                Ok(body) => body?,
                Err(_) => return Error::e_explain(ErrorType::ReadTimedout, "the form's body did not arrive in time"),
            };
    }
    let reply = web::handle(app, crate::auth::routes::ROUTES, req, facts).await;
    send(session, reply).await
}

/// The whole body up to `max` bytes. A declared or actual length past it stops
/// the reading: the form is refused unread.
async fn read_body(session: &mut Session, max: usize) -> Result<Body> {
    let declared = session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Ok(Body::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = session.read_request_body().await? {
        if body.len() + chunk.len() > max {
            return Ok(Body::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Body::Read(body))
}
