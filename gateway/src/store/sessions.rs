use policy::{Factor, HostKind, LoginMethod, Role};
use sqlx::Row;

use super::changes::Change;
use super::{Result, Store, known, now, on_pool};

pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: i64,
    pub host: HostKind,
    pub factor: Option<Factor>,
    pub line: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    pub expires_at: i64,
    /// Earned but not in force until the recovery code is confirmed saved.
    pub pending_factor: Option<Factor>,
    pub pending_remember: bool,
}

/// What a request needs to know about its session, joined with its user.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user_id: i64,
    pub tenant_id: i64,
    pub email: String,
    pub role: Role,
    pub method: LoginMethod,
    /// The provider id of a federated user (`google`, `ad`, …).
    pub provider: Option<String>,
    pub factor: Option<Factor>,
    pub host: HostKind,
    pub expires_at: i64,
    pub last_seen_at: i64,
    pub pending_factor: Option<Factor>,
    pub pending_remember: bool,
    /// Until when settings and admin pages are open without asking the password again.
    pub sudo_until: Option<i64>,
}

impl Store {
    pub async fn insert_session(&self, s: NewSession<'_>) -> Result<()> {
        let t = now();
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, host_kind, second_factor, line, client_ip, created_at, last_seen_at, expires_at, \
                 pending_factor, pending_remember) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10)",
            )
            .bind(s.id_hash)
            .bind(s.user_id)
            .bind(s.host.as_str())
            .bind(s.factor.map(|f| f.as_str()))
            .bind(s.line)
            .bind(s.client_ip)
            .bind(t)
            .bind(s.expires_at)
            .bind(s.pending_factor.map(|f| f.as_str()))
            .bind(s.pending_remember)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// The live session with this id hash, or None when it is unknown, expired,
    /// belongs to a locked user, or holds a host or factor this version does not
    /// understand. A user's role or login method it does not know is
    /// [`super::StoreError::Corrupt`], as wherever a user is read.
    pub async fn session_by_hash(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        let t = now();
        let row = on_pool!(self, p => {
            sqlx::query(
                "SELECT s.user_id, s.host_kind, s.second_factor, s.expires_at, s.last_seen_at, s.pending_factor, s.pending_remember, s.sudo_until, u.tenant_id, u.email, u.role, u.login_method, f.provider \
                 FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN federated_identities f ON f.user_id = u.id \
                 WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.locked_at IS NULL",
            )
            .bind(id_hash)
            .bind(t)
            .fetch_optional(p)
            .await?
            .map(|r| -> std::result::Result<_, sqlx::Error> {
                Ok((
                    r.try_get::<i64, _>("user_id")?,
                    r.try_get::<String, _>("host_kind")?,
                    r.try_get::<Option<String>, _>("second_factor")?,
                    r.try_get::<i64, _>("expires_at")?,
                    r.try_get::<i64, _>("last_seen_at")?,
                    r.try_get::<Option<String>, _>("pending_factor")?,
                    r.try_get::<bool, _>("pending_remember")?,
                    r.try_get::<Option<i64>, _>("sudo_until")?,
                    r.try_get::<i64, _>("tenant_id")?,
                    r.try_get::<String, _>("email")?,
                    r.try_get::<String, _>("role")?,
                    r.try_get::<String, _>("login_method")?,
                    r.try_get::<Option<String>, _>("provider")?,
                ))
            })
            .transpose()?
        });
        let Some((
            user_id,
            host,
            factor,
            expires_at,
            last_seen_at,
            pending,
            pending_remember,
            sudo_until,
            tenant_id,
            email,
            role,
            method,
            provider,
        )) = row
        else {
            return Ok(None);
        };
        let row = || format!("id {user_id}");
        let role = known("users", "role", row, role, Role::parse)?;
        let method = known("users", "login_method", row, method, LoginMethod::parse)?;
        // Unknown values fail closed: the session is treated as absent.
        let Some(host) = HostKind::parse(&host) else {
            return Ok(None);
        };
        let parse = |f: Option<String>| match f {
            None => Ok(None),
            Some(f) => Factor::parse(&f).map(Some),
        };
        let (Ok(factor), Ok(pending_factor)) = (parse(factor), parse(pending)) else {
            return Ok(None);
        };
        Ok(Some(SessionRecord {
            user_id,
            tenant_id,
            email,
            role,
            method,
            provider,
            factor,
            host,
            expires_at,
            last_seen_at,
            pending_factor,
            pending_remember,
            sudo_until,
        }))
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(p).await?.rows_affected()
        });
        if n > 0 {
            self.record_change(Change::Session(id_hash.to_owned())).await?;
        }
        Ok(n > 0)
    }

    pub async fn delete_user_sessions(&self, user_id: i64) -> Result<u64> {
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(p).await?.rows_affected()
        });
        self.record_change(Change::User(user_id)).await?;
        Ok(n)
    }

    /// Opens settings and admin pages for this session until `until`.
    pub async fn grant_sudo(&self, id_hash: &str, until: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE sessions SET sudo_until = $1 WHERE id_hash = $2").bind(until).bind(id_hash).execute(p).await?;
        });
        // Other instances hold the session without it: evicted, they read it again.
        self.record_change(Change::Session(id_hash.to_owned())).await
    }

    /// Users of a tenant with live sessions, and how many of them signed in from
    /// neither a registered line nor one of `networks` (judged by the address
    /// recorded at sign-in): those a switch to line-only would shut out.
    pub async fn tenant_sessions(&self, tenant_id: i64) -> Result<Vec<(i64, Option<String>, Option<String>)>> {
        let t = now();
        Ok(on_pool!(self, p => {
            sqlx::query(
                "SELECT s.user_id, s.client_ip, s.line FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE u.tenant_id = $1 AND s.expires_at > $2",
            )
            .bind(tenant_id)
            .bind(t)
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| -> std::result::Result<_, sqlx::Error> {
                Ok((r.try_get::<i64, _>("user_id")?, r.try_get::<Option<String>, _>("client_ip")?, r.try_get::<Option<String>, _>("line")?))
            })
            .collect::<std::result::Result<Vec<_>, _>>()?
        }))
    }

    /// Writes behind the "last seen" times gathered in memory; never moves one back.
    pub async fn touch_sessions(&self, touched: &[(String, i64)]) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for (id_hash, at) in touched {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at < $1")
                    .bind(*at)
                    .bind(id_hash)
                    .execute(&mut *tx)
                    .await?;
                // Activity is also what the 30-day rule of 2-step verification looks at.
                sqlx::query(
                    "UPDATE users SET last_access_at = $1 WHERE id = (SELECT user_id FROM sessions WHERE id_hash = $2) \
                     AND (last_access_at IS NULL OR last_access_at < $1)",
                )
                .bind(*at)
                .bind(id_hash)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        Ok(on_pool!(self, p => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now()).execute(p).await?.rows_affected()
        }))
    }
}
