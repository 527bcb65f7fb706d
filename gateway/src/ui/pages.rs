//! Pages the proxy answers with on its own: refusals and errors. Each is a
//! template under `templates/pages/`; they return the whole page as text
//! because the proxy and the web layer both send them.

use askama::Template;
use policy::DenyKind;

use super::html::Ui;

/// A title and one sentence: most refusals.
#[derive(Template)]
#[template(path = "pages/message.html")]
struct Message<'a> {
    ui: &'a Ui<'a>,
    title: &'a str,
    text: &'a str,
}

#[derive(Template)]
#[template(path = "pages/line_auth_failed.html")]
struct LineAuthFailed<'a> {
    ui: &'a Ui<'a>,
    title: &'a str,
}

#[derive(Template)]
#[template(path = "pages/form_expired.html")]
struct FormExpired<'a> {
    ui: &'a Ui<'a>,
    title: &'a str,
}

#[derive(Template)]
#[template(path = "pages/demo_origin.html")]
struct DemoOrigin<'a> {
    ui: &'a Ui<'a>,
    title: &'a str,
    method: &'a str,
    path: &'a str,
    headers: Vec<(&'a str, &'a str)>,
}

/// A page whose template failed (only a failing `Display` can do that):
/// logged, and a bare page stands in.
fn rendered(page: &impl Template) -> String {
    page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a page could not be rendered");
        String::from("<!doctype html><title>Error</title><p>This page could not be shown.</p>")
    })
}

fn message(ui: &Ui<'_>, title: &str, text: &str) -> String {
    rendered(&Message { ui, title, text })
}

pub fn denied(ui: &Ui<'_>, kind: DenyKind) -> String {
    match kind {
        DenyKind::LineRequired => line_auth_failed(ui),
        DenyKind::PathRule => message(
            ui,
            ui.t("This address is not available", "このアドレスはご利用いただけません"),
            ui.t(
                "The service does not offer this address to anyone. If you followed a link, it may be out of date.",
                "このアドレスは提供されていません。リンクからお越しの場合は、リンクが古くなっている可能性があります。",
            ),
        ),
        DenyKind::Role => message(
            ui,
            ui.t("You do not have access to this page", "このページへのアクセス権がありません"),
            ui.t(
                "This page is for users with a higher role in your organisation. Ask your organisation's administrator if you need it.",
                "このページは、組織内でより上位の権限を持つユーザー向けです。必要な場合は組織の管理者にお問い合わせください。",
            ),
        ),
    }
}

pub fn line_auth_failed(ui: &Ui<'_>) -> String {
    rendered(&LineAuthFailed { ui, title: ui.t("Line authentication failed", "回線認証に失敗しました") })
}

pub fn misdirected(ui: &Ui<'_>) -> String {
    message(
        ui,
        ui.t("Unknown address", "不明なアドレス"),
        ui.t(
            "This server does not serve the host name in your request.",
            "このサーバーは、リクエストされたホスト名を扱っていません。",
        ),
    )
}

/// `what` says what could not be read; it is text, escaped by the template.
pub fn bad_request(ui: &Ui<'_>, what: &str) -> String {
    message(ui, ui.t("The request could not be read", "リクエストを読み取れませんでした"), what)
}

/// A form whose CSRF token or origin did not check out.
pub fn form_expired(ui: &Ui<'_>) -> String {
    rendered(&FormExpired { ui, title: ui.t("The form has expired", "フォームの有効期限が切れました") })
}

/// The demo origin's page: what the gateway told it about the request.
pub fn demo_origin(ui: &Ui<'_>, method: &str, path: &str, headers: Vec<(&str, &str)>) -> String {
    rendered(&DemoOrigin { ui, title: "Welcome to the storage origin", method, path, headers })
}

pub fn not_found(ui: &Ui<'_>) -> String {
    message(
        ui,
        ui.t("Page not found", "ページが見つかりません"),
        ui.t("There is no page at this address.", "このアドレスにページはありません。"),
    )
}

pub fn unavailable(ui: &Ui<'_>) -> String {
    message(
        ui,
        ui.t("The service is temporarily unavailable", "一時的にご利用いただけません"),
        ui.t(
            "The sign-in service cannot reach its database right now. Please try again in a moment.",
            "現在、認証サービスがデータベースに接続できません。しばらくしてから再度お試しください。",
        ),
    )
}

/// 502: the origin refused the connection or broke off.
pub fn origin_unreachable(ui: &Ui<'_>) -> String {
    message(
        ui,
        ui.t("The service cannot be reached", "サービスに接続できません"),
        ui.t(
            "The service behind the sign-in could not be reached. Please try again in a moment.",
            "認証の先にあるサービスに接続できませんでした。しばらくしてから再度お試しください。",
        ),
    )
}

/// 504: the origin took longer than `origin_timeouts` allows.
pub fn origin_timeout(ui: &Ui<'_>) -> String {
    message(
        ui,
        ui.t("The service is taking too long", "サービスの応答に時間がかかっています"),
        ui.t(
            "The service behind the sign-in did not answer in time. Please try again in a moment.",
            "認証の先にあるサービスが時間内に応答しませんでした。しばらくしてから再度お試しください。",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::lang::Lang;

    #[test]
    fn both_languages_and_escaped_details() {
        for (lang, code) in [(Lang::En, "lang=\"en\""), (Lang::Ja, "lang=\"ja\"")] {
            let ui = Ui::plain(lang, "Acme <Drive>");
            let page = bad_request(&ui, "<script>");
            assert!(page.contains(code));
            assert!(page.contains("Acme &#60;Drive&#62;") || page.contains("Acme &lt;Drive&gt;"), "{page}");
            assert!(!page.contains("<script>"));
            for kind in [DenyKind::LineRequired, DenyKind::PathRule, DenyKind::Role] {
                assert!(denied(&ui, kind).contains("</main>"));
            }
        }
        assert!(line_auth_failed(&Ui::plain(Lang::Ja, "x")).contains("CAF＋英数字10桁"));
        let (en, ja) = (Ui::plain(Lang::En, "x"), Ui::plain(Lang::Ja, "x"));
        assert!(origin_unreachable(&en).contains("cannot be reached"));
        assert!(origin_unreachable(&ja).contains("接続できません"));
        assert!(origin_timeout(&en).contains("too long"));
        assert!(origin_timeout(&ja).contains("時間内に応答しませんでした"));
    }
}
