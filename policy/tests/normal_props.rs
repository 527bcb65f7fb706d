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
