//! Values that must not end up in logs: given inline, or taken from an
//! environment variable or a file when the configuration is loaded.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use crate::context;

/// A resolved secret. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value obtained elsewhere (tests, the demo command).
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself; only for handing to the code that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

const EXPECTED: &str = "a string, { env: NAME } or { file: PATH }";

/// Accepts `value`, `{ env: NAME }` or `{ file: PATH }` (relative to the
/// configuration file's directory, one trailing newline dropped).
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_checked(d, Ok).map(Secret)
    }
}

/// Resolves a secret-style value and passes it through `check` while the value
/// is still being visited, so that `check`'s error carries its position.
pub(crate) fn deserialize_checked<'de, D: Deserializer<'de>>(
    d: D,
    check: fn(String) -> Result<String, String>,
) -> Result<String, D::Error> {
    d.deserialize_any(SecretVisitor { check })
}

struct SecretVisitor {
    check: fn(String) -> Result<String, String>,
}

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        (self.check)(v.to_owned()).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
        let Some(kind) = map.next_key::<String>()? else {
            return Err(de::Error::custom(format!("empty mapping; expected {EXPECTED}")));
        };
        let source: String = map.next_value()?;
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format!("give only one of env or file; expected {EXPECTED}")));
        }
        let value = match kind.as_str() {
            "env" => std::env::var(&source)
                .map_err(|e| de::Error::custom(format!("environment variable {source:?} cannot be used: {e}")))?,
            "file" => {
                let path = context::resolve(source.as_ref());
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| de::Error::custom(format!("cannot read secret file {}: {e}", path.display())))?;
                let value = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t));
                value.unwrap_or(&text).to_owned()
            }
            other => {
                return Err(de::Error::custom(format!("unknown secret source {other:?}; expected {EXPECTED}")));
            }
        };
        (self.check)(value).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }
}
