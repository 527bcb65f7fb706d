//! Answers written by the gateway itself. Each carries Content-Length, so the
//! connection stays open (Pingora closes it after a body of unknown length), and
//! never `respond_error`, which turns keep-alive off.

use pingora::http::ResponseHeader;
use pingora::prelude::*;
use pingora::proxy::Session;

pub use crate::web::Reply;

/// The headers on every answer the gateway writes itself (also the ones that
/// stand in for Pingora's bare answers, `proxy::bare`).
pub const EVERY_ANSWER: &[(&str, &str)] = &[
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
    ),
];

pub async fn send(session: &mut Session, reply: Reply) -> Result<bool> {
    let mut h = ResponseHeader::build(reply.status, Some(8 + reply.headers.len()))?;
    h.insert_header("content-type", reply.content_type)?;
    h.insert_header("content-length", reply.body.len().to_string())?;
    for (name, value) in EVERY_ANSWER {
        h.insert_header(*name, *value)?;
    }
    for (name, value) in reply.headers {
        h.append_header(name, value)?;
    }
    let head_only = session.req_header().method == http::Method::HEAD;
    let empty = reply.body.is_empty() || head_only;
    session.write_response_header(Box::new(h), empty).await?;
    if !empty {
        session.write_response_body(Some(reply.body), true).await?;
    }
    Ok(true)
}
