//! Server-rendered pages: one layout, escaped text, no JavaScript.

use std::fmt::Write;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2430}\
main{max-width:32rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px #0002}\
h1{font-size:1.35rem;margin-top:0}label{display:block;margin:1rem 0 .25rem;font-weight:600}\
input[type=email],input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #9aa3b0;border-radius:4px}\
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:4px;background:#1f5fbf;color:#fff;cursor:pointer}\
.error{background:#fdecec;border-left:4px solid #c62828;padding:.6rem .8rem;margin:1rem 0}\
.hint{color:#4a5566;font-size:.9rem}ol,ul{padding-left:1.3rem}li{margin:.3rem 0}footer{margin-top:2rem;font-size:.8rem;color:#6b7585}\
@media (max-width:36rem){main{margin:0;border-radius:0;min-height:100vh}}";

/// A whole page. `title` and `product` are escaped here; `body` is trusted HTML
/// built by the callers from escaped parts.
pub fn page(product: &str, title: &str, body: &str) -> String {
    let mut s = String::with_capacity(body.len() + 2048);
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{t} - {p}</title><style>{STYLE}</style></head><body><main>\
         <h1>{t}</h1>{body}<footer>{p}</footer></main></body></html>",
        t = escape(title),
        p = escape(product),
    );
    s
}
