//! The SMS webhook against a real HTTP server on a loopback port: what the
//! provider receives, and what a refusal looks like to the gateway.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use config::{Secret, SmsSettings, SmsTransport, WebhookSettings};
use gateway::sms::{SmsError, SmsMessage, SmsSender};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
        let (mut stream, _) = listener.accept().await.unwrap();
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
        let _ = tx.send(Received { request_line, headers, body });
    });
    (addr, rx)
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
