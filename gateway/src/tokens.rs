//! Random tokens (session ids, emailed links, CSRF) and their stored hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Length of a token's text form: 32 random bytes in unpadded base64url.
pub const TOKEN_LEN: usize = 43;

/// A fresh 256-bit token in its text form.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a token's text form, refusing anything that is not exactly 32 bytes of
/// canonical base64url: a malformed value must never reach the store.
pub fn decode_token(text: &str) -> Option<[u8; 32]> {
    if text.len() != TOKEN_LEN {
        return None;
    }
    let mut out = [0u8; 32];
    match URL_SAFE_NO_PAD.decode_slice(text.as_bytes(), &mut out) {
        Ok(32) => Some(out),
        _ => None,
    }
}

/// SHA-256 of a token's bytes: what caches key on.
pub fn digest(bytes: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The form in which a token is stored: hex SHA-256 of its 32 bytes.
pub fn hash_bytes(bytes: &[u8; 32]) -> String {
    hex(&digest(bytes))
}

pub fn hex(bytes: &[u8; 32]) -> String {
    let mut s = String::with_capacity(64);
    for &b in bytes {
        s.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    s
}

/// The bytes of a stored hash ([`hex`]); None unless 64 hex digits.
pub fn unhex(text: &str) -> Option<[u8; 32]> {
    let b = text.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// The stored hash of a token's text form, or None when it is malformed.
pub fn hash_token(text: &str) -> Option<String> {
    decode_token(text).map(|b| hash_bytes(&b))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_malformed_ones_are_refused() {
        let t = random_token();
        assert_eq!(t.len(), TOKEN_LEN);
        assert!(decode_token(&t).is_some());
        assert_ne!(random_token(), t);
        assert_eq!(hash_token(&t).map(|h| h.len()), Some(64));
        assert!(decode_token("").is_none());
        assert!(decode_token(&"A".repeat(42)).is_none());
        assert!(decode_token(&"!".repeat(43)).is_none());
        // A non-canonical last character (stray low bits) is refused too.
        let mut bad = t.clone();
        bad.pop();
        bad.push('B');
        let reencoded = decode_token(&bad).map(|b| URL_SAFE_NO_PAD.encode(b));
        assert!(reencoded.is_none() || reencoded.as_deref() == Some(bad.as_str()));
    }
}
