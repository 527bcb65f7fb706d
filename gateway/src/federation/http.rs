//! The HTTP client the protocol speaks through: rustls with Mozilla's roots,
//! no redirects followed, a deadline and a size cap on every answer, and the
//! https-or-loopback rule on every URL it is asked to fetch, including the
//! ones a provider's discovery document names.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;

/// A provider that does not answer within this is unavailable, not slow.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Discovery documents, key sets and tokens are small.
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Insecure(String),
    #[error("the request could not be built: {0}")]
    Request(String),
    #[error("no answer within {} s", TIMEOUT.as_secs())]
    Timeout,
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("the answer is larger than {MAX_BODY} bytes or broken")]
    Body,
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

#[derive(Clone)]
pub struct HttpClient {
    /// For operators' providers: any address.
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// For what a tenant's owner entered: names resolve to public addresses only.
    outside: Client<HttpsConnector<HttpConnector<OutsideOnly>>, Full<Bytes>>,
}

/// A resolver that drops loopback, private and link-local addresses, so a
/// directory's hostname cannot lead the gateway to itself or its network,
/// whatever its DNS says when the connection is made.
#[derive(Clone)]
pub struct OutsideOnly;

impl tower_service::Service<Name> for OutsideOnly {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let outside: Vec<SocketAddr> = found.filter(|a| !config::is_internal_ip(a.ip())).collect();
            if outside.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "the name resolves to internal addresses only",
                ));
            }
            Ok(outside.into_iter())
        })
    }
}

impl HttpClient {
    /// Connections are not pooled: a pooled connection belongs to the runtime
    /// that opened it, which may be another Pingora service's.
    pub fn new() -> Result<HttpClient, HttpError> {
        let tls = || {
            HttpsConnectorBuilder::new()
                .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
                .map_err(|e| HttpError::Tls(e.to_string()))
        };
        let connector = tls()?.https_or_http().enable_http1().build();
        let mut outside_http = HttpConnector::new_with_resolver(OutsideOnly);
        outside_http.enforce_http(false);
        let outside = tls()?.https_only().enable_http1().wrap_connector(outside_http);
        let build = || Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).to_owned();
        Ok(HttpClient { client: build().build(connector), outside: build().build(outside) })
    }

    /// Sends `req` and reads the whole answer (at most [`MAX_BODY`]).
    /// `loopback`: whether this provider may live on a loopback address
    /// (operators' providers may, for tests; tenants' directories may not).
    pub async fn call(
        &self,
        req: http::Request<Vec<u8>>,
        loopback: bool,
    ) -> Result<http::Response<Vec<u8>>, HttpError> {
        config::check_url_for(&req.uri().to_string(), loopback).map_err(HttpError::Insecure)?;
        let (parts, body) = req.into_parts();
        let req = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let work = async {
            let sent = if loopback { self.client.request(req).await } else { self.outside.request(req).await };
            let resp = sent.map_err(|e| HttpError::Unreachable(e.to_string()))?;
            let (parts, body) = resp.into_parts();
            let bytes = Limited::new(body, MAX_BODY).collect().await.map_err(|_| HttpError::Body)?.to_bytes();
            Ok(http::Response::from_parts(parts, bytes.to_vec()))
        };
        tokio::time::timeout(TIMEOUT, work).await.map_err(|_| HttpError::Timeout)?
    }
}
