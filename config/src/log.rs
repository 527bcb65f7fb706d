//! The `log:` block of `gateway.yaml`: how the gateway's own log is written,
//! and where the access log goes.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// The gateway's logs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` (one readable line per event) or `json` (one JSON object per line,
    /// for journald, a container runtime or a log shipper).
    pub format: LogFormat,
    /// A `tracing` filter (`info,pingora=warn`, `debug`, `gateway=debug`…).
    /// The `GATEWAY_LOG` environment variable, when set, wins over it.
    #[serde(deserialize_with = "non_empty")]
    pub level: String,
    /// One line per request: `off`, `stdout`, `stderr` or a file path
    /// (relative to the configuration file's folder; reopened on SIGHUP).
    pub access: AccessLog,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { format: LogFormat::Text, level: DEFAULT_LEVEL.to_owned(), access: AccessLog::Off }
    }
}

/// What the log filter is when neither the file nor `GATEWAY_LOG` says.
pub const DEFAULT_LEVEL: &str = "info,pingora=warn";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Where access log lines go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AccessLog {
    #[default]
    Off,
    Stdout,
    Stderr,
    File(PathBuf),
}

impl<'de> Deserialize<'de> for AccessLog {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AccessVisitor)
    }
}

struct AccessVisitor;

impl<'de> Visitor<'de> for AccessVisitor {
    type Value = AccessLog;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("off, stdout, stderr or a file path")
    }

    fn visit_unit<E: de::Error>(self) -> Result<AccessLog, E> {
        Ok(AccessLog::Off)
    }

    // YAML 1.1 readers take `off` as false; accept that spelling too.
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<AccessLog, E> {
        if v { Err(E::custom("expected off, stdout, stderr or a file path")) } else { Ok(AccessLog::Off) }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<AccessLog, E> {
        Ok(match v {
            "off" => AccessLog::Off,
            "stdout" => AccessLog::Stdout,
            "stderr" => AccessLog::Stderr,
            "" => return Err(E::custom("expected off, stdout, stderr or a file path, not an empty string")),
            path => AccessLog::File(PathBuf::from(path)),
        })
    }
}

fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Err(de::Error::custom("log.level must not be empty (the default is \"info,pingora=warn\")"));
    }
    Ok(s)
}
