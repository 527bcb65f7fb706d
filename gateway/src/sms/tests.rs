use std::collections::BTreeMap;
use std::path::Path;

use config::{Secret, SmsSettings, SmsTransport, WebhookSettings};

use super::webhook::render;
use super::*;

#[test]
fn phone_numbers_normalise_to_e164() {
    let ok = [
        ("090-1234-5678", "+819012345678"),
        ("09012345678", "+819012345678"),
        (" 090 1234 5678 ", "+819012345678"),
        ("０９０－１２３４－５６７８", "+819012345678"),
        ("080-1234-5678", "+818012345678"),
        ("050-1234-5678", "+815012345678"),
        ("03-1234-5678", "+81312345678"),
        ("(03) 1234-5678", "+81312345678"),
        ("+81 90-1234-5678", "+819012345678"),
        ("+81 (0)90 1234 5678", "+819012345678"),
        ("+81 090 1234 5678", "+819012345678"),
        ("+819012345678", "+819012345678"),
        ("＋81 90 1234 5678", "+819012345678"),
        ("+1 (415) 555-0123", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+49.30.1234567", "+49301234567"),
    ];
    for (input, want) in ok {
        assert_eq!(normalize_phone(input).as_deref(), Ok(want), "{input:?}");
    }
}

#[test]
fn bad_phone_numbers_are_refused_with_a_reason() {
    let bad = [
        ("", PhoneError::Empty),
        ("   ", PhoneError::Empty),
        ("090-1234-567a", PhoneError::Characters),
        ("090/1234/5678", PhoneError::Characters),
        ("+81 90+1234", PhoneError::Characters),
        ("tel:09012345678", PhoneError::Characters),
        ("090-1234-56", PhoneError::Length),
        ("090-1234-56789", PhoneError::Length),
        ("+81 90 1234", PhoneError::Length),
        ("+1 234", PhoneError::Length),
        ("+1234567890123456", PhoneError::Length),
        ("+", PhoneError::Length),
        ("9012345678", PhoneError::Prefix),
        ("+0 90 1234 5678", PhoneError::Prefix),
        ("00 1 415 555 0123", PhoneError::Prefix),
        ("010 1 415 555 0123", PhoneError::Prefix),
    ];
    for (input, want) in bad {
        assert_eq!(normalize_phone(input), Err(want.clone()), "{input:?}");
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn masking_keeps_the_country_code_and_the_last_three_digits() {
    assert_eq!(mask_phone("+819012345678"), "+81*******678");
    assert_eq!(mask_phone("+14155550123"), "+1*******123");
    assert_eq!(mask_phone("+3531234567"), "+353****567");
    assert_eq!(mask_phone("12"), "***");
    assert!(!mask_phone("+819012345678").contains("9012345"));
}

#[test]
fn codes_are_six_digits_and_vary() {
    let codes: Vec<String> = (0..200).map(|_| new_code()).collect();
    for c in &codes {
        assert_eq!(c.len(), 6, "{c}");
        assert!(c.bytes().all(|b| b.is_ascii_digit()), "{c}");
    }
    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert!(distinct.len() > 190, "only {} distinct codes in 200", distinct.len());
}

#[test]
fn debug_hides_number_body_and_code() {
    let msg = SmsMessage { to: "+819012345678".into(), body: "Your code is 123456".into(), code: "123456".into() };
    let shown = format!("{msg:?}");
    assert!(!shown.contains("123456") && !shown.contains("9012345"), "{shown}");
}

fn file_settings(dir: &Path) -> SmsSettings {
    SmsSettings { transport: SmsTransport::File, dir: dir.to_owned(), webhook: None, ..SmsSettings::default() }
}

fn json_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn file_transport_writes_one_json_file_with_three_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sms/nested");
    let sender = SmsSender::new(&file_settings(&dir)).unwrap();
    let msg = SmsMessage {
        to: "+819012345678".into(),
        body: "Code \"123456\" \\ for Acme\nline two".into(),
        code: "123456".into(),
    };
    sender.send(&msg).await.unwrap();
    let files = json_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    let (millis, rest) = name.split_once('-').unwrap();
    assert!(millis.parse::<u64>().is_ok() && rest.ends_with(".json"), "{name}");
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    let obj = value.as_object().unwrap();
    assert_eq!(obj.len(), 3);
    assert_eq!(obj["to"], "+819012345678");
    assert_eq!(obj["body"], msg.body.as_str());
    assert_eq!(obj["code"], "123456");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    }

    sender.send(&msg).await.unwrap();
    assert_eq!(json_files(&dir).len(), 2);
}

#[tokio::test]
async fn file_transport_recreates_a_removed_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sms");
    let sender = SmsSender::new(&file_settings(&dir)).unwrap();
    std::fs::remove_dir(&dir).unwrap();
    let msg = SmsMessage { to: "+819012345678".into(), body: "b".into(), code: "000001".into() };
    sender.send(&msg).await.unwrap();
    assert_eq!(json_files(&dir).len(), 1);
}

fn webhook(template: &str, headers: &[(&str, &str)]) -> SmsSettings {
    let headers: BTreeMap<String, Secret> = headers.iter().map(|(k, v)| (k.to_string(), Secret::new(*v))).collect();
    let hook = WebhookSettings {
        url: "http://127.0.0.1:9/sms".into(),
        headers,
        body_template: template.into(),
        ca_file: None,
    };
    SmsSettings {
        transport: SmsTransport::Webhook,
        dir: "unused".into(),
        webhook: Some(hook),
        ..SmsSettings::default()
    }
}

#[test]
fn template_values_are_json_escaped_in_one_pass() {
    let msg = SmsMessage {
        to: "+819012345678".into(),
        body: "say \"{code}\" \\ now\n\t\u{1}\u{2028}".into(),
        code: "654321".into(),
    };
    let out = render(r#"{"to":"{to}","text":"{body}","otp":"{code}","x":"{other}"}"#, &msg);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["to"], "+819012345678");
    assert_eq!(v["text"], msg.body.as_str());
    assert_eq!(v["otp"], "654321");
    assert_eq!(v["x"], "{other}");
}

#[test]
fn webhook_settings_are_checked_at_start() {
    assert!(SmsSender::new(&webhook(r#"{"to":"{to}","body":"{body}"}"#, &[("Authorization", "Bearer x")])).is_ok());
    let mut https = webhook("{}", &[]);
    if let Some(h) = https.webhook.as_mut() {
        h.url = "https://sms.example.com/v1/send".into();
    }
    assert!(SmsSender::new(&https).is_ok(), "https webhooks are supported");
    let mut ftp = webhook("{}", &[]);
    if let Some(h) = ftp.webhook.as_mut() {
        h.url = "ftp://sms.example.com/".into();
    }
    assert!(matches!(SmsSender::new(&ftp), Err(SmsError::Url)));
    let missing =
        SmsSettings { transport: SmsTransport::Webhook, dir: "x".into(), webhook: None, ..SmsSettings::default() };
    assert!(matches!(SmsSender::new(&missing), Err(SmsError::MissingWebhook)));
    assert!(matches!(SmsSender::new(&webhook(r#"{"to":{to}}"#, &[])), Err(SmsError::Template(_))));
    assert!(matches!(SmsSender::new(&webhook("{}", &[("bad name", "v")])), Err(SmsError::HeaderName { .. })));
    let err = SmsSender::new(&webhook("{}", &[("X-Key", "line\nbreak")])).err().unwrap();
    assert!(matches!(err, SmsError::HeaderValue { .. }));
    assert!(!err.to_string().contains("break"), "{err}");
}
