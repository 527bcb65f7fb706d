use std::fmt;

/// A carrier line number: `CAF` + 10 alphanumerics or `COP` + 8 alphanumerics,
/// always upper case. Stored inline so that sets of a million lines stay compact
/// and lookups never allocate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineId {
    bytes: [u8; 13],
    len: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineIdError {
    #[error(
        "the line number is empty; expected CAF followed by 10 letters or digits (13 characters) or COP followed by 8 letters or digits (11 characters)"
    )]
    Empty,
    #[error(
        "the line number must start with CAF or COP, followed by letters or digits (CAF: 13 characters in all, COP: 11)"
    )]
    Prefix,
    #[error("a CAF line number has 13 characters (CAF and 10 letters or digits); this one has {0}")]
    CafLength(usize),
    #[error("a COP line number has 11 characters (COP and 8 letters or digits); this one has {0}")]
    CopLength(usize),
    #[error("a line number may contain only the letters A-Z and the digits 0-9 (found {0:?} at position {1})")]
    Character(char, usize),
}

impl LineId {
    /// Parses a line number as a user or a carrier header gives it: surrounding
    /// white space is ignored and letters are upper-cased.
    pub fn parse(input: &str) -> Result<LineId, LineIdError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(LineIdError::Empty);
        }
        // Bytes first: a carrier header is parsed on every line-auth request.
        // Only an invalid input pays for finding its character's position.
        if !s.bytes().all(|b| b.is_ascii_alphanumeric())
            && let Some((pos, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(LineIdError::Character(c, pos + 1));
        }
        let len = s.len();
        let prefix = s.as_bytes().get(..3);
        let expected = match prefix {
            Some(p) if p.eq_ignore_ascii_case(b"CAF") => 13,
            Some(p) if p.eq_ignore_ascii_case(b"COP") => 11,
            _ => return Err(LineIdError::Prefix),
        };
        if len != expected {
            return Err(if expected == 13 { LineIdError::CafLength(len) } else { LineIdError::CopLength(len) });
        }
        let mut bytes = [0u8; 13];
        for (dst, src) in bytes.iter_mut().zip(s.bytes()) {
            *dst = src.to_ascii_uppercase();
        }
        Ok(LineId { bytes, len: len as u8 })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII alphanumerics are ever stored.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

impl fmt::Display for LineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for LineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LineId({})", self.as_str())
    }
}

impl std::str::FromStr for LineId {
    type Err = LineIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LineId::parse(s)
    }
}

impl serde::Serialize for LineId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for LineId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LineId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_formats_and_upper_cases() {
        assert_eq!(LineId::parse("caf0123456789").unwrap().as_str(), "CAF0123456789");
        assert_eq!(LineId::parse(" COPab12cd34 ").unwrap().as_str(), "COPAB12CD34");
    }

    #[test]
    fn rejects_with_precise_messages() {
        assert_eq!(LineId::parse(""), Err(LineIdError::Empty));
        assert_eq!(LineId::parse("XYZ0123456789"), Err(LineIdError::Prefix));
        assert_eq!(LineId::parse("CAF012345678"), Err(LineIdError::CafLength(12)));
        assert_eq!(LineId::parse("COP012345678"), Err(LineIdError::CopLength(12)));
        assert_eq!(LineId::parse("CAF01234-6789"), Err(LineIdError::Character('-', 9)));
        assert_eq!(LineId::parse("CAF0123456789\u{e9}"), Err(LineIdError::Character('\u{e9}', 14)));
        assert!(LineId::parse("CA").is_err());
        let msg = LineIdError::CafLength(12).to_string();
        assert!(msg.contains("13 characters") && msg.contains("12"), "{msg}");
    }
}
