//! Edge cases of the building blocks that the unit tests in src do not cover:
//! line numbers, path normalisation and matching, network sets, the snapshot.

mod common;

use common::{net, snapshot};
use policy::{
    LineId, LineIdError, NetworkSet, PathAction, PathError, PathMatch, PathRule, PathRules, PolicySnapshot, Role,
    TenantPolicy, encode_path, normalize_path,
};
use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::{Error as DeError, StrDeserializer};

// ---------------------------------------------------------------- LineId

#[test]
fn line_id_accepts_any_case_and_surrounding_white_space() {
    for (raw, want) in [
        ("CAF0123456789", "CAF0123456789"),
        ("cAf0123456789", "CAF0123456789"),
        ("caFabcdefghij", "CAFABCDEFGHIJ"),
        ("cop0000000z", "COP0000000Z"),
        ("\tCOP12345678\r\n", "COP12345678"),
        ("  CAFZZZZZZZZZZ  ", "CAFZZZZZZZZZZ"),
    ] {
        let id = LineId::parse(raw).unwrap();
        assert_eq!(id.as_str(), want, "{raw:?}");
        assert_eq!(id.to_string(), want);
        assert_eq!(format!("{id:?}"), format!("LineId({want})"));
        assert_eq!(raw.parse::<LineId>().unwrap(), id);
        // Parsing what it prints gives the same id (the canonical form is a fixed point).
        assert_eq!(LineId::parse(id.as_str()).unwrap(), id);
    }
    // Different spellings are one id (equal, same hash, same order).
    let a = LineId::parse("caf0123456789").unwrap();
    let b = LineId::parse("CAF0123456789").unwrap();
    assert_eq!(a, b);
    let set: std::collections::HashSet<_> = [a, b].into_iter().collect();
    assert_eq!(set.len(), 1);
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
}

#[test]
fn line_id_rejects_with_the_right_error() {
    let cases: &[(&str, LineIdError)] = &[
        ("   ", LineIdError::Empty),
        ("\t\n", LineIdError::Empty),
        ("C", LineIdError::Prefix),
        ("CA", LineIdError::Prefix),
        ("CAX0123456789", LineIdError::Prefix),
        ("COF00000000", LineIdError::Prefix),
        ("0CAF123456789", LineIdError::Prefix),
        ("CAF", LineIdError::CafLength(3)),
        ("COP", LineIdError::CopLength(3)),
        ("CAF01234567", LineIdError::CafLength(11)),
        ("CAF01234567890", LineIdError::CafLength(14)),
        ("COP0123456789", LineIdError::CopLength(13)),
        ("COP0123456", LineIdError::CopLength(10)),
        ("CAF 0123456789", LineIdError::Character(' ', 4)),
        ("CAF012345678\0", LineIdError::Character('\0', 13)),
        ("CAF_0123456789", LineIdError::Character('_', 4)),
        ("COP-1234-5678", LineIdError::Character('-', 4)),
        // Non-ASCII letters and digits are not line characters, and positions count characters.
        ("CAFé123456789", LineIdError::Character('é', 4)),
        ("ＣＡＦ0123456789", LineIdError::Character('Ｃ', 1)),
        ("CAF٠١٢٣٤٥٦٧٨٩", LineIdError::Character('٠', 4)),
        ("CAF012345678ß", LineIdError::Character('ß', 13)),
        // A character error is reported before a length or prefix error.
        ("X-", LineIdError::Character('-', 2)),
    ];
    for (raw, want) in cases {
        assert_eq!(LineId::parse(raw).as_ref(), Err(want), "{raw:?}");
    }
}

#[test]
fn line_id_errors_say_which_format_is_expected() {
    for e in [
        LineIdError::Empty,
        LineIdError::Prefix,
        LineIdError::CafLength(5),
        LineIdError::CopLength(5),
        LineIdError::Character('-', 2),
    ] {
        let msg = e.to_string();
        assert!(msg.contains("CAF") || msg.contains("COP") || msg.contains("A-Z"), "{msg}");
    }
    let msg = LineIdError::Empty.to_string();
    assert!(msg.contains("CAF") && msg.contains("COP") && msg.contains("13") && msg.contains("11"), "{msg}");
    let msg = LineIdError::CopLength(9).to_string();
    assert!(msg.contains("11 characters") && msg.contains('9'), "{msg}");
}

#[test]
fn line_id_serde_round_trip_and_validation() {
    let de: StrDeserializer<'_, DeError> = " caf0123456789 ".into_deserializer();
    let id = LineId::deserialize(de).unwrap();
    assert_eq!(id.as_str(), "CAF0123456789");
    let de: StrDeserializer<'_, DeError> = "CAF123".into_deserializer();
    let err = LineId::deserialize(de).unwrap_err().to_string();
    assert!(err.contains("13 characters"), "{err}");
}

// ---------------------------------------------------------------- paths

#[test]
fn normalisation_edge_cases() {
    let cases = [
        ("/%2e", "/"),
        ("/%2E%2e", "/"),
        ("/.", "/"),
        ("/..", "/"),
        ("/./", "/"),
        ("/a/.", "/a/"),
        ("/a/./", "/a/"),
        ("/a/b/%2e%2e/", "/a/"),
        ("/a/..%2f..%2f..%2fetc/passwd", "/etc/passwd"),
        ("/.%2e/x", "/x"),
        ("/%2e./x", "/x"),
        ("/a/..b/.c", "/a/..b/.c"),
        ("/a/x;p=1/y;q", "/a/x/y"),
        ("/a/;jsessionid=1", "/a/"),
        ("/a/..b/c", "/a/..b/c"),
        ("/a/b..", "/a/b.."),
        ("/.hidden", "/.hidden"),
        ("/a%2fb", "/a/b"),
        ("/a%2Fb", "/a/b"),
        ("/%2F%2F", "/"),
        ("/a%5c%5cb", "/a/b"),
        ("/a\\b", "/a/b"),
        ("/\\..\\x", "/x"),
        // Decoded exactly once: a double-encoded dot-segment is an ordinary segment.
        ("/%252e%252e/x", "/%2e%2e/x"),
        ("/%252F", "/%2F"),
        // Query and fragment go before decoding; encoded ones stay in the path.
        ("/a?b", "/a"),
        ("/a#b?c", "/a"),
        ("/a/?", "/a/"),
        ("/a%3Fb", "/a?b"),
        ("/a%23b", "/a#b"),
        ("/?../../x", "/"),
        ("/%41%42c", "/ABc"),
        ("/a b", "/a b"),
        ("/%E2%80%A8", "/\u{2028}"),
        ("/ファイル/../x", "/x"),
        ("///", "/"),
        ("/a///", "/a/"),
        ("/a/b/c/../../..", "/"),
        ("/a/b/c/../../../../../..", "/"),
    ];
    for (raw, want) in cases {
        assert_eq!(normalize_path(raw).as_deref(), Ok(want), "{raw:?}");
    }
}

#[test]
fn normalisation_refusals() {
    let cases = [
        ("", PathError::NotAbsolute),
        ("?", PathError::NotAbsolute),
        ("#/a", PathError::NotAbsolute),
        ("%2Fa", PathError::NotAbsolute),
        ("\\a", PathError::NotAbsolute),
        ("http://h/a", PathError::NotAbsolute),
        ("/%", PathError::BadEscape),
        ("/a%", PathError::BadEscape),
        ("/%g0", PathError::BadEscape),
        ("/%0g", PathError::BadEscape),
        ("/%%41", PathError::BadEscape),
        ("/%+1", PathError::BadEscape),
        ("/%C3", PathError::NotUtf8),
        ("/%C0%AE%C0%AE/", PathError::NotUtf8),
        ("/%ED%A0%80", PathError::NotUtf8),
        ("/%7F", PathError::Control),
        ("/%C2%85", PathError::Control),
        ("/a\tb", PathError::Control),
        ("/a%0D%0AX-Auth-User:%20x", PathError::Control),
        ("/a\u{0}", PathError::Control),
        // Only dots and spaces once the parameters are gone: origins disagree on them.
        ("/a/...", PathError::DotSegment),
        ("/a/.../b", PathError::DotSegment),
        ("/a/..;/b", PathError::DotSegment),
        ("/a/.;x/b", PathError::DotSegment),
        ("/a/%2e%2e;x/b", PathError::DotSegment),
        ("/a/..%3B/b", PathError::DotSegment),
        ("/a/%20/b", PathError::DotSegment),
        ("/a/.%20", PathError::DotSegment),
        ("/a/%3Bx", PathError::DotSegment),
    ];
    for (raw, want) in cases {
        assert_eq!(normalize_path(raw), Err(want.clone()), "{raw:?}");
    }
    // An escape error in the query is not an error: the query is not part of the path.
    assert_eq!(normalize_path("/a?%zz").as_deref(), Ok("/a"));
}

#[test]
fn encode_path_is_what_the_origin_decodes_back() {
    for n in [
        "/",
        "/a/b/",
        "/a b",
        "/%2e%2e/x",
        "/a?b",
        "/a#b",
        "/ファイル",
        "/%",
        "/100%25",
        "/a;b=c",
        "/~user",
        "/\u{2028}",
    ] {
        let enc = encode_path(n);
        assert!(enc.is_ascii(), "{enc}");
        assert!(!enc.contains(['?', '#', ' ', '\\']), "{enc}");
        // Every '%' in the output starts an escape.
        let bytes = enc.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'%' {
                assert!(
                    bytes.len() > i + 2 && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit(),
                    "{enc}"
                );
            }
        }
        let back = normalize_path(&enc).unwrap();
        assert_eq!(back, normalize_path(&encode_path(&back)).unwrap());
    }
    assert_eq!(encode_path("/%2e%2e/x"), "/%252e%252e/x");
    assert_eq!(encode_path("/ファ"), "/%E3%83%95%E3%82%A1");
    assert_eq!(encode_path("/a-._~!$&'()*+,=:@/b"), "/a-._~!$&'()*+,=:@/b");
    // A ';' in a normalised path is part of a name: encoded, so no origin takes it for parameters.
    assert_eq!(encode_path("/a;b"), "/a%3Bb");
}

#[test]
fn normalising_twice_is_not_always_a_no_op_by_design() {
    // Percent-decoding is applied exactly once: a normalised path that contains
    // '%', '?' or '#' means those literal characters. The gateway must hand the
    // origin `encode_path(normalised)`, never the normalised text itself; this
    // pins that contract down.
    let once = normalize_path("/%2525").unwrap();
    assert_eq!(once, "/%25");
    assert_eq!(normalize_path(&once).unwrap(), "/%");
    assert_eq!(normalize_path(&encode_path(&once)).unwrap(), once);
    let once = normalize_path("/a%3F..").unwrap();
    assert_eq!(once, "/a?..");
    assert_eq!(normalize_path(&encode_path(&once)).unwrap(), once);
}

#[test]
fn path_match_edge_cases() {
    let root = PathMatch::Prefix("/".into());
    for p in ["/", "/a", "/a/b/"] {
        assert!(root.matches(p));
    }
    let exact_root = PathMatch::Exact("/".into());
    assert!(exact_root.matches("/"));
    assert!(!exact_root.matches("/a"));
    let admin = PathMatch::Prefix("/admin".into());
    assert!(admin.matches("/admin/"));
    assert!(admin.matches("/admin/x/y"));
    assert!(!admin.matches("/administrator"));
    assert!(!admin.matches("/admin.php"));
    assert!(!admin.matches("/ADMIN"), "matching is case-sensitive");
    assert!(!admin.matches("/x/admin"));
    assert!(!admin.matches(""));
    let empty = PathMatch::Exact(String::new());
    assert!(!empty.matches("/"));
}

#[test]
fn first_matching_rule_wins_and_reports_its_index() {
    let r = |m: PathMatch, action| PathRule { matcher: m, action, origin: String::new() };
    let rules = PathRules::new(vec![
        r(PathMatch::Prefix("/a/b".into()), PathAction::Deny),
        r(PathMatch::Prefix("/a".into()), PathAction::Bypass),
        r(PathMatch::Prefix("/".into()), PathAction::RequireRole(Role::User)),
    ]);
    assert_eq!(rules.first_match("/a/b/c").map(|(i, r)| (i, r.action)), Some((0, PathAction::Deny)));
    assert_eq!(rules.first_match("/a/bc").map(|(i, r)| (i, r.action)), Some((1, PathAction::Bypass)));
    assert_eq!(rules.first_match("/z").map(|(i, _)| i), Some(2));
    assert_eq!(rules.rules().len(), 3);
    assert!(PathRules::default().first_match("/").is_none());
}

// ---------------------------------------------------------------- networks

#[test]
fn network_set_membership() {
    let mut set = NetworkSet::new();
    assert!(set.is_empty());
    assert!(!set.contains("10.0.0.1".parse().unwrap()));
    assert!(set.insert(net("10.0.0.7/8")), "host bits are cleared, not refused");
    assert!(!set.insert(net("10.1.2.3/8")), "same network after truncation");
    assert!(set.insert(net("10.0.0.0/9")), "a sub-network is a distinct entry");
    assert!(set.insert(net("192.0.2.1/32")));
    assert!(set.insert(net("2001:db8:1::/48")));
    assert!(set.insert(net("2001:db8:2::1/128")));
    assert_eq!(set.len(), 5);
    let has = |s: &str| set.contains(s.parse().unwrap());
    assert!(has("10.0.0.0") && has("10.255.255.255") && has("10.0.0.7"));
    assert!(!has("11.0.0.0") && !has("9.255.255.255"));
    assert!(has("192.0.2.1") && !has("192.0.2.2") && !has("192.0.2.0"));
    assert!(has("2001:db8:1::") && has("2001:db8:1:ffff:ffff:ffff:ffff:ffff"));
    assert!(!has("2001:db8:0:ffff::") && !has("2001:db8:3::"));
    assert!(has("2001:db8:2::1") && !has("2001:db8:2::2"));
    // IPv4-mapped IPv6 addresses are the IPv4 address they carry...
    assert!(has("::ffff:10.1.2.3") && has("::ffff:192.0.2.1") && !has("::ffff:192.0.2.2"));
    // ...but the deprecated IPv4-compatible form and NAT64 are not.
    assert!(!has("::10.1.2.3"));
    assert!(!has("64:ff9b::a01:203"));
    let listed: Vec<String> = set.iter().map(|n| n.to_string()).collect();
    assert!(listed.contains(&"10.0.0.0/8".to_owned()) && listed.contains(&"10.0.0.0/9".to_owned()));
    assert_eq!(listed.len(), 5);
    assert!(format!("{set:?}").contains("192.0.2.1/32"));
}

#[test]
fn ipv4_mapped_networks_mean_their_ipv4_network() {
    let mut set = NetworkSet::new();
    assert!(set.insert(net("::ffff:198.51.100.77/120")));
    assert!(!set.insert(net("198.51.100.0/24")), "the same network written as IPv4");
    assert_eq!(set.len(), 1);
    assert!(set.contains("198.51.100.5".parse().unwrap()));
    assert!(set.contains("::ffff:198.51.100.5".parse().unwrap()));
    assert!(!set.contains("198.51.101.5".parse().unwrap()));
    assert_eq!(set.iter().map(|n| n.to_string()).collect::<Vec<_>>(), ["198.51.100.0/24"]);
    let all: NetworkSet = [net("::ffff:0:0/96")].into_iter().collect();
    assert!(all.contains("203.0.113.9".parse().unwrap()));
    assert!(!all.contains("2001:db8::1".parse().unwrap()));
    // Shorter than /96 is an IPv6 network like any other.
    let wide: NetworkSet = [net("::ffff:0:0/95")].into_iter().collect();
    assert!(wide.contains("::fffe:0:1".parse().unwrap()));
}

#[test]
fn default_routes_cover_their_family_only() {
    let v4_all: NetworkSet = [net("0.0.0.0/0")].into_iter().collect();
    assert!(v4_all.contains("203.0.113.9".parse().unwrap()));
    assert!(v4_all.contains("::ffff:203.0.113.9".parse().unwrap()));
    assert!(!v4_all.contains("2001:db8::1".parse().unwrap()));
    let v6_all: NetworkSet = [net("::/0")].into_iter().collect();
    assert!(v6_all.contains("2001:db8::1".parse().unwrap()));
    assert!(!v6_all.contains("203.0.113.9".parse().unwrap()));
    // A mapped address is looked up as IPv4 only.
    assert!(!v6_all.contains("::ffff:203.0.113.9".parse().unwrap()));
}

#[test]
fn many_overlapping_networks() {
    let mut set = NetworkSet::new();
    for len in 8..=32u8 {
        set.insert(format!("172.16.0.0/{len}").parse().unwrap());
    }
    assert_eq!(set.len(), 25);
    assert!(set.contains("172.16.0.0".parse().unwrap()));
    assert!(set.contains("172.255.255.255".parse().unwrap()));
    assert!(!set.contains("173.0.0.0".parse().unwrap()));
}

// ---------------------------------------------------------------- snapshot

#[test]
fn snapshot_lookups() {
    let snap = snapshot();
    assert_eq!(snap.tenant(1).map(|t| t.name.as_str()), Some("acme"));
    assert_eq!(snap.tenant_by_name("closed").map(|t| t.id), Some(2));
    assert!(snap.tenant(99).is_none() && snap.tenant_by_name("nobody").is_none());
    assert_eq!(snap.tenants().count(), 3);
    let closed = snap.tenant(2).unwrap();
    assert!(closed.two_factor, "the switch as set is kept");
    assert!(!closed.two_factor_required(), "line-only turns 2FA off");
    assert!(snap.tenant(1).unwrap().two_factor_required());
    assert!(!snap.tenant(3).unwrap().two_factor_required());
    let empty = PolicySnapshot::default();
    assert_eq!(empty.tenants().count(), 0);
    let t = TenantPolicy::new(7, "new");
    assert!(t.two_factor && t.lines.is_empty() && t.networks.is_empty() && !t.managed_by_file);
}

#[test]
fn enum_names_round_trip() {
    use policy::{Factor, HostKind, LoginMethod, Route};
    for r in [Role::User, Role::Admin, Role::Owner] {
        assert_eq!(Role::parse(r.as_str()), Ok(r));
        assert_eq!(r.to_string(), r.as_str());
    }
    assert!(Role::User < Role::Admin && Role::Admin < Role::Owner);
    assert!(Role::parse("Owner").is_err() && Role::parse("").is_err());
    for m in [LoginMethod::Password, LoginMethod::Federated] {
        assert_eq!(LoginMethod::parse(m.as_str()), Ok(m));
    }
    for f in [Factor::Sms, Factor::Totp, Factor::Recovery, Factor::Remembered, Factor::Line] {
        assert_eq!(Factor::parse(f.as_str()), Ok(f));
    }
    for r in [Route::LineOnly, Route::LineAndInternet] {
        assert_eq!(Route::parse(r.as_str()), Ok(r));
        assert_eq!(r.to_string(), r.as_str());
    }
    assert_eq!(Route::default(), Route::LineAndInternet);
    for h in [HostKind::Ordinary, HostKind::LineAuth] {
        assert_eq!(HostKind::parse(h.as_str()), Some(h));
        assert_eq!(h.to_string(), h.as_str());
    }
    assert_eq!(HostKind::parse("storage.example.net"), None);
    let err = Route::parse("internet").unwrap_err().to_string();
    assert!(err.contains("line-only") && err.contains("internet"), "{err}");
}
