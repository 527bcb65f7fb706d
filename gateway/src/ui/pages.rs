//! Pages the proxy answers with on its own: refusals and errors.

use policy::DenyKind;

use super::html::{Ui, escape, page};

pub fn denied(ui: &Ui<'_>, kind: DenyKind) -> String {
    match kind {
        DenyKind::LineRequired => line_auth_failed(ui),
        DenyKind::PathRule => page(
            ui,
            ui.t("This address is not available", "このアドレスはご利用いただけません"),
            ui.t(
                "<p>The service does not offer this address to anyone. If you followed a link, it may be out of date.</p>",
                "<p>このアドレスは提供されていません。リンクからお越しの場合は、リンクが古くなっている可能性があります。</p>",
            ),
        ),
        DenyKind::Role => page(
            ui,
            ui.t("You do not have access to this page", "このページへのアクセス権がありません"),
            ui.t(
                "<p>This page is for users with a higher role in your organisation. Ask your organisation's administrator if you need it.</p>",
                "<p>このページは、組織内でより上位の権限を持つユーザー向けです。必要な場合は組織の管理者にお問い合わせください。</p>",
            ),
        ),
    }
}

pub fn line_auth_failed(ui: &Ui<'_>) -> String {
    page(
        ui,
        ui.t("Line authentication failed", "回線認証に失敗しました"),
        ui.t(
            "<p>Your organisation allows access to this service only from its registered carrier lines \
             or networks, and this connection was not recognised as one of them.</p>\
             <p>Please check:</p><ol>\
             <li>that you are connected through your organisation's registered line or network;</li>\
             <li>that your organisation's access route setting is what you expect \
             (\"line authentication only\" blocks access from the internet);</li>\
             <li>that the line number is registered correctly: CAF followed by 10 letters or digits, \
             or COP followed by 8.</li></ol>\
             <p class=\"hint\">Your organisation's administrator can check the registered lines and the access route.</p>",
            "<p>ご利用の組織では、登録済みの回線またはネットワークからのみアクセスできるよう設定されています。\
             今回の接続は登録済みの回線として確認できませんでした。</p>\
             <p>次の点をご確認ください。</p><ol>\
             <li>組織の登録済み回線またはネットワーク経由で接続していること</li>\
             <li>組織のアクセス経路の設定が想定どおりであること（「回線認証のみ」ではインターネットからアクセスできません）</li>\
             <li>回線番号が正しく登録されていること（CAF＋英数字10桁、またはCOP＋英数字8桁）</li></ol>\
             <p class=\"hint\">登録済みの回線とアクセス経路は、組織の管理者が確認できます。</p>",
        ),
    )
}

pub fn misdirected(ui: &Ui<'_>) -> String {
    page(
        ui,
        ui.t("Unknown address", "不明なアドレス"),
        ui.t(
            "<p>This server does not serve the host name in your request.</p>",
            "<p>このサーバーは、リクエストされたホスト名を扱っていません。</p>",
        ),
    )
}

pub fn bad_request(ui: &Ui<'_>, what: &str) -> String {
    page(
        ui,
        ui.t("The request could not be read", "リクエストを読み取れませんでした"),
        &format!("<p>{}</p>", escape(what)),
    )
}

pub fn not_found(ui: &Ui<'_>) -> String {
    page(
        ui,
        ui.t("Page not found", "ページが見つかりません"),
        ui.t("<p>There is no page at this address.</p>", "<p>このアドレスにページはありません。</p>"),
    )
}

pub fn unavailable(ui: &Ui<'_>) -> String {
    page(
        ui,
        ui.t("The service is temporarily unavailable", "一時的にご利用いただけません"),
        ui.t(
            "<p>The sign-in service cannot reach its database right now. Please try again in a moment.</p>",
            "<p>現在、認証サービスがデータベースに接続できません。しばらくしてから再度お試しください。</p>",
        ),
    )
}
