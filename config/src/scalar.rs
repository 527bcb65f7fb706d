//! Validation of scalar values inside the deserializer's visitor.
//!
//! serde_yaml attaches the position of a scalar to an error only if the error
//! is raised while that scalar is being visited; an error raised after
//! `String::deserialize` returns gets the position of the enclosing mapping or
//! list instead. Every check of a single value therefore goes through here.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};

/// Deserializes a string and turns it into a `T` with `parse`, whose error text
/// is reported at the string's own line and column.
pub(crate) fn parse_str<'de, D, T, F>(d: D, expecting: &'static str, parse: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(&str) -> Result<T, String>,
{
    d.deserialize_str(StrVisitor { expecting, parse, out: PhantomData })
}

struct StrVisitor<F, T> {
    expecting: &'static str,
    parse: F,
    out: PhantomData<T>,
}

impl<'de, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'de> for StrVisitor<F, T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }
}

/// Deserializes a whole number and checks it with `check`, reporting at the
/// number's own position.
pub(crate) fn parse_u64<'de, D, F>(d: D, expecting: &'static str, check: F) -> Result<u64, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(u64) -> Result<u64, String>,
{
    d.deserialize_u64(U64Visitor { expecting, check })
}

struct U64Visitor<F> {
    expecting: &'static str,
    check: F,
}

impl<'de, F: FnOnce(u64) -> Result<u64, String>> Visitor<'de> for U64Visitor<F> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        (self.check)(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        let v = u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative; expected {}", self.expecting)))?;
        self.visit_u64(v)
    }
}
