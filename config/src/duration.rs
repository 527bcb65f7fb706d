//! Durations as operators write them: `90s`, `15m`, `12h`, `14d`, or a bare
//! number of seconds.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

const EXPECTED: &str =
    "a positive whole number followed by s, m, h or d (e.g. 90s, 15m, 12h, 14d), or a number of seconds";

/// Parses a duration; zero is refused because every duration here is a
/// lifetime or a timeout, and zero would silently disable the feature.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let scale: u64 = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("invalid duration {input:?}: expected {EXPECTED}")),
    };
    let n: u64 = digits.parse().map_err(|_| format!("invalid duration {input:?}: expected {EXPECTED}"))?;
    seconds(n.checked_mul(scale).ok_or_else(|| format!("duration {input:?} is too long"))?)
}

/// Longer than anything is worth configuring, and short enough for the
/// gateway's `i64` Unix-second arithmetic and its caches.
const LONGEST_SECS: u64 = 36_500 * 86_400;

fn seconds(n: u64) -> Result<Duration, String> {
    if n == 0 {
        return Err(format!("a duration of zero is not allowed; expected {EXPECTED}"));
    }
    if n > LONGEST_SECS {
        return Err(format!("a duration of {n} seconds is too long; at most 100 years (36500d)"));
    }
    Ok(Duration::from_secs(n))
}

/// `deserialize_with` for a [`Duration`] field.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(DurationVisitor { zero_ok: false })
}

/// The same for the few durations where zero means "do not wait" rather than
/// switching something off (`shutdown.grace`).
pub(crate) fn deserialize_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(DurationVisitor { zero_ok: true })
}

/// Like [`parse_duration`], but `0` (with or without a unit) is zero.
pub fn parse_duration_or_zero(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    if !digits.is_empty() && digits.bytes().all(|b| b == b'0') && matches!(unit.trim(), "" | "s" | "m" | "h" | "d") {
        return Ok(Duration::ZERO);
    }
    parse_duration(input)
}

struct DurationVisitor {
    zero_ok: bool,
}

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        if v == 0 && self.zero_ok {
            return Ok(Duration::ZERO);
        }
        seconds(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        let v = u64::try_from(v).map_err(|_| E::custom(format!("invalid duration {v}: expected {EXPECTED}")))?;
        self.visit_u64(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        if self.zero_ok { parse_duration_or_zero(v) } else { parse_duration(v) }.map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("14d"), Ok(Duration::from_secs(1_209_600)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
    }

    #[test]
    fn refuses_durations_too_long_to_use() {
        // Found by the gateway_yaml fuzz target: `session.lifetime: 99999999999d`
        // was accepted; `now + lifetime as i64` then overflows, and a cache_ttl
        // over 1000 years makes moka panic at start-up.
        assert_eq!(parse_duration("36500d"), Ok(Duration::from_secs(36_500 * 86_400)));
        for long in ["36501d", "3153600001", "18446744073709551615", "999999999999h"] {
            assert!(parse_duration(long).unwrap_err().contains("100 years"), "{long}");
        }
    }

    #[test]
    fn refuses_zero_and_garbage() {
        for bad in ["0", "0s", "", "s", "1.5h", "10w", "-5m", "5 minutes", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("0m").unwrap_err().contains("zero"));
        assert!(parse_duration("10w").unwrap_err().contains("15m"));
    }

    #[test]
    fn zero_only_where_allowed() {
        for zero in ["0", "0s", "00m", "0d"] {
            assert_eq!(parse_duration_or_zero(zero), Ok(Duration::ZERO), "{zero}");
        }
        assert_eq!(parse_duration_or_zero("10s"), Ok(Duration::from_secs(10)));
        for bad in ["", "0w", "-0", "0.5s", "x"] {
            assert!(parse_duration_or_zero(bad).is_err(), "{bad}");
        }
    }
}
