//! Whether a PostgreSQL connection is protected enough to carry sessions,
//! password hashes and audit records.
//!
//! libpq's default, `sslmode=prefer`, tries TLS and falls back to plain text
//! without a word, and so do `allow` and `disable`. Towards another host that is
//! refused unless the operator says the network is trusted
//! (`database_allow_plain_text`); on loopback or a Unix socket nothing crosses
//! a network. `require` encrypts but checks no certificate, so anyone on the
//! path can pose as the server: accepted, with a warning at start-up.

use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// What start-up does with a connection's settings.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Encrypted and authenticated, or local.
    Fine,
    /// Accepted, with this warning logged.
    Warn(String),
    /// Refused, with this reason.
    Refuse(String),
}

/// A host is local when it is a Unix socket, `localhost` or a loopback address.
fn is_local(opts: &PgConnectOptions) -> bool {
    if opts.get_socket().is_some() {
        return true;
    }
    let host = opts.get_host().trim_end_matches('.');
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Judges the effective settings (the URL, and sqlx's `PG*` environment defaults).
pub fn judge(opts: &PgConnectOptions, allow_plain_text: bool) -> Verdict {
    if is_local(opts) {
        return Verdict::Fine;
    }
    let host = opts.get_host();
    match opts.get_ssl_mode() {
        PgSslMode::VerifyFull => Verdict::Fine,
        PgSslMode::VerifyCa => Verdict::Warn(format!(
            "the database at {host} is reached with sslmode=verify-ca: its certificate chain is checked but \
             not its host name; sslmode=verify-full checks both"
        )),
        PgSslMode::Require => Verdict::Warn(format!(
            "the database at {host} is reached with sslmode=require: encrypted, but its certificate is not \
             checked, so anyone on the path can pose as the database; use sslmode=verify-full (and sslrootcert \
             for a private CA)"
        )),
        mode @ (PgSslMode::Disable | PgSslMode::Allow | PgSslMode::Prefer) => {
            let name = match mode {
                PgSslMode::Disable => "sslmode=disable",
                PgSslMode::Allow => "sslmode=allow",
                _ => "sslmode=prefer (the default when the URL names none)",
            };
            if allow_plain_text {
                Verdict::Warn(format!(
                    "the database at {host} may be reached in plain text ({name}); database_allow_plain_text is \
                     set, so this is accepted"
                ))
            } else {
                Verdict::Refuse(format!(
                    "the database at {host} is not on this machine and {name} may send sessions and password \
                     hashes over the network in plain text; add sslmode=verify-full (and sslrootcert=CA.pem for a \
                     private CA) to the database URL, or set database_allow_plain_text: true if the network is \
                     trusted"
                ))
            }
        }
    }
}

/// The verdict for a configured database URL, for `check-config`; `None` for
/// SQLite, and for a URL sqlx cannot read (connecting reports that).
pub fn judge_url(url: &str, allow_plain_text: bool) -> Option<Verdict> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return None;
    }
    <PgConnectOptions as std::str::FromStr>::from_str(url).ok().map(|o| judge(&o, allow_plain_text))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn verdict(url: &str, allow: bool) -> Verdict {
        judge(&PgConnectOptions::from_str(url).unwrap(), allow)
    }

    #[test]
    fn local_connections_may_be_plain() {
        for url in [
            "postgres://u@127.0.0.1/db",
            "postgres://u@localhost/db?sslmode=disable",
            "postgres://u@[::1]:5433/db",
            "postgres://u@h/db?host=/var/run/postgresql",
        ] {
            assert_eq!(verdict(url, false), Verdict::Fine, "{url}");
        }
    }

    #[test]
    fn remote_plain_text_is_refused_unless_allowed() {
        for mode in ["", "?sslmode=prefer", "?sslmode=allow", "?sslmode=disable"] {
            let url = format!("postgres://u:pw@db.example.net/db{mode}");
            let Verdict::Refuse(why) = verdict(&url, false) else { panic!("{url} was not refused") };
            assert!(why.contains("db.example.net") && !why.contains("pw"), "{why}");
            assert!(matches!(verdict(&url, true), Verdict::Warn(_)), "{url}");
        }
    }

    #[test]
    fn remote_tls_without_a_full_check_is_warned() {
        assert!(matches!(verdict("postgres://u@10.0.0.5/db?sslmode=require", false), Verdict::Warn(_)));
        assert!(matches!(verdict("postgres://u@10.0.0.5/db?sslmode=verify-ca", false), Verdict::Warn(_)));
        assert_eq!(verdict("postgres://u@10.0.0.5/db?sslmode=verify-full", false), Verdict::Fine);
    }
}
