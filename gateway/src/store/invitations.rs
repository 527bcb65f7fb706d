//! Invitations a tenant's console sent and nobody has accepted yet.
//!
//! The console lists these rather than password-less `users` rows: an address
//! that has an account in another tenant gets an invitation row here too (and
//! no user), so the list, the actions on a row and a second invitation look the
//! same for it as for a fresh address (SPEC section 11).

use policy::Role;
use sqlx::Row;

use super::{Result, Store, canonical_email, known, now, on_pool};

/// One pending invitation of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub email: String,
    pub role: Role,
    pub sent_at: i64,
    pub expires_at: i64,
}

impl Invitation {
    /// Past the link's validity: shown as expired until invited again.
    pub fn expired(&self, at: i64) -> bool {
        self.expires_at <= at
    }
}

/// The row names the tenant only: the address stays out of the log.
fn invitation_of<R: Row>(tenant_id: i64, r: &R) -> Result<Invitation>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Invitation {
        email: r.try_get("email")?,
        role: known("invitations", "role", || format!("tenant_id {tenant_id}"), r.try_get("role")?, Role::parse)?,
        sent_at: r.try_get("sent_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

impl Store {
    /// Records (or renews, with the new role and expiry) the tenant's invitation
    /// of `email`; the same statement whether or not the address has an account.
    pub async fn record_invitation(&self, tenant_id: i64, email: &str, role: Role, expires_at: i64) -> Result<()> {
        let email = canonical_email(email);
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO invitations (tenant_id, email, role, sent_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, email) DO UPDATE SET role = excluded.role, sent_at = excluded.sent_at, \
                 expires_at = excluded.expires_at",
            )
            .bind(tenant_id)
            .bind(&email)
            .bind(role.as_str())
            .bind(now())
            .bind(expires_at)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// The tenant's invitation of `email`, expired or not.
    pub async fn invitation(&self, tenant_id: i64, email: &str) -> Result<Option<Invitation>> {
        let email = canonical_email(email);
        Ok(on_pool!(self, p => {
            sqlx::query("SELECT email, role, sent_at, expires_at FROM invitations WHERE tenant_id = $1 AND email = $2")
                .bind(tenant_id)
                .bind(&email)
                .fetch_optional(p)
                .await?
                .map(|r| invitation_of(tenant_id, &r))
                .transpose()?
        }))
    }

    /// The tenant's pending invitations by email, without those of its users
    /// who have registered meanwhile (they are listed as users).
    pub async fn tenant_invitations(&self, tenant_id: i64) -> Result<Vec<Invitation>> {
        Ok(on_pool!(self, p => {
            sqlx::query(
                "SELECT i.email, i.role, i.sent_at, i.expires_at FROM invitations i WHERE i.tenant_id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = i.tenant_id AND u.email = i.email \
                 AND u.password_hash IS NOT NULL) ORDER BY i.email",
            )
            .bind(tenant_id)
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| invitation_of(tenant_id, &r))
            .collect::<Result<Vec<_>>>()?
        }))
    }

    /// The invitee registered: from now on a user, no longer an invitation.
    pub async fn invitation_accepted(&self, tenant_id: i64, email: &str) -> Result<()> {
        let email = canonical_email(email);
        on_pool!(self, p => {
            sqlx::query("DELETE FROM invitations WHERE tenant_id = $1 AND email = $2")
                .bind(tenant_id)
                .bind(&email)
                .execute(p)
                .await?;
        });
        Ok(())
    }
}
