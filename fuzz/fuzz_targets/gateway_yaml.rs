//! The gateway configuration (`config::parse_gateway`): arbitrary text never
//! panics, an error points inside the text, and an accepted file holds only
//! values the gateway can run with (reading it twice gives the same).
#![no_main]

use std::path::Path;
use std::time::Duration;

use config::{GatewayConfig, MailTransport, SmsTransport, is_token, normalize_hostname, parse_gateway};
use gateway_fuzz::{check_error_position, reads_special_files};
use libfuzzer_sys::fuzz_target;

/// Durations become `i64` Unix-second arithmetic (`now + lifetime`) and moka
/// cache lifetimes, which panic above 1000 years.
const LONGEST: Duration = Duration::from_secs(1000 * 365 * 86_400);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if reads_special_files(text) {
        return;
    }
    let file = Path::new("/nonexistent-fuzz-dir/gateway.yaml");
    match parse_gateway(text, file) {
        Err(err) => check_error_position(&err, text, file),
        Ok(cfg) => {
            check(&cfg);
            let again = parse_gateway(text, file).expect("accepted once, refused the second time");
            assert_eq!(format!("{again:?}"), format!("{cfg:?}"), "the same text read two ways");
        }
    }
});

fn check(cfg: &GatewayConfig) {
    let hosts = &cfg.hosts;
    assert_ne!(hosts.ordinary, hosts.line_auth, "the two hostnames are the same");
    for h in [&hosts.ordinary, &hosts.line_auth] {
        assert_eq!(normalize_hostname(h).as_deref(), Ok(h.as_str()), "hostname {h:?} is not normalised");
    }
    assert!(is_token(&cfg.session.cookie_name), "cookie name {:?}", cfg.session.cookie_name);
    assert!(is_token(&cfg.carrier.line_header), "line header {:?}", cfg.carrier.line_header);
    if let Some(region) = &cfg.carrier.region_header {
        assert!(is_token(region), "region header {region:?}");
    }
    if cfg.mail.transport == MailTransport::Smtp {
        assert!(cfg.mail.smtp.is_some(), "smtp transport without an smtp block");
    }
    if cfg.sms.transport == SmsTransport::Webhook {
        assert!(cfg.sms.webhook.is_some(), "webhook transport without a webhook block");
    }
    for line_auth in [false, true] {
        let url = cfg.public_url(line_auth);
        let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
        let rest = rest.unwrap_or_else(|| panic!("public URL {url:?} is not http(s)"));
        assert!(!rest.is_empty() && !rest.contains(['/', '?', '#', '@']), "public URL {url:?} has more than scheme://host[:port]");
    }
    assert!(cfg.login.hash_concurrency >= 1);
    let s = &cfg.session;
    for (name, d) in [
        ("session.lifetime", s.lifetime),
        ("session.idle_timeout", s.idle_timeout),
        ("session.cache_ttl", s.cache_ttl),
        ("links.validity", cfg.links.validity),
    ] {
        assert!(d >= Duration::from_secs(1), "{name} is zero");
        assert!(d <= LONGEST, "{name} = {}s is accepted but cannot be used", d.as_secs());
    }
}
