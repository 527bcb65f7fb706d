//! The production transport: one HTTP POST per message to the SMS provider.

use std::time::Duration;

use bytes::Bytes;
use config::WebhookSettings;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Uri};
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::{SmsError, SmsMessage};

/// Long enough for a slow provider, short enough that a login page waiting on
/// the send does not hang.
const TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Webhook {
    url: Uri,
    headers: HeaderMap,
    template: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Webhook {
    pub(super) fn new(s: &WebhookSettings) -> Result<Webhook, SmsError> {
        let url: Uri = s.url.parse().map_err(|_| SmsError::Url)?;
        if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
            return Err(SmsError::Url);
        }
        // Checked now with stand-in values: a template that cannot become
        // JSON would otherwise fail on every message.
        let probe = SmsMessage { to: "+0".into(), body: "\"x\"\n".into(), code: "000000".into() };
        serde_json::from_str::<serde::de::IgnoredAny>(&render(&s.body_template, &probe)).map_err(SmsError::Template)?;
        Ok(Webhook {
            url,
            headers: headers(s)?,
            template: s.body_template.clone(),
            client: client(s.ca_file.as_ref())?,
        })
    }

    pub(super) async fn post(&self, msg: &SmsMessage) -> Result<(), SmsError> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .body(Full::new(Bytes::from(render(&self.template, msg))))
            .map_err(SmsError::Request)?;
        *request.headers_mut() = self.headers.clone();
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| SmsError::Timeout(TIMEOUT.as_secs()))?
            .map_err(SmsError::Unreachable)?;
        // The body is not read: a provider's error text may quote the message.
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(SmsError::Status { status: status.as_u16() }) }
    }
}

/// The configured headers, marked sensitive so that `http` hides them from
/// `Debug`, plus a JSON content type unless one is configured.
fn headers(s: &WebhookSettings) -> Result<HeaderMap, SmsError> {
    let mut map = HeaderMap::new();
    for (name, value) in &s.headers {
        let header =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| SmsError::HeaderName { name: name.clone() })?;
        let mut value =
            HeaderValue::from_str(value.expose()).map_err(|_| SmsError::HeaderValue { name: name.clone() })?;
        value.set_sensitive(true);
        map.insert(header, value);
    }
    if !map.contains_key(CONTENT_TYPE) {
        map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Ok(map)
}

/// rustls with the ring provider given explicitly (not the process-wide
/// default, which nothing else installs) and Mozilla's roots, as for mail; with
/// `sms.webhook.ca_file`, that file's authorities only.
/// Connections are not pooled: SMS are rare, and a pooled connection belongs
/// to the runtime that opened it, which may be another service's.
fn client(ca: Option<&config::CaFile>) -> Result<Client<HttpsConnector<HttpConnector>, Full<Bytes>>, SmsError> {
    let provider = rustls::crypto::ring::default_provider();
    let builder = match ca {
        None => HttpsConnectorBuilder::new().with_provider_and_webpki_roots(provider).map_err(SmsError::Tls)?,
        Some(ca) => {
            let roots = crate::tls_roots::from_ca_file(ca).map_err(SmsError::Tls)?;
            let tls = rustls::ClientConfig::builder_with_provider(provider.into())
                .with_safe_default_protocol_versions()
                .map_err(SmsError::Tls)?
                .with_root_certificates(roots)
                .with_no_client_auth();
            HttpsConnectorBuilder::new().with_tls_config(tls)
        }
    };
    let connector = builder.https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build(connector))
}

/// Fills `{to}`, `{body}` and `{code}` in one pass, each value escaped for a
/// JSON string: a body with quotes stays valid JSON, and a value that itself
/// contains `{code}` is never expanded a second time.
pub(super) fn render(template: &str, msg: &SmsMessage) -> String {
    let fields = [("{to}", &msg.to), ("{body}", &msg.body), ("{code}", &msg.code)];
    let mut out = String::with_capacity(template.len() + msg.body.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        match fields.iter().find(|(p, _)| tail.starts_with(p)) {
            Some((p, value)) => {
                push_json_escaped(&mut out, value);
                rest = &tail[p.len()..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The inside of a JSON string (RFC 8259 §7); U+2028/2029 escaped as well so
/// the result is also safe inside JavaScript.
fn push_json_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
}
