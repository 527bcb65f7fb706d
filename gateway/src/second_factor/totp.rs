//! Authenticator-app codes: RFC 6238 with SHA-1, 6 digits and 30-second
//! steps, the only parameters every app supports.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use qrcode::QrCode;
use qrcode::render::svg;
use rand::RngCore;
use totp_rs::{Algorithm, Builder, Secret, Totp};

const STEP_SECONDS: u64 = 30;
const DIGITS: usize = 6;
/// 160 bits, the length RFC 4226 recommends and apps expect.
const SECRET_BYTES: usize = 20;

/// Everything but RFC 3986's unreserved characters is encoded, so that a `:`,
/// `&` or `#` in an account or issuer cannot change the URI's structure.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn totp(secret: &[u8]) -> Totp {
    // Fixed, valid parameters; `build_noncompliant` only skips the check that
    // the secret has 128 bits, which would turn a short test secret into an
    // error path for callers that never see one.
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_skew(1)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret)
        .build_noncompliant()
}

/// A new secret: 20 random bytes from the thread's cryptographic generator.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// RFC 4648 base32 without padding: the form apps accept for manual entry.
pub fn secret_base32(secret: &[u8]) -> String {
    Secret::from(secret).to_base32()
}

/// `otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`,
/// every part percent-encoded. The issuer is given twice on purpose: older
/// apps read the label prefix, newer ones the parameter.
pub fn otpauth_uri(secret: &[u8], account: &str, issuer: &str) -> String {
    let issuer = utf8_percent_encode(issuer, COMPONENT).to_string();
    let account = utf8_percent_encode(account, COMPONENT);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        secret_base32(secret)
    )
}

/// An inline `<svg>` of the QR code (no XML prolog, so it can sit in HTML),
/// with a `<title>` that screen readers announce.
pub fn qr_svg(uri: &str) -> String {
    const TITLE: &str = "<title>QR code for your authenticator app</title>";
    let Ok(code) = QrCode::new(uri.as_bytes()) else {
        // Only for a URI of several kilobytes, which we never build; the
        // page still shows the key as text.
        tracing::warn!(len = uri.len(), "otpauth URI too long for a QR code");
        return format!(r#"<svg xmlns="http://www.w3.org/2000/svg" role="img">{TITLE}</svg>"#);
    };
    let image = code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    let image = image.find("<svg").map_or(image.as_str(), |i| &image[i..]);
    match image.find('>') {
        Some(end) => format!("{} role=\"img\">{TITLE}{}", &image[..end], &image[end + 1..]),
        None => image.to_owned(),
    }
}

/// Checks a code against the steps now-1, now and now+1 (clock drift between
/// phone and server) and returns the matched step (unix / 30), so that the
/// caller can refuse any step at or below the last one it accepted. Spaces
/// are ignored (apps show `123 456`); anything but 6 digits is `None`.
pub fn verify(secret: &[u8], code: &str, now_unix: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = u64::try_from(now_unix).ok()?;
    // totp-rs compares in constant time and returns the step it matched.
    let step = totp(secret).check(&code, now)?;
    i64::try_from(step).ok()
}

/// The code for the step containing `unix` (times before 1970 count as 0).
pub fn code_at(secret: &[u8], unix: i64) -> String {
    totp(secret).generate(u64::try_from(unix).unwrap_or(0)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B lists 8 digits; a 6-digit code is the last 6.
        let vectors = [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ];
        for (t, eight) in vectors {
            assert_eq!(code_at(RFC_SECRET, t), eight[2..], "t={t}");
            assert_eq!(verify(RFC_SECRET, &eight[2..], t), Some(t / 30), "t={t}");
        }
    }

    #[test]
    fn verify_accepts_one_step_either_side_and_returns_it() {
        let secret = new_secret();
        let now = 1_700_000_015;
        let step = now / 30;
        for delta in [-1, 0, 1] {
            let code = code_at(&secret, now + delta * 30);
            assert_eq!(verify(&secret, &code, now), Some(step + delta), "delta {delta}");
        }
        for delta in [-2, 2, 5] {
            let code = code_at(&secret, now + delta * 30);
            // A code of a far step may collide with a near one (10^-6).
            if [-1, 0, 1].iter().all(|d| code_at(&secret, now + d * 30) != code) {
                assert_eq!(verify(&secret, &code, now), None, "delta {delta}");
            }
        }
    }

    #[test]
    fn verify_refuses_garbage() {
        let secret = new_secret();
        let now = 1_700_000_000;
        let code = code_at(&secret, now);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(&secret, &spaced, now), Some(now / 30));
        for bad in ["", "12345", "1234567", "abcdef", "+12345", "12345a", "１２３４５６", "-12345"] {
            assert_eq!(verify(&secret, bad, now), None, "{bad:?}");
        }
        assert_eq!(verify(&secret, &code, -5), None);
    }

    #[test]
    fn secrets_are_20_random_bytes() {
        let a = new_secret();
        assert_eq!(a.len(), 20);
        assert_ne!(a, new_secret());
    }

    #[test]
    fn base32_has_no_padding_and_decodes_back() {
        assert_eq!(secret_base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let s = new_secret();
        let b32 = secret_base32(&s);
        assert!(!b32.contains('='));
        assert_eq!(Secret::try_from_base32(&b32).unwrap().as_bytes(), s.as_slice());
    }

    #[test]
    fn otpauth_uri_parses_back() {
        let secret = new_secret();
        let uri = otpauth_uri(&secret, "taro@example.com", "Acme Drive: Tokyo & Co");
        let rest = uri.strip_prefix("otpauth://totp/").unwrap();
        let (label, query) = rest.split_once('?').unwrap();
        assert!(!query.contains('#') && !label.contains(' '), "{uri}");
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().unwrap().into_owned();
        let (issuer, account) = label.split_once(':').unwrap();
        assert_eq!(decode(issuer), "Acme Drive: Tokyo & Co");
        assert_eq!(decode(account), "taro@example.com");
        let params: std::collections::HashMap<&str, String> =
            query.split('&').map(|kv| kv.split_once('=').unwrap()).map(|(k, v)| (k, decode(v))).collect();
        assert_eq!(params.len(), 5, "{uri}");
        assert_eq!(Secret::try_from_base32(&params["secret"]).unwrap().as_bytes(), secret.as_slice());
        assert_eq!(params["issuer"], "Acme Drive: Tokyo & Co");
        assert_eq!(params["algorithm"], "SHA1");
        assert_eq!(params["digits"], "6");
        assert_eq!(params["period"], "30");
    }

    #[test]
    fn qr_svg_is_inline_svg_with_a_title() {
        let svg = qr_svg(&otpauth_uri(&new_secret(), "a@example.com", "Acme"));
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(!svg.contains("<?xml"));
        assert!(svg.contains("<title>") && svg.contains("viewBox") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<svg").count(), 1);
    }
}
