//! What a handler sees of the HTTP request: method, URI, headers and, for a
//! POST, the body the proxy read (size-capped). No Pingora type crosses here,
//! so handlers run in unit tests without a connection.

use http::{HeaderMap, Method, Uri};

/// The body as the proxy's adapter read it.
#[derive(Debug, Clone, Default)]
pub enum Body {
    /// A GET or HEAD: nothing was read.
    #[default]
    None,
    Read(Vec<u8>),
    /// Longer than `login.max_body_bytes`: reading stopped there.
    TooLarge,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Body,
}

impl Request {
    pub fn new(method: Method, uri: Uri, headers: HeaderMap) -> Request {
        Request { method, uri, headers, body: Body::None }
    }

    pub fn path(&self) -> &str {
        self.uri.path()
    }

    pub fn path_and_query(&self) -> &str {
        self.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    }

    /// The value of one query parameter, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let q = self.uri.query()?;
        form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    /// Every `Cookie` header's bytes, for `session::read_cookie` and friends.
    pub fn cookie_headers(&self) -> impl Iterator<Item = &[u8]> {
        self.headers.get_all(http::header::COOKIE).iter().map(|v| v.as_bytes())
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        crate::session::cookie_value(self.cookie_headers(), name)
    }

    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_get(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD
    }
}
