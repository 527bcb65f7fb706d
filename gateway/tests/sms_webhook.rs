//! The SMS webhook against a real HTTP server on a loopback port: what the
//! provider receives, and what a refusal looks like to the gateway.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use config::{Secret, SmsSettings, SmsTransport, WebhookSettings};
use gateway::sms::{SmsError, SmsMessage, SmsSender};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const PROVIDER_TEXT: &str = "provider says: rejected +819012345678 code 123456";

/// What the server saw: request line, lower-cased headers, body.
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Answers one request with `status` and a body that quotes the message, as
/// some providers do, then hands over what it received.
async fn one_shot_server(status: &'static str) -> (SocketAddr, oneshot::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let _ = tx.send(serve_one(stream, status).await);
    });
    (addr, rx)
}

/// [`one_shot_server`] over TLS with `config`. A failed handshake drops the
/// sender: the receiver then reports that nothing was received.
async fn one_shot_tls_server(
    status: &'static str,
    config: std::sync::Arc<rustls::ServerConfig>,
) -> (SocketAddr, oneshot::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        if let Ok(tls) = tokio_rustls::TlsAcceptor::from(config).accept(stream).await {
            let _ = tx.send(serve_one(tls, status).await);
        }
    });
    (addr, rx)
}

async fn serve_one<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, status: &str) -> Received {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the headers ended");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split_once(':').unwrap())
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize =
        headers.iter().find(|(n, _)| n == "content-length").map(|(_, v)| v.parse().unwrap()).unwrap_or(0);
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the body ended");
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8(buf[head_end..head_end + length].to_vec()).unwrap();
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PROVIDER_TEXT}",
        PROVIDER_TEXT.len()
    );
    stream.write_all(answer.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    Received { request_line, headers, body }
}

fn settings(url: String) -> SmsSettings {
    let headers = BTreeMap::from([
        ("Authorization".to_owned(), Secret::new("Bearer t0ken")),
        ("X-Api-Key".to_owned(), Secret::new("k3y")),
    ]);
    let hook = WebhookSettings {
        url,
        headers,
        body_template: r#"{"to":"{to}","text":"{body}","otp":"{code}","sender":"Acme"}"#.to_owned(),
        ca_file: None,
    };
    SmsSettings {
        transport: SmsTransport::Webhook,
        dir: "unused".into(),
        webhook: Some(hook),
        ..SmsSettings::default()
    }
}

fn message() -> SmsMessage {
    SmsMessage {
        to: "+819012345678".to_owned(),
        body: "Your \"Acme\" code is 123456\nDo not share it. C:\\path {code}".to_owned(),
        code: "123456".to_owned(),
    }
}

/// The error and everything below it, as an operator's log would show it.
fn chain(e: &SmsError) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

fn counted(result: &str) -> f64 {
    prometheus::gather()
        .iter()
        .filter(|f| f.name() == "gateway_sms_total")
        .flat_map(|f| f.get_metric().to_vec())
        .filter(|m| m.get_label().iter().any(|l| l.name() == "result" && l.value() == result))
        .map(|m| m.get_counter().value())
        .sum()
}

#[tokio::test]
async fn webhook_posts_the_filled_template_with_the_configured_headers() {
    let (addr, received) = one_shot_server("200 OK").await;
    let sender = SmsSender::new(&settings(format!("http://{addr}/v1/sms?account=7"))).unwrap();
    let msg = message();
    sender.send(&msg).await.unwrap();

    let r = received.await.unwrap();
    assert_eq!(r.request_line, "POST /v1/sms?account=7 HTTP/1.1");
    assert_eq!(r.header("authorization"), Some("Bearer t0ken"));
    assert_eq!(r.header("x-api-key"), Some("k3y"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("host"), Some(addr.to_string().as_str()));
    let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(json["to"], "+819012345678");
    assert_eq!(json["text"], msg.body.as_str());
    assert_eq!(json["otp"], "123456");
    assert_eq!(json["sender"], "Acme");
    assert_eq!(json.as_object().unwrap().len(), 4);
    assert!(counted("sent") >= 1.0);
}

#[tokio::test]
async fn a_500_answer_is_an_error_that_does_not_repeat_the_provider() {
    let (addr, received) = one_shot_server("500 Internal Server Error").await;
    let sender = SmsSender::new(&settings(format!("http://{addr}/sms"))).unwrap();
    let err = sender.send(&message()).await.unwrap_err();
    assert!(matches!(err, SmsError::Status { status: 500 }), "{err:?}");
    let shown = chain(&err);
    assert!(shown.contains("500"), "{shown}");
    for private in ["provider says", "+819012345678", "9012345678", "123456", "t0ken"] {
        assert!(!shown.contains(private), "{private:?} in {shown:?}");
        assert!(!format!("{err:?}").contains(private), "{private:?} in Debug");
    }
    assert!(received.await.is_ok(), "the request did reach the server");
    assert!(counted("failed") >= 1.0);
}

#[tokio::test]
async fn an_unreachable_webhook_is_an_error_without_the_number() {
    // A port that was just free: nothing listens there any more.
    let addr = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let sender = SmsSender::new(&settings(format!("http://{addr}/sms"))).unwrap();
    let err = sender.send(&message()).await.unwrap_err();
    assert!(matches!(err, SmsError::Unreachable(_)), "{err:?}");
    let shown = chain(&err);
    assert!(!shown.contains("9012345678") && !shown.contains("123456") && !shown.contains("t0ken"), "{shown}");
}

// ---------------------------------------------------------------------------
// An https webhook with a private CA (`sms.webhook.ca_file`)
// ---------------------------------------------------------------------------

#[path = "../../tests/support/test_ca.rs"]
mod test_ca;

fn with_ca(mut s: SmsSettings, ca: Option<&std::path::Path>) -> SmsSettings {
    if let Some(hook) = s.webhook.as_mut() {
        hook.ca_file = ca.map(|f| config::CaFile::read(f).unwrap());
    }
    s
}

#[tokio::test]
async fn an_https_webhook_with_a_private_ca_is_reached_with_the_ca_file() {
    let ca = test_ca::TestCa::new("SMS test CA");
    let cert = ca.server_cert(&["localhost"], "sms");
    let (addr, received) = one_shot_tls_server("200 OK", cert.rustls_server_config()).await;
    let url = format!("https://localhost:{}/v1/sms", addr.port());
    let sender = SmsSender::new(&with_ca(settings(url), Some(&ca.ca_file()))).unwrap();
    sender.send(&message()).await.unwrap_or_else(|e| panic!("{}", chain(&e)));
    let r = received.await.expect("the provider received the message");
    assert_eq!(r.request_line, "POST /v1/sms HTTP/1.1");
    assert_eq!(r.header("authorization"), Some("Bearer t0ken"));
}

#[tokio::test]
async fn an_https_webhook_whose_certificate_is_not_trusted_gets_nothing() {
    let ca = test_ca::TestCa::new("SMS test CA");
    let other = test_ca::TestCa::new("Another CA");
    let cert = ca.server_cert(&["localhost"], "sms");
    // No CA file: only the public roots; another CA file: only that CA.
    for ca_file in [None, Some(other.ca_file())] {
        let (addr, received) = one_shot_tls_server("200 OK", cert.rustls_server_config()).await;
        let url = format!("https://localhost:{}/v1/sms", addr.port());
        let sender = SmsSender::new(&with_ca(settings(url), ca_file.as_deref())).unwrap();
        let err = sender.send(&message()).await.unwrap_err();
        assert!(matches!(err, SmsError::Unreachable(_)), "{ca_file:?}: {err:?}");
        assert!(chain(&err).contains("UnknownIssuer"), "{ca_file:?}: {}", chain(&err));
        assert!(received.await.is_err(), "{ca_file:?}: the provider received the message");
    }
    // The right CA but a certificate for another name.
    let (addr, received) = one_shot_tls_server("200 OK", cert.rustls_server_config()).await;
    let url = format!("https://127.0.0.1:{}/v1/sms", addr.port());
    let sender = SmsSender::new(&with_ca(settings(url), Some(&ca.ca_file()))).unwrap();
    let err = sender.send(&message()).await.unwrap_err();
    assert!(chain(&err).contains("not valid for name"), "{}", chain(&err));
    assert!(received.await.is_err(), "the provider received the message");
}
