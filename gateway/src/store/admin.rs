//! What the admin console reads and changes: a tenant's users at a glance, role
//! changes between user and admin, and the audit log searched and paged.

use sqlx::Row;

use policy::Role;

use super::changes::Change;
use super::{AuditEntry, Result, Store, StoreError, known, now, on_pool};

/// One row of the admin console's user list.
#[derive(Debug, Clone)]
pub struct UserOverview {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub locked: bool,
    /// No password yet: the invitation has not been accepted.
    pub invited: bool,
    pub has_second_factor: bool,
    /// Sessions neither expired nor idle past `live_since`.
    pub live_sessions: i64,
}

/// Which audit entries of a tenant to show.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter<'a> {
    /// Matches the actor or the subject, exactly (canonical email).
    pub user: Option<&'a str>,
    /// Matches the start of the event name, taken literally (no wildcards).
    pub event_prefix: Option<&'a str>,
}

/// Escapes `%`, `_` and the escape character itself, for `LIKE … ESCAPE '\'`.
pub fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// The users of a tenant by email, with what an administrator needs to see.
    /// Users who have not registered from a console invitation are left out:
    /// the console shows them as their [`super::Invitation`], and not at all
    /// once it is withdrawn (until the queue removes the user row). Only the
    /// owner, invited by the operator, is listed before registering.
    /// `live_since`: sessions last seen before this count as idle (ended).
    pub async fn tenant_user_overview(&self, tenant_id: i64, live_since: i64) -> Result<Vec<UserOverview>> {
        let t = now();
        Ok(on_pool!(self, p => {
            sqlx::query(
                "SELECT u.id, u.email, u.role, u.locked_at, u.password_hash, u.sms_phone, u.totp_secret, \
                 (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > $2 AND s.last_seen_at >= $3) AS live \
                 FROM users u WHERE u.tenant_id = $1 \
                 AND NOT (u.password_hash IS NULL AND u.role <> 'owner' AND u.login_method = 'password') \
                 ORDER BY u.email",
            )
            .bind(tenant_id)
            .bind(t)
            .bind(live_since)
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| -> Result<UserOverview> {
                let id: i64 = r.try_get("id")?;
                Ok(UserOverview {
                    id,
                    email: r.try_get("email")?,
                    role: known("users", "role", || format!("id {id}"), r.try_get("role")?, Role::parse)?,
                    locked: r.try_get::<Option<i64>, _>("locked_at")?.is_some(),
                    invited: r.try_get::<Option<String>, _>("password_hash")?.is_none(),
                    has_second_factor: r.try_get::<Option<String>, _>("sms_phone")?.is_some()
                        || r.try_get::<Option<String>, _>("totp_secret")?.is_some(),
                    live_sessions: r.try_get("live")?,
                })
            })
            .collect::<Result<Vec<_>>>()?
        }))
    }

    /// Moves a user of the tenant between `user` and `admin`. The owner's role
    /// never changes here and nobody becomes owner: the statement itself refuses,
    /// so a race with another change cannot slip through. False: no such
    /// user/admin in the tenant.
    pub async fn set_user_role(&self, tenant_id: i64, user_id: i64, role: Role) -> Result<bool> {
        if role == Role::Owner {
            return Err(StoreError::Invalid("the owner is not chosen in the admin console".into()));
        }
        let n = on_pool!(self, p => {
            sqlx::query(
                "UPDATE users SET role = $1, updated_at = $2 \
                 WHERE id = $3 AND tenant_id = $4 AND role IN ('user', 'admin')",
            )
            .bind(role.as_str())
            .bind(now())
            .bind(user_id)
            .bind(tenant_id)
            .execute(p)
            .await?
            .rows_affected()
        });
        if n > 0 {
            self.record_change(Change::User(user_id)).await?;
        }
        Ok(n > 0)
    }

    /// A tenant's audit entries, newest first, `limit` from `offset`.
    pub async fn audit_search(
        &self,
        tenant_id: i64,
        filter: &AuditFilter<'_>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        // Only fixed fragments go into the SQL text; the user's input is bound.
        let mut sql =
            String::from("SELECT at, actor, subject, event, client_ip, host_kind FROM audit_log WHERE tenant_id = $1");
        let mut n = 1;
        if filter.user.is_some() {
            n += 1;
            sql.push_str(&format!(" AND (actor = ${n} OR subject = ${n})"));
        }
        if filter.event_prefix.is_some() {
            n += 1;
            sql.push_str(&format!(" AND event LIKE ${n} ESCAPE '\\'"));
        }
        sql.push_str(&format!(" ORDER BY at DESC, id DESC LIMIT ${} OFFSET ${}", n + 1, n + 2));
        let pattern = filter.event_prefix.map(|e| format!("{}%", like_literal(e)));
        let rows = on_pool!(self, p => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id);
            if let Some(u) = filter.user {
                q = q.bind(u);
            }
            if let Some(pat) = &pattern {
                q = q.bind(pat);
            }
            q.bind(limit)
                .bind(offset)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| -> std::result::Result<AuditEntry, sqlx::Error> {
                    Ok(AuditEntry {
                        at: r.try_get("at")?,
                        actor: r.try_get("actor")?,
                        subject: r.try_get("subject")?,
                        event: r.try_get("event")?,
                        client_ip: r.try_get("client_ip")?,
                        host_kind: r.try_get("host_kind")?,
                    })
                })
                .collect::<std::result::Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::like_literal;

    #[test]
    fn like_wildcards_are_taken_literally() {
        assert_eq!(like_literal("login"), "login");
        assert_eq!(like_literal("a%b_c\\d"), "a\\%b\\_c\\\\d");
    }
}
