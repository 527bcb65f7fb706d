//! The change log: what each write means for the copies other instances (and
//! this one) keep in memory. Written after the change itself, so a reader that
//! sees the event and reloads sees the change.

use std::fmt;

use sqlx::Row;

use super::{Result, Store, now, on_pool};

/// The channel every instance LISTENs on (PostgreSQL); the migration's
/// trigger notifies it with "seq kind target" for each row.
pub const CHANNEL: &str = "gateway_changes";

/// Events older than this are pruned; an instance further behind reloads whole.
pub const KEEP_SECS: i64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// One session ended or changed (sudo granted): evict it. The stored id hash.
    Session(String),
    /// A user's role, email, lock, login method or factors changed: evict
    /// that user's sessions so they are read again.
    User(i64),
    /// A tenant's route, 2FA switch, lines or networks changed: reload it.
    Tenant(i64),
    /// Anything else: reload every tenant and drop every cached session.
    All,
}

impl Change {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Change::Session(_) => "session",
            Change::User(_) => "user",
            Change::Tenant(_) => "tenant",
            Change::All => "all",
        }
    }

    pub(super) fn target(&self) -> String {
        match self {
            Change::Session(h) => h.clone(),
            Change::User(id) | Change::Tenant(id) => id.to_string(),
            Change::All => String::new(),
        }
    }

    /// Reads a row or a notification's parts; None for anything this version
    /// does not know, which the reader answers with a whole reload.
    pub fn parse(kind: &str, target: &str) -> Option<Change> {
        match kind {
            "session" if target.len() == 64 && target.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(Change::Session(target.to_owned()))
            }
            "user" => target.parse().ok().map(Change::User),
            "tenant" => target.parse().ok().map(Change::Tenant),
            "all" => Some(Change::All),
            _ => None,
        }
    }

    /// A notification's payload, "seq kind target"; None when unreadable.
    pub fn parse_payload(payload: &str) -> Option<(i64, Option<Change>)> {
        let mut parts = payload.splitn(3, ' ');
        let seq = parts.next()?.parse().ok()?;
        let kind = parts.next()?;
        let target = parts.next().unwrap_or("");
        Some((seq, Change::parse(kind, target)))
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.target())
    }
}

/// The insert of one change, for writes that record theirs in their own
/// transaction: then the change and its record commit together or not at all.
pub(super) const RECORD: &str = "INSERT INTO change_events (at, kind, target) VALUES ($1, $2, $3)";

impl Store {
    /// Records a change for every instance. On PostgreSQL the insert also
    /// notifies them (the trigger), in the same transaction.
    pub async fn record_change(&self, change: Change) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(RECORD)
                .bind(now())
                .bind(change.kind())
                .bind(change.target())
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// The newest change's number (0 when there is none): read before loading
    /// state, so that the follower reads on from there.
    pub async fn last_change(&self) -> Result<i64> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(seq) FROM change_events").fetch_one(p).await?
        })
        .unwrap_or(0))
    }

    /// Up to `limit` changes after `seq`, oldest first. An unknown kind is
    /// `None` (the reader reloads whole).
    pub async fn changes_after(&self, seq: i64, limit: i64) -> Result<Vec<(i64, Option<Change>)>> {
        let rows = on_pool!(self, p => {
            sqlx::query("SELECT seq, kind, target FROM change_events WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(seq)
                .bind(limit)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| -> std::result::Result<_, sqlx::Error> {
                    let kind: String = r.try_get("kind")?;
                    let target: String = r.try_get("target")?;
                    Ok((r.try_get::<i64, _>("seq")?, Change::parse(&kind, &target)))
                })
                .collect::<std::result::Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Drops changes older than [`KEEP_SECS`], and throttle windows that ended.
    pub async fn prune_changes(&self) -> Result<()> {
        let t = now();
        on_pool!(self, p => {
            sqlx::query("DELETE FROM change_events WHERE at < $1").bind(t - KEEP_SECS).execute(p).await?;
            sqlx::query("DELETE FROM throttle_windows WHERE window_start < $1").bind(t - 3600).execute(p).await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_and_junk_is_unknown() {
        let h = "ab".repeat(32);
        assert_eq!(Change::parse_payload(&format!("7 session {h}")), Some((7, Some(Change::Session(h.clone())))));
        assert_eq!(Change::parse_payload("8 user 42"), Some((8, Some(Change::User(42)))));
        assert_eq!(Change::parse_payload("9 tenant 3"), Some((9, Some(Change::Tenant(3)))));
        assert_eq!(Change::parse_payload("10 all "), Some((10, Some(Change::All))));
        assert_eq!(Change::parse_payload("11 all"), Some((11, Some(Change::All))));
        // Known number, unknown meaning: the reader must reload whole.
        assert_eq!(Change::parse_payload("12 session ../x"), Some((12, None)));
        assert_eq!(Change::parse_payload("13 party 1"), Some((13, None)));
        assert_eq!(Change::parse_payload("x user 1"), None);
        assert_eq!(Change::parse_payload(""), None);
    }
}
