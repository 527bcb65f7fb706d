//! `gateway_sms_total{result}` in the default registry of prometheus 0.14,
//! the one the metrics listener serves.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, Opts};

// `None` only if the crate rejected our constant name, which would be a bug;
// SMS must still go out then, uncounted.
static SMS: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    let opts = Opts::new("gateway_sms_total", "SMS handed to the transport, by result.");
    let c = IntCounterVec::new(opts, &["result"]).ok()?;
    // Registering twice (two senders in one test process) is harmless.
    let _ = prometheus::register(Box::new(c.clone()));
    Some(c)
});

/// Lists both results from the first scrape on.
pub(super) fn init() {
    if let Some(c) = SMS.as_ref() {
        for r in ["sent", "failed"] {
            let _ = c.with_label_values(&[r]);
        }
    }
}

pub(super) fn count(sent: bool) {
    if let Some(c) = SMS.as_ref() {
        c.with_label_values(&[if sent { "sent" } else { "failed" }]).inc();
    }
}
