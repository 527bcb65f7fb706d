//! Reading `application/x-www-form-urlencoded` bodies, with a size cap.

use pingora::prelude::*;
use pingora::proxy::Session;

pub enum FormError {
    TooLarge,
    WrongType,
}

#[derive(Clone)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Reads the whole body (only for requests the gateway answers itself: reading
/// consumes it). The outer error is the connection's; the inner one the form's.
pub async fn read(session: &mut Session, max: usize) -> Result<std::result::Result<Form, FormError>> {
    let req = session.req_header();
    let ctype = req.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ctype.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Ok(Err(FormError::WrongType));
    }
    let declared = req
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Ok(Err(FormError::TooLarge));
    }
    let mut body = Vec::new();
    while let Some(chunk) = session.read_request_body().await? {
        if body.len() + chunk.len() > max {
            return Ok(Err(FormError::TooLarge));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Ok(Form(form_urlencoded::parse(&body).into_owned().collect())))
}
