use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use config::{GatewayConfig, Secret};

use super::*;

fn key() -> TotpKey {
    TotpKey::from_bytes([7u8; 32])
}

#[test]
fn round_trip() {
    let k = key();
    let secret = b"12345678901234567890";
    let stored = k.encrypt(42, secret);
    assert!(stored.starts_with("v1:"), "{stored}");
    assert_eq!(k.decrypt(42, &stored).as_deref(), Some(&secret[..]));
    assert_ne!(k.encrypt(42, secret), stored, "a fresh nonce every time");
    assert_eq!(k.decrypt(7, &k.encrypt(7, b"")).as_deref(), Some(&b""[..]));
}

#[test]
fn another_user_or_key_cannot_decrypt() {
    let stored = key().encrypt(42, b"secret");
    assert_eq!(key().decrypt(43, &stored), None);
    assert_eq!(key().decrypt(-42, &stored), None);
    assert_eq!(TotpKey::from_bytes([8u8; 32]).decrypt(42, &stored), None);
}

#[test]
fn tampering_is_detected() {
    let k = key();
    let stored = k.encrypt(1, b"secret");
    let mut bytes = STANDARD.decode(&stored[3..]).unwrap();
    for i in [0, NONCE_LEN, bytes.len() - 1] {
        bytes[i] ^= 1;
        assert_eq!(k.decrypt(1, &format!("v1:{}", STANDARD.encode(&bytes))), None, "byte {i}");
        bytes[i] ^= 1;
    }
    assert_eq!(k.decrypt(1, &format!("v1:{}", STANDARD.encode(&bytes))).as_deref(), Some(&b"secret"[..]));
    for bad in ["", "v1:", "v2:AAAA", &stored[3..], "v1:not base64!", &stored[..stored.len() - 8]] {
        assert_eq!(k.decrypt(1, bad), None, "{bad:?}");
    }
}

#[test]
fn debug_hides_the_key() {
    assert_eq!(format!("{:?}", key()), "TotpKey(***)");
}

fn config_with(base: &Path, key: Option<&str>) -> GatewayConfig {
    let mut cfg = GatewayConfig { base_dir: base.to_owned(), state_dir: base.to_owned(), ..GatewayConfig::default() };
    cfg.secrets.totp_key = key.map(Secret::new);
    cfg
}

#[test]
fn configured_keys_parse_from_base64_and_hex() {
    let tmp = tempfile::tempdir().unwrap();
    let raw: [u8; 32] = std::array::from_fn(|i| i as u8 * 3);
    let stored = TotpKey::from_bytes(raw).encrypt(5, b"x");
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    for text in
        [STANDARD.encode(raw), STANDARD.encode(raw).trim_end_matches('=').to_owned(), hex.clone(), hex.to_uppercase()]
    {
        let k = TotpKey::load_or_create(&config_with(tmp.path(), Some(&text))).unwrap();
        assert_eq!(k.decrypt(5, &stored).as_deref(), Some(&b"x"[..]), "{text}");
    }
    assert!(!tmp.path().join("data").exists(), "no key file when one is configured");
}

#[test]
fn configured_keys_of_the_wrong_length_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = [
        STANDARD.encode([1u8; 31]),
        STANDARD.encode([1u8; 33]),
        STANDARD.encode([1u8; 16]),
        "ab".repeat(31),
        "ab".repeat(33),
        "zz".repeat(32),
        String::new(),
        "not a key".to_owned(),
    ];
    for text in bad {
        let err = TotpKey::load_or_create(&config_with(tmp.path(), Some(&text))).unwrap_err();
        assert!(matches!(err, KeyError::Format), "{text:?}");
        assert!(err.to_string().contains("base64") && err.to_string().contains("64 hexadecimal"));
        assert!(text.is_empty() || !err.to_string().contains(&text));
    }
}

#[test]
fn a_generated_key_is_created_private_and_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config_with(tmp.path(), None);
    let first = TotpKey::load_or_create(&cfg).unwrap();
    let path = tmp.path().join("data/totp.key");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(STANDARD.decode(text.trim()).unwrap().len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let stored = first.encrypt(9, b"secret");
    let again = TotpKey::load_or_create(&cfg).unwrap();
    assert_eq!(again.decrypt(9, &stored).as_deref(), Some(&b"secret"[..]));
    assert_eq!(std::fs::read_dir(tmp.path().join("data")).unwrap().count(), 1, "no temporary file left");
}

#[test]
fn a_damaged_key_file_is_an_error_not_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("data")).unwrap();
    std::fs::write(tmp.path().join("data/totp.key"), "short\n").unwrap();
    let err = TotpKey::load_or_create(&config_with(tmp.path(), None)).unwrap_err();
    assert!(matches!(err, KeyError::Stored { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(tmp.path().join("data/totp.key")).unwrap(), "short\n");
}
