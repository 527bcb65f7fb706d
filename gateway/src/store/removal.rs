//! Deleting a user or a whole tenant. The schema's cascades take the rows that
//! hang off a user or tenant (sessions, second factors, remembered browsers,
//! federated identities, links, lines, networks, invitations, directories);
//! what the cascades cannot reach is deleted here, and the change is recorded
//! in the same transaction so that every gateway drops the cached sessions.

use super::changes::{Change, RECORD};
use super::{Result, Store, now, on_pool};

/// What a removal took with it, for the operator's report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub users: u64,
    pub sessions: u64,
}

impl Store {
    /// Deletes a user who is not a tenant's owner (the statement itself
    /// refuses an owner, so a user made owner meanwhile is not removed). None:
    /// no such user, or an owner.
    pub async fn delete_user(&self, user_id: i64) -> Result<Option<Removed>> {
        let t = now();
        Ok(on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Invitations are kept by address, flows by id without a foreign key.
            sqlx::query(
                "DELETE FROM invitations WHERE (tenant_id, email) IN \
                 (SELECT tenant_id, email FROM users WHERE id = $1 AND role <> 'owner')",
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM federation_flows WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            let users = sqlx::query("DELETE FROM users WHERE id = $1 AND role <> 'owner'")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if users == 0 {
                tx.rollback().await?;
                return Ok(None);
            }
            sqlx::query(RECORD)
                .bind(t)
                .bind(Change::User(user_id).kind())
                .bind(Change::User(user_id).target())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Some(Removed { users, sessions })
        }))
    }

    /// Deletes a tenant with its users and everything theirs. None: no such tenant.
    pub async fn delete_tenant(&self, tenant_id: i64) -> Result<Option<Removed>> {
        let t = now();
        Ok(on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let user_ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM users WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_all(&mut *tx)
                .await?;
            let sessions = sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE tenant_id = $1)")
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(
                "DELETE FROM federation_flows WHERE tenant_id = $1 \
                 OR user_id IN (SELECT id FROM users WHERE tenant_id = $1)",
            )
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
            let users = sqlx::query("DELETE FROM users WHERE tenant_id = $1")
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let tenants = sqlx::query("DELETE FROM tenants WHERE id = $1")
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if tenants == 0 {
                tx.rollback().await?;
                return Ok(None);
            }
            // The tenant reloads as gone; each user's cached sessions are evicted.
            let changes = std::iter::once(Change::Tenant(tenant_id)).chain(user_ids.into_iter().map(Change::User));
            for change in changes {
                sqlx::query(RECORD).bind(t).bind(change.kind()).bind(change.target()).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Some(Removed { users, sessions })
        }))
    }
}
