//! Server-rendered pages: one layout, escaped text, no JavaScript.

use super::lang::Lang;

/// The text in the page's language.
pub fn t(lang: Lang, en: &'static str, ja: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

pub const STYLE: &str = "body{font-family:system-ui,'Hiragino Sans','Noto Sans JP',sans-serif;margin:0;background:#f4f5f7;color:#1d2430}\
main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px #0002}\
h1{font-size:1.35rem;margin-top:0}h2{font-size:1.05rem;margin:1.5rem 0 .5rem}label{display:block;margin:1rem 0 .25rem;font-weight:600}\
input[type=email],input[type=password],input[type=text],input[type=tel],select{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #9aa3b0;border-radius:4px}\
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:4px;background:#1f5fbf;color:#fff;cursor:pointer}\
.error{background:#fdecec;border-left:4px solid #c62828;padding:.6rem .8rem;margin:1rem 0}\
.ok{background:#e8f5e9;border-left:4px solid #2e7d32;padding:.6rem .8rem;margin:1rem 0}\
.field-error{color:#c62828;font-size:.9rem;margin:.25rem 0 0}\
.other-ways{margin-top:1.5rem;border-top:1px solid #e1e4e8;padding-top:.5rem}\
a.button{display:block;text-align:center;padding:.6rem 1.2rem;border:1px solid #1f5fbf;border-radius:4px;color:#1f5fbf;text-decoration:none}\
input:not([type]){width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #9aa3b0;border-radius:4px}\
.hint{color:#4a5566;font-size:.9rem}ol,ul{padding-left:1.3rem}li{margin:.3rem 0}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem;border-bottom:1px solid #e1e4e8;font-size:.9rem}\
nav.lang{text-align:right;font-size:.85rem}footer{margin-top:2rem;font-size:.8rem;color:#6b7585}\
@media (max-width:36rem){main{margin:0;border-radius:0;min-height:100vh}}";

/// What every page needs to know about who it is for.
#[derive(Debug, Clone)]
pub struct Ui<'a> {
    pub lang: Lang,
    pub product: &'a str,
    /// This page in the other language (`?lang=…` added to the current URL).
    pub switch_href: String,
}

impl<'a> Ui<'a> {
    /// A page outside the auth UI (refusals written by the proxy).
    pub fn plain(lang: Lang, product: &'a str) -> Ui<'a> {
        Ui { lang, product, switch_href: format!("?lang={}", lang.other().code()) }
    }

    pub fn t(&self, en: &'static str, ja: &'static str) -> &'static str {
        t(self.lang, en, ja)
    }

    pub fn style(&self) -> &'static str {
        STYLE
    }

    /// The other language's own name, for the switch link.
    pub fn other_language_name(&self) -> &'static str {
        match self.lang {
            Lang::Ja => "English",
            Lang::En => "日本語",
        }
    }
}

/// `YYYY-MM-DD HH:MM` in UTC, for lists and the audit log.
pub fn date(t: i64) -> String {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", secs / 3600, secs % 3600 / 60)
}
