//! Recovery codes: the way in when the phone is lost. Shown once, stored only
//! as a hash, accepted however the user pastes them.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Digits and capitals without the look-alikes 0/O and 1/I/L: 31 symbols.
const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// 20 symbols of 31 are 99.1 bits: far beyond guessing, online or against a
/// stolen hash.
pub const LEN: usize = 20;
const GROUP: usize = 4;
/// The largest multiple of 31 that fits in a byte; bytes at or above it are
/// drawn again so that every symbol is equally likely.
const BOUND: u8 = 31 * 8;

/// A new code, 20 symbols shown in groups of 4 (`K7QX-M2PD-…`).
pub fn new_code() -> String {
    let mut rng = rand::rng();
    let mut out = String::with_capacity(LEN + LEN / GROUP);
    let mut drawn = 0;
    let mut buf = [0u8; 32];
    while drawn < LEN {
        rng.fill_bytes(&mut buf);
        for b in buf.iter().copied().filter(|b| *b < BOUND) {
            if drawn == LEN {
                break;
            }
            if drawn > 0 && drawn % GROUP == 0 {
                out.push('-');
            }
            out.push(char::from(ALPHABET[usize::from(b % 31)]));
            drawn += 1;
        }
    }
    out
}

/// The canonical form of a pasted code (upper case, no separators): spaces,
/// hyphens and case are ignored; `None` if the symbols or their number cannot
/// be a code, so that a typo is refused before any lookup.
pub fn normalize(input: &str) -> Option<String> {
    let mut out = String::with_capacity(LEN);
    for c in input.chars() {
        if c.is_whitespace() || matches!(c, '-' | '‐' | '‑' | '–' | '—' | '−') {
            continue;
        }
        let c = c.to_ascii_uppercase();
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || out.len() == LEN {
            return None;
        }
        out.push(c);
    }
    (out.len() == LEN).then_some(out)
}

/// What is stored: hex SHA-256 of the canonical form. No salt or slow hash
/// is needed: the code is random with ~99 bits, not a chosen password.
pub fn hash(canonical: &str) -> String {
    Sha256::digest(canonical.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_have_the_documented_format() {
        for _ in 0..200 {
            let code = new_code();
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 5, "{code}");
            for g in groups {
                assert_eq!(g.len(), 4, "{code}");
                assert!(g.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
            }
            for c in ['0', 'O', '1', 'I', 'L'] {
                assert!(!code.contains(c), "{code}");
            }
        }
    }

    #[test]
    fn codes_are_unique_and_use_every_symbol() {
        let codes: HashSet<String> = (0..10_000).map(|_| new_code()).collect();
        assert_eq!(codes.len(), 10_000);
        let used: HashSet<char> = codes.iter().flat_map(|c| c.chars()).filter(|c| *c != '-').collect();
        assert_eq!(used.len(), ALPHABET.len());
        assert!((LEN as f64) * (ALPHABET.len() as f64).log2() > 99.0);
    }

    #[test]
    fn normalize_accepts_what_users_paste() {
        let code = new_code();
        let canonical = code.replace('-', "");
        assert_eq!(normalize(&code).as_deref(), Some(canonical.as_str()));
        assert_eq!(normalize(&code.to_lowercase()).as_deref(), Some(canonical.as_str()));
        assert_eq!(normalize(&format!("  {}\n", code.replace('-', " "))).as_deref(), Some(canonical.as_str()));
        assert_eq!(normalize(&canonical).as_deref(), Some(canonical.as_str()));
        assert_eq!(normalize(&code.replace('-', "–")).as_deref(), Some(canonical.as_str()));
    }

    #[test]
    fn normalize_refuses_what_cannot_be_a_code() {
        let canonical = new_code().replace('-', "");
        let bad = [
            String::new(),
            canonical[..19].to_owned(),
            format!("{canonical}A"),
            format!("{}0", &canonical[..19]),
            format!("{}O", &canonical[..19]),
            format!("{}1", &canonical[..19]),
            format!("{}l", &canonical[..19]),
            format!("{}_", &canonical[..19]),
            format!("{}é", &canonical[..19]),
            "-".repeat(20),
        ];
        for b in bad {
            assert_eq!(normalize(&b), None, "{b:?}");
        }
    }

    #[test]
    fn hash_is_stable_hex_sha256() {
        assert_eq!(hash("ABCD"), hash("ABCD"));
        assert_ne!(hash("ABCD"), hash("ABCE"));
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let code = new_code();
        assert_eq!(hash(&normalize(&code).unwrap()), hash(&normalize(&code.to_lowercase()).unwrap()));
    }
}
