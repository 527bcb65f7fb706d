//! Reading `application/x-www-form-urlencoded` bodies, with a size cap.

use super::request::{Body, Request};

#[derive(Debug, PartialEq, Eq)]
pub enum FormError {
    TooLarge,
    WrongType,
    /// A name or value that is not UTF-8 once decoded: refused rather than read
    /// lossily, where different bytes could read as the same text.
    Malformed,
}

#[derive(Clone, Debug)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// The first value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every pair, in the order sent.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// The settings page that takes many lines or networks at once: up to
/// [`BULK_ROWS`] a submission need more than a login form's cap.
pub const BULK_FORM_PATH: &str = "/auth/settings/lines";
pub const BULK_ROWS: usize = 1000;
/// 1000 IPv6 networks, URL-encoded, with room to spare.
const BULK_FORM_BYTES: usize = 64 * 1024;

/// The largest body read for a POST to `path`: the login's cap
/// (`login.max_body_bytes`) everywhere but the bulk form, which may have more.
pub fn body_cap(cfg: &config::GatewayConfig, path: &str) -> usize {
    if path == BULK_FORM_PATH { cfg.login.max_body_bytes.max(BULK_FORM_BYTES) } else { cfg.login.max_body_bytes }
}

/// The form of a POST the proxy read: the content type must be a web form,
/// the body within `max` bytes and every field UTF-8.
pub fn from_request(req: &Request, max: usize) -> std::result::Result<Form, FormError> {
    let ctype = req.header(http::header::CONTENT_TYPE).unwrap_or("");
    if !ctype.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(FormError::WrongType);
    }
    match &req.body {
        Body::Read(bytes) => parse(bytes, max),
        Body::TooLarge => Err(FormError::TooLarge),
        Body::None => Ok(Form(Vec::new())),
    }
}

/// Parses a whole urlencoded body of at most `max` bytes; pure, so that it can
/// be tested and fuzzed without a connection.
pub fn parse(body: &[u8], max: usize) -> std::result::Result<Form, FormError> {
    if body.len() > max {
        return Err(FormError::TooLarge);
    }
    let mut pairs = Vec::new();
    // Decoded as form_urlencoded::parse does, but bad UTF-8 is refused where it would be replaced.
    for piece in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match piece.iter().position(|b| *b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &b""[..]),
        };
        pairs.push((decode(name)?, decode(value)?));
    }
    Ok(Form(pairs))
}

fn decode(raw: &[u8]) -> std::result::Result<String, FormError> {
    let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    String::from_utf8(percent_encoding::percent_decode(&spaced).collect()).map_err(|_| FormError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_in_order_first_value_wins() {
        let f = parse(b"csrf=t&email=a%40b.net&password=p+w%C3%A4&csrf=other", 100).unwrap();
        assert_eq!(f.get("email"), Some("a@b.net"));
        assert_eq!(f.get("password"), Some("p w\u{e4}"));
        assert_eq!(f.get("csrf"), Some("t"));
        assert_eq!(f.pairs().len(), 4);
    }

    #[test]
    fn caps_the_size() {
        assert_eq!(parse(&[b'a'; 101], 100).err(), Some(FormError::TooLarge));
        assert!(parse(&[b'a'; 100], 100).is_ok());
    }

    #[test]
    fn refuses_fields_that_are_not_utf8() {
        // Read lossily, %FF and %FE would both become U+FFFD: two different
        // passwords (or tokens) would compare equal.
        for body in [&b"password=%FF"[..], b"password=%FE", b"%C3=x", b"p=\xff"] {
            assert!(parse(body, 100).is_err(), "{body:?}");
        }
    }
}
