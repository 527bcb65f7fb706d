//! The database URL: SQLite file paths are made independent of the working
//! directory; PostgreSQL URLs are passed through.

use std::path::Path;

use serde::de::Deserializer;

use crate::{context, secret};

/// Whether the URL names a PostgreSQL database (several instances may share it).
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Checks a database URL and resolves a relative SQLite file path against
/// `base_dir`, keeping any `?query`. Error texts never repeat the URL, which
/// may carry a password.
pub fn normalize_database_url(url: &str, base_dir: &Path) -> Result<String, String> {
    if url == "sqlite::memory:" || url.starts_with("sqlite::memory:?") {
        return Ok(url.to_owned());
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_owned());
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        let scheme = url.split_once(':').map_or("(none)", |(s, _)| s);
        return Err(format!(
            "unsupported database URL scheme {scheme:?}; expected sqlite://PATH, sqlite::memory: or postgres://…"
        ));
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (file, query) = match rest.split_once('?') {
        Some((f, q)) => (f, Some(q)),
        None => (rest, None),
    };
    if file.is_empty() {
        return Err("the sqlite URL names no file; expected sqlite://PATH".to_owned());
    }
    let file = Path::new(file);
    let full = if file.is_absolute() { file.to_path_buf() } else { base_dir.join(file) };
    let mut out = format!("sqlite://{}", full.display());
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// `deserialize_with` for `database`: a secret-style value, then normalised
/// (a relative SQLite file lives in the state folder).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    secret::deserialize_checked(d, |url| normalize_database_url(&url, &context::state_dir()))
}

/// The URL with any password replaced by `***`, for logs and `Debug`.
pub fn redact_database_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') { format!("{user}:***") } else { user.to_owned() };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_sqlite_paths() {
        let base = Path::new("/etc/gw");
        assert_eq!(
            normalize_database_url("sqlite://data/gateway.db", base).as_deref(),
            Ok("sqlite:///etc/gw/data/gateway.db")
        );
        assert_eq!(
            normalize_database_url("sqlite://data/g.db?mode=rwc", base).as_deref(),
            Ok("sqlite:///etc/gw/data/g.db?mode=rwc")
        );
        assert_eq!(normalize_database_url("sqlite:///var/g.db", base).as_deref(), Ok("sqlite:///var/g.db"));
        assert_eq!(normalize_database_url("sqlite:g.db", base).as_deref(), Ok("sqlite:///etc/gw/g.db"));
        assert_eq!(normalize_database_url("sqlite::memory:", base).as_deref(), Ok("sqlite::memory:"));
        assert_eq!(normalize_database_url("postgres://u@h/db", base).as_deref(), Ok("postgres://u@h/db"));
        assert_eq!(normalize_database_url("postgresql://h/db", base).as_deref(), Ok("postgresql://h/db"));
    }

    #[test]
    fn refuses_other_schemes_without_echoing_the_url() {
        let err = normalize_database_url("mysql://u:topsecret@h/db", Path::new("/")).unwrap_err();
        assert!(err.contains("\"mysql\"") && !err.contains("topsecret"), "{err}");
        assert!(normalize_database_url("sqlite://", Path::new("/")).is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_database_url("postgres://u:pw@h:5432/db?x=1"), "postgres://u:***@h:5432/db?x=1");
        assert_eq!(redact_database_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_database_url("sqlite:///a/b.db"), "sqlite:///a/b.db");
    }
}
