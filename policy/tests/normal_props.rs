//! The hot path skips normalisation for paths `already_normal` accepts; that is
//! only sound if such paths come out of normalisation and encoding unchanged.

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn already_normal_paths_are_fixed_points(p in "/[a-z./%2eF\\\\ ?#~;=@:_-]{0,24}") {
        if policy::already_normal(&p) {
            let n = policy::normalize_path(&p);
            prop_assert_eq!(n.as_deref(), Ok(p.as_str()));
            prop_assert_eq!(policy::encode_path(&p), p.clone());
        }
    }

    #[test]
    fn normal_forms_of_plain_paths_are_recognised(p in "/[a-z]{1,6}(/[a-z]{1,6}){0,4}/?") {
        prop_assert!(policy::already_normal(&p));
    }
}

/// What Tomcat, Windows or a case-folding origin might still take for the path
/// the rules saw: every segment's parameters, case, and trailing dots and spaces.
fn variant_of(segs: &[String], tweaks: &[(bool, u8, u8)]) -> String {
    let mut out = String::new();
    for (seg, (upper, trail, param)) in segs.iter().zip(tweaks.iter().cycle()) {
        out.push('/');
        out.push_str(&if *upper { seg.to_ascii_uppercase() } else { seg.clone() });
        out.push_str(["", ".", "%20", ". .", "..", "%2e"][*trail as usize % 6]);
        out.push_str(["", ";x=1", ";", "%3Bjsessionid=1", ";a;b"][*param as usize % 5]);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn normalised_paths_hold_no_dot_segment_nor_parameter(p in "/[a-zA-Z./%2eE3bB0;= -]{0,24}") {
        if let Ok(n) = policy::normalize_path(&p) {
            for seg in n.split('/').skip(1) {
                prop_assert!(seg != "." && seg != "..", "{:?} -> {:?}", p, n);
                let core = seg.split(';').next().unwrap_or(seg).trim_end_matches(['.', ' ']);
                prop_assert!(seg.is_empty() || !core.is_empty(), "{:?} -> {:?}", p, n);
            }
            // What the origin gets carries no raw ';': nothing it could take for parameters.
            prop_assert!(!policy::encode_path(&n).contains(';'), "{:?} -> {:?}", p, n);
        }
    }

    #[test]
    fn a_denied_path_stays_denied_under_any_spelling(
        rest in prop::collection::vec("[a-z0-9]{1,5}", 0..3),
        tweaks in prop::collection::vec((any::<bool>(), any::<u8>(), any::<u8>()), 1..4),
        slash in any::<bool>(),
    ) {
        let rules = policy::PathRules::new(vec![
            policy::PathRule { matcher: policy::PathMatch::Prefix("/public".into()), action: policy::PathAction::Bypass, origin: String::new() },
            policy::PathRule { matcher: policy::PathMatch::Prefix("/internal".into()), action: policy::PathAction::Deny, origin: String::new() },
        ]);
        let mut segs = vec!["internal".to_owned()];
        segs.extend(rest);
        let mut raw = variant_of(&segs, &tweaks);
        if slash {
            raw.push('/');
        }
        match policy::normalize_path(&raw) {
            Err(_) => {}
            Ok(n) => {
                let action = rules.first_match(&n).map(|(_, r)| r.action);
                prop_assert_eq!(action, Some(policy::PathAction::Deny), "{:?} -> {:?}", raw, n);
            }
        }
        // Reached through the bypassed prefix, too.
        let up = ["..", "..;", "%2e%2e;", ".;/..", "..;x", "..%3B", "%2E%2E"][tweaks[0].1 as usize % 7];
        let walk = format!("/public/{up}{}", variant_of(&segs, &tweaks));
        if let Ok(n) = policy::normalize_path(&walk) {
            let action = rules.first_match(&n).map(|(_, r)| r.action);
            prop_assert_ne!(action, Some(policy::PathAction::Bypass), "{:?} -> {:?}", walk, n);
        }
    }
}
