use sqlx::Row;

use super::{Result, Store, now, on_pool};

/// One security event as `gateway audit` prints it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub event: String,
    pub client_ip: Option<String>,
    pub host_kind: Option<String>,
}

impl Store {
    pub async fn audit(
        &self,
        tenant_id: Option<i64>,
        actor: Option<&str>,
        subject: Option<&str>,
        event: &str,
        client_ip: Option<&str>,
        host_kind: Option<&str>,
    ) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO audit_log (at, tenant_id, actor, subject, event, client_ip, host_kind) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(now())
            .bind(tenant_id)
            .bind(actor)
            .bind(subject)
            .bind(event)
            .bind(client_ip)
            .bind(host_kind)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// A tenant's events since a time, oldest first.
    pub async fn audit_entries(&self, tenant_id: i64, since: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = on_pool!(self, p => {
            sqlx::query(
                "SELECT at, actor, subject, event, client_ip, host_kind FROM audit_log \
                 WHERE tenant_id = $1 AND at >= $2 ORDER BY at, id LIMIT $3",
            )
            .bind(tenant_id)
            .bind(since)
            .bind(limit)
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
