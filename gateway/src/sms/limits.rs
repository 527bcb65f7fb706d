//! What SMS may cost (SPEC 11: "SMS goes only to allowed country codes, within
//! a per-tenant daily budget"): a stranger who reaches the enrolment page must
//! not be able to send codes to premium numbers abroad, nor without end.
//! Refusals are audited and counted in `gateway_sms_refused_total{reason}`.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, Opts};

use crate::auth::Visit;
use crate::ui::html::{error_box, escape};
use crate::web::Reply;

static REFUSED: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    let opts = Opts::new("gateway_sms_refused_total", "SMS not sent: country not allowed, or daily budget spent.");
    let c = IntCounterVec::new(opts, &["reason"]).ok()?;
    let _ = prometheus::register(Box::new(c.clone()));
    Some(c)
});

pub(super) fn init() {
    if let Some(c) = REFUSED.as_ref() {
        for r in ["country", "budget"] {
            let _ = c.with_label_values(&[r]);
        }
    }
}

/// Whether an E.164 number (`+81…`) is in one of the allowed country codes.
/// Country codes are prefix-free, so a plain prefix test is exact.
pub fn country_allowed(e164: &str, allowed: &[String]) -> bool {
    let Some(digits) = e164.strip_prefix('+') else { return false };
    allowed.iter().any(|code| !code.is_empty() && digits.starts_with(code.as_str()))
}

/// Who asked for the SMS.
pub struct Sender<'a> {
    pub tenant_id: i64,
    pub email: &'a str,
    /// Where "try again" leads, already query-encoded.
    pub rd_query: &'a str,
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
    Some(Reply::html(400, page(v, who, &text)))
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
            Some(Reply::html(429, page(v, who, text)))
        }
        Err(e) => {
            // Fail closed: an uncounted SMS is exactly what the budget is for.
            tracing::error!(error = %e, "could not count an SMS against the budget");
            Some(v.unavailable())
        }
    }
}

async fn refused(v: &Visit<'_>, who: &Sender<'_>, reason: &'static str) {
    if let Some(c) = REFUSED.as_ref() {
        c.with_label_values(&[reason]).inc();
    }
    tracing::info!(tenant = who.tenant_id, reason, "SMS refused");
    let event = if reason == "country" { "sms_refused_country" } else { "sms_refused_budget" };
    v.audit(Some(who.tenant_id), Some(who.email), Some(who.email), event).await;
}

fn page(v: &Visit<'_>, who: &Sender<'_>, text: &str) -> String {
    v.page(
        v.t("The code cannot be sent by SMS", "SMSで認証コードを送信できません"),
        &format!(
            "{}<p><a href=\"/auth/2fa?rd={}\">{}</a></p>",
            error_box(text),
            escape(who.rd_query),
            v.t("Back to 2-step verification", "2段階認証に戻る")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_country_codes() {
        let jp = vec!["81".to_owned()];
        assert!(country_allowed("+819012345678", &jp));
        assert!(!country_allowed("+88212345678", &jp), "satellite");
        assert!(!country_allowed("+18765551234", &jp), "Jamaica");
        assert!(!country_allowed("819012345678", &jp), "not E.164");
        assert!(!country_allowed("", &jp));
        assert!(!country_allowed("+819012345678", &[]));
        assert!(!country_allowed("+819012345678", &[String::new()]));
        let two = vec!["81".to_owned(), "44".to_owned()];
        assert!(country_allowed("+447700900123", &two));
    }
}
