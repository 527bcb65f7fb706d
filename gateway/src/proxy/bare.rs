//! Pingora's own answers, which no phase of ours sees: the 400 for a request
//! head it cannot parse and the 405 for `CONNECT`, both written by its
//! HTTP/1 loop before `request_filter` with `Server: Pingora` and none of the
//! headers every answer of ours carries. `limits::Deadlined`, the stream
//! under that loop, hands each write's first bytes to [`BareAnswers::instead`]
//! and writes the gateway's own answer in place of such a head.
//!
//! Only Pingora's pre-generated error head matches (the status, `Server:
//! Pingora`, its `Cache-Control` and an empty body): an origin's answer passes
//! untouched unless it is byte for byte that same bodiless error.

use bytes::Bytes;

use super::respond::EVERY_ANSWER;
use crate::ui::html::Ui;
use crate::ui::pages;

/// What the proxy passes on; the 405 for `CONNECT` must name them (RFC 9110).
const ALLOWED_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

pub struct BareAnswers {
    plain: Answers,
    /// The same with HSTS, for connections over TLS (when `tls.hsts_max_age` is set).
    tls: Answers,
}

struct Answers {
    bad_request: Bytes,
    method_not_allowed: Bytes,
}

impl Answers {
    fn new(ui: &Ui<'_>, hsts: Option<&str>) -> Answers {
        let what = ui.t("The request could not be read.", "リクエストを読み取れませんでした。");
        let hsts: Vec<(&str, &str)> = hsts.map(|v| ("strict-transport-security", v)).into_iter().collect();
        let mut with_allow = hsts.clone();
        with_allow.push(("allow", ALLOWED_METHODS));
        Answers {
            bad_request: whole(400, "Bad Request", "text/html; charset=utf-8", &hsts, &pages::bad_request(ui, what)),
            method_not_allowed: whole(
                405,
                "Method Not Allowed",
                "text/plain; charset=utf-8",
                &with_allow,
                "method not allowed\n",
            ),
        }
    }
}

impl BareAnswers {
    /// The pages in the default language: a head that could not be parsed
    /// has no `Accept-Language` to go by.
    pub fn new(cfg: &config::GatewayConfig) -> BareAnswers {
        let ui = Ui::plain(cfg.ui.default_language.into(), &cfg.ui.product_name);
        let hsts = cfg.tls.as_ref().and_then(|t| t.hsts_value());
        BareAnswers { plain: Answers::new(&ui, None), tls: Answers::new(&ui, hsts.as_deref()) }
    }

    /// The answer to write instead of `written`, when `written` starts one
    /// of Pingora's bare error answers.
    pub fn instead(&self, written: &[u8], over_tls: bool) -> Option<&Bytes> {
        let status = pingora_error_status(written)?;
        let answers = if over_tls { &self.tls } else { &self.plain };
        match status {
            400 => Some(&answers.bad_request),
            405 => Some(&answers.method_not_allowed),
            _ => None,
        }
    }
}

/// The status of a Pingora pre-generated error head (`gen_error_response`).
fn pingora_error_status(written: &[u8]) -> Option<u16> {
    // The cheap test first: this runs on every write of a response head.
    let rest = written.strip_prefix(b"HTTP/1.1 ").or_else(|| written.strip_prefix(b"HTTP/1.0 "))?;
    let status = match rest.get(..4)? {
        b"400 " => 400,
        b"405 " => 405,
        _ => return None,
    };
    let end = written.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = &written[..end + 2];
    let has = |line: &[u8]| head.windows(line.len()).any(|w| w.eq_ignore_ascii_case(line));
    (has(b"\r\nserver: pingora\r\n")
        && has(b"\r\ncache-control: private, no-store\r\n")
        && has(b"\r\ncontent-length: 0\r\n"))
    .then_some(status)
}

/// A whole HTTP/1.1 answer that closes the connection.
fn whole(status: u16, reason: &str, content_type: &str, extra: &[(&str, &str)], body: &str) -> Bytes {
    let mut out =
        format!("HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in EVERY_ANSWER.iter().chain(extra) {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("connection: close\r\n\r\n");
    out.push_str(body);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pingoras_bare_errors_are_replaced() {
        let b = BareAnswers::new(&config::GatewayConfig::default());
        let bare = b"HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\nCache-Control: private, no-store\r\nConnection: close\r\n\r\n";
        let page = b.instead(bare, false).expect("replaced");
        let text = std::str::from_utf8(page).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(text.contains("x-frame-options: DENY\r\n") && text.contains("content-security-policy: "));
        assert!(!text.to_ascii_lowercase().contains("pingora"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}\r", body.len())));
        let connect = b"HTTP/1.1 405 Method Not Allowed\r\nserver: Pingora\r\ncontent-length: 0\r\ncache-control: private, no-store\r\n\r\n";
        assert!(std::str::from_utf8(b.instead(connect, false).unwrap()).unwrap().contains("allow: GET, HEAD"));
        // An origin's own answers pass.
        for passes in [
            &b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\nCache-Control: private, no-store\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nContent-Length: 12\r\nCache-Control: private, no-store\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nServer: Pingora\r\nContent-Length: 0\r\nCache-Control: private, no-store\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nContent-Length: 0\r\n",
            b"body bytes",
        ] {
            assert!(b.instead(passes, false).is_none(), "{}", String::from_utf8_lossy(passes));
        }
        assert!(!String::from_utf8_lossy(b.instead(bare, true).unwrap()).contains("strict-transport-security"));
        let mut cfg = config::GatewayConfig::default();
        let tls = r#"{"listen": "127.0.0.1:8443", "hsts_max_age": 300, "certificates": []}"#;
        cfg.tls = Some(serde_json::from_str(tls).unwrap());
        let b = BareAnswers::new(&cfg);
        let over_tls = String::from_utf8_lossy(b.instead(connect, true).unwrap()).into_owned();
        assert!(over_tls.contains("strict-transport-security: max-age=300\r\n"), "{over_tls}");
        assert!(!String::from_utf8_lossy(b.instead(bare, false).unwrap()).contains("strict-transport"));
    }
}
