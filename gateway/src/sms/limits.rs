//! What SMS may cost (SPEC 11: "SMS goes only to allowed country codes, within
//! a per-tenant daily budget"): a stranger who reaches the enrolment page must
//! not be able to send codes to premium numbers abroad, nor without end.
//! Refusals are counted in `gateway_sms_refused_total{reason}`; the pages that
//! say so and the audit are `auth::sms_refusal`.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, Opts};

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

/// Counts an SMS that was not sent, by reason (`country`, `budget`).
pub fn count_refusal(reason: &'static str) {
    if let Some(c) = REFUSED.as_ref() {
        c.with_label_values(&[reason]).inc();
    }
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
