//! A stand-in storage origin for the demo and the end-to-end tests: it answers
//! every request with what it received, so the identity headers can be seen.

use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

/// The demo origin. With a log file, every request it receives is appended to it
/// as one JSON line, so the attack suite can prove that nothing reached it.
#[derive(Default)]
pub struct DemoOrigin {
    pub log: Option<std::path::PathBuf>,
}

impl DemoOrigin {
    fn record(&self, method: &str, path: &str, headers: &[(String, String)]) {
        use std::io::Write;
        let Some(log) = &self.log else { return };
        let line = serde_json::json!({ "method": method, "path": path, "headers": headers }).to_string();
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
        if let Err(e) = written {
            tracing::warn!(error = %e, "demo origin could not write its request log");
        }
    }
}

#[async_trait]
impl ServeHttp for DemoOrigin {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let req = session.req_header();
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let path = req.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").to_owned();
        let method = req.method.as_str().to_owned();
        self.record(&method, &path, &headers);
        let html = req
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
        let (ctype, body) = if html {
            let shown: Vec<(&str, &str)> = headers
                .iter()
                .filter(|(k, _)| k.starts_with("x-auth-") || k == "x-forwarded-for")
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let ui = crate::ui::html::Ui::plain(crate::ui::lang::Lang::En, "Demo storage");
            ("text/html; charset=utf-8", crate::ui::pages::demo_origin(&ui, &method, &path, shown))
        } else {
            let json = serde_json::json!({ "method": method, "path": path, "headers": headers });
            ("application/json", json.to_string())
        };
        let body = body.into_bytes();
        Response::builder()
            .status(200)
            .header(http::header::CONTENT_TYPE, ctype)
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(body)
            .unwrap_or_default()
    }
}
