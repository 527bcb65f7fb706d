//! The form reader (`gateway::web::form::parse`, what `form::from_request` calls on the
//! body). The input is a raw body; its lines are also taken as name=value pairs
//! that a browser would encode, to check the round trip.
#![no_main]

use gateway::web::form::{FormError, parse};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 4096;

/// `application/x-www-form-urlencoded` decoding of one name or value, as bytes.
fn decode(raw: &[u8]) -> Vec<u8> {
    let plus: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    percent_encoding::percent_decode(&plus).collect()
}

fuzz_target!(|data: &[u8]| {
    match parse(data, MAX) {
        Err(FormError::TooLarge) => assert!(data.len() > MAX),
        Err(other) if data.len() > MAX => panic!("{other:?} for an oversized body"),
        Err(_) => {}
        Ok(form) => {
            assert!(data.len() <= MAX, "an oversized body was read");
            // Every field is exactly what was sent: nothing dropped, merged,
            // reordered or replaced (two different byte strings never read as
            // the same value).
            let raw: Vec<&[u8]> = data.split(|b| *b == b'&').filter(|p| !p.is_empty()).collect();
            assert_eq!(form.pairs().len(), raw.len(), "fields lost or invented");
            for ((name, value), piece) in form.pairs().iter().zip(&raw) {
                let (n, v) = match piece.iter().position(|b| *b == b'=') {
                    Some(eq) => (&piece[..eq], &piece[eq + 1..]),
                    None => (&piece[..], &b""[..]),
                };
                assert_eq!(name.as_bytes(), decode(n), "name {:?} read as {name:?}", String::from_utf8_lossy(n));
                assert_eq!(value.as_bytes(), decode(v), "value {:?} read as {value:?}", String::from_utf8_lossy(v));
            }
            if let Some((first_name, first_value)) = form.pairs().first() {
                assert_eq!(form.get(first_name), Some(first_value.as_str()));
            }
        }
    }

    // What a browser sends for these fields reads back as the fields.
    let text = String::from_utf8_lossy(data);
    let fields: Vec<(&str, &str)> = text.lines().map(|l| l.split_once('=').unwrap_or((l, ""))).collect();
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&fields).finish();
    let Ok(form) = parse(body.as_bytes(), usize::MAX) else { panic!("an encoded form was refused: {body:?}") };
    let got: Vec<(&str, &str)> = form.pairs().iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(got, fields, "round trip through {body:?}");
    for (name, _) in &fields {
        let first = fields.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
        assert_eq!(form.get(name), first);
    }
});
