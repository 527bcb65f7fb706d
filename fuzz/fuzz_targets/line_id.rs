//! The line id parser (`policy::LineId::parse`) and the proxy's line fact
//! (`gateway::proxy::client::line_fact`). Input: byte 0 picks the peer, the rest
//! are line-header values, one per line.
#![no_main]

use std::net::IpAddr;

use gateway::proxy::client::line_fact;
use gateway_fuzz::lines;
use libfuzzer_sys::fuzz_target;
use policy::{LineFact, LineId, NetworkSet};

fn well_formed(s: &str) -> bool {
    let b = s.as_bytes();
    let body = |n: usize| b.len() == 3 + n && b[3..].iter().all(u8::is_ascii_alphanumeric);
    b.len() >= 3
        && match &b[..3].to_ascii_uppercase()[..] {
            b"CAF" => body(10),
            b"COP" => body(8),
            _ => false,
        }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };

    if let Ok(text) = std::str::from_utf8(rest) {
        let trimmed = text.trim();
        match LineId::parse(text) {
            Ok(id) => {
                assert!(well_formed(trimmed), "accepted {text:?}");
                let s = id.as_str();
                assert_eq!(s, trimmed.to_ascii_uppercase(), "not the input upper-cased");
                assert!(s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
                assert_eq!(LineId::parse(&id.to_string()), Ok(id), "display does not parse back");
                assert_eq!(LineId::parse(&s.to_ascii_lowercase()), Ok(id), "case matters");
            }
            Err(e) => {
                assert!(!well_formed(trimmed), "refused {text:?}: {e}");
                assert!(!e.to_string().is_empty());
            }
        }
    }

    // The carrier is 192.0.2.0/24; the peer is inside it, outside it, or unknown.
    let carrier: NetworkSet = ["192.0.2.0/24".parse().unwrap()].into_iter().collect();
    let peer: Option<IpAddr> = match pick % 4 {
        0 => Some([192, 0, 2, pick].into()),
        1 => Some([198, 51, 100, pick].into()),
        2 => Some(std::net::Ipv4Addr::new(192, 0, 2, pick).to_ipv6_mapped().into()),
        _ => None,
    };
    let trusted = peer.is_some_and(|p| carrier.contains(p));
    let values = if rest.is_empty() { Vec::new() } else { lines(rest) };
    let fact = line_fact(peer, values.iter().copied(), &carrier);
    match fact {
        LineFact::Absent => assert!(values.is_empty()),
        LineFact::Untrusted => assert!(!trusted && !values.is_empty()),
        LineFact::Malformed => assert!(trusted && !values.is_empty()),
        LineFact::Asserted(id) => {
            assert!(trusted, "a line asserted by {peer:?}, outside the carrier");
            assert_eq!(values.len(), 1, "a line asserted from {} headers", values.len());
            let text = std::str::from_utf8(values[0]).expect("asserted from non-UTF-8");
            assert_eq!(LineId::parse(text), Ok(id));
        }
    }
});
