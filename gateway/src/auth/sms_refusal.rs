//! What SMS may cost (SPEC 11: "SMS goes only to allowed country codes, within
//! a per-tenant daily budget"): a stranger who reaches the enrolment page must
//! not be able to send codes to premium numbers abroad, nor without end. The
//! refusal pages and their audit; the rule itself is `sms::country_allowed`
//! and the store's budget.

use askama::Template;

use super::Visit;
use crate::sms::{count_refusal, country_allowed};
use crate::ui::html::Ui;
use crate::web::Reply;

/// Who asked for the SMS.
pub struct Sender<'a> {
    pub tenant_id: i64,
    pub email: &'a str,
    /// Where "try again" leads, already query-encoded.
    pub rd_query: &'a str,
}

#[derive(Template)]
#[template(path = "auth/sms_refused.html")]
struct Refused<'a> {
    ui: Ui<'a>,
    title: &'static str,
    text: &'a str,
    back: String,
}

/// `Some(page)` when `phone` is outside the allowed countries; nothing is sent then.
pub async fn refuse_country(v: &Visit<'_>, who: &Sender<'_>, phone: &str) -> Option<Reply> {
    let allowed = &v.app.cfg.sms.allowed_country_codes;
    if country_allowed(phone, allowed) {
        return None;
    }
    refused(v, who, "country").await;
    let codes = allowed.iter().map(|c| format!("+{c}")).collect::<Vec<_>>().join(", ");
    let text = match v.lang {
        crate::ui::lang::Lang::Ja => format!(
            "この電話番号の国・地域にはSMSを送信できません。送信できるのは国番号 {codes} の番号のみです。別の携帯電話番号を入力するか、認証アプリをご利用ください。"
        ),
        crate::ui::lang::Lang::En => format!(
            "We cannot send text messages to this number's country. Codes go only to numbers with the country code {codes}. Enter another mobile number, or use an authenticator app."
        ),
    };
    Some(page(v, who, 400, &text))
}

/// Counts one SMS against the tenant's budget for today; `Some(page)` when it is
/// spent (nothing is sent then) or the count could not be taken.
pub async fn refuse_over_budget(v: &Visit<'_>, who: &Sender<'_>) -> Option<Reply> {
    match v.app.store.take_sms_budget(who.tenant_id, v.app.cfg.sms.daily_budget_per_tenant).await {
        Ok(true) => None,
        Ok(false) => {
            refused(v, who, "budget").await;
            let text = v.t(
                "Your organisation has sent as many text messages today as it may. Use an authenticator app or a recovery code, try again tomorrow, or ask your administrator.",
                "本日、組織で送信できるSMSの上限に達しました。認証アプリまたはリカバリーコードをご利用いただくか、明日あらためてお試しください。管理者にお問い合わせいただくこともできます。",
            );
            Some(page(v, who, 429, text))
        }
        Err(e) => {
            // Fail closed: an uncounted SMS is exactly what the budget is for.
            tracing::error!(error = %e, "could not count an SMS against the budget");
            Some(v.unavailable())
        }
    }
}

async fn refused(v: &Visit<'_>, who: &Sender<'_>, reason: &'static str) {
    count_refusal(reason);
    tracing::info!(tenant = who.tenant_id, reason, "SMS refused");
    let event = if reason == "country" { "sms_refused_country" } else { "sms_refused_budget" };
    v.audit(Some(who.tenant_id), Some(who.email), Some(who.email), event).await;
}

fn page(v: &Visit<'_>, who: &Sender<'_>, status: u16, text: &str) -> Reply {
    let view = Refused {
        ui: v.ui(),
        title: v.t("The code cannot be sent by SMS", "SMSで認証コードを送信できません"),
        text,
        back: format!("/auth/2fa?rd={}", who.rd_query),
    };
    match crate::web::page(status, &view) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = ?e, "the SMS refusal page could not be rendered");
            v.unavailable()
        }
    }
}
