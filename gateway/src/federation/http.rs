//! The HTTP client the protocol speaks through: rustls with Mozilla's roots,
//! no redirects followed, a deadline and a size cap on every answer, and the
//! https-or-loopback rule on every URL it is asked to fetch, including the
//! ones a provider's discovery document names.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
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
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HttpClient {
    /// Connections are not pooled: a pooled connection belongs to the runtime
    /// that opened it, which may be another Pingora service's.
    pub fn new() -> Result<HttpClient, HttpError> {
        let connector = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| HttpError::Tls(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpClient { client: Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build(connector) })
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
            let resp = self.client.request(req).await.map_err(|e| HttpError::Unreachable(e.to_string()))?;
            let (parts, body) = resp.into_parts();
            let bytes = Limited::new(body, MAX_BODY).collect().await.map_err(|_| HttpError::Body)?.to_bytes();
            Ok(http::Response::from_parts(parts, bytes.to_vec()))
        };
        tokio::time::timeout(TIMEOUT, work).await.map_err(|_| HttpError::Timeout)?
    }
}
