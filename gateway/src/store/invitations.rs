//! Invitations a tenant's console sent and nobody has accepted yet.
//!
//! The console lists these rather than password-less `users` rows: an address
//! that has an account in another tenant gets an invitation row here too (and
//! no user), so the list, the actions on a row and a second invitation look the
//! same for it as for a fresh address (SPEC section 11).

use policy::Role;
use sqlx::Row;

use super::{LinkPurpose, Result, Store, canonical_email, known, now, on_pool};

/// What became of the mail of an invitation's latest send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationMail {
    /// In the background queue; the transport has not answered yet.
    Queued,
    Sent,
    /// Not sent: the transport refused it, or the queue could not take it.
    Failed,
}

impl InvitationMail {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationMail::Queued => "queued",
            InvitationMail::Sent => "sent",
            InvitationMail::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<InvitationMail> {
        Some(match s {
            "queued" => InvitationMail::Queued,
            "sent" => InvitationMail::Sent,
            "failed" => InvitationMail::Failed,
            _ => return None,
        })
    }
}

/// One pending invitation of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub email: String,
    pub role: Role,
    pub sent_at: i64,
    pub expires_at: i64,
    pub mail: InvitationMail,
    /// Which send of this row `mail` is about (see [`Store::invitation_mailed`]).
    pub attempt: i64,
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
        mail: known(
            "invitations",
            "mail_state",
            || format!("tenant_id {tenant_id}"),
            r.try_get("mail_state")?,
            |s| InvitationMail::parse(s).ok_or(()),
        )?,
        attempt: r.try_get("attempt")?,
    })
}

impl Store {
    /// Records (or renews, with the new role and expiry) the tenant's invitation
    /// of `email`, its mail queued; the same statement whether or not the
    /// address has an account. Returns the number of this send, which
    /// [`Store::invitation_mailed`] takes back.
    pub async fn record_invitation(&self, tenant_id: i64, email: &str, role: Role, expires_at: i64) -> Result<i64> {
        let email = canonical_email(email);
        Ok(on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO invitations (tenant_id, email, role, sent_at, expires_at, mail_state, attempt) \
                 VALUES ($1, $2, $3, $4, $5, 'queued', 1) \
                 ON CONFLICT (tenant_id, email) DO UPDATE SET role = excluded.role, sent_at = excluded.sent_at, \
                 expires_at = excluded.expires_at, mail_state = 'queued', attempt = invitations.attempt + 1 \
                 RETURNING attempt",
            )
            .bind(tenant_id)
            .bind(&email)
            .bind(role.as_str())
            .bind(now())
            .bind(expires_at)
            .fetch_one(p)
            .await?
        }))
    }

    /// Records what became of send `attempt` of the invitation. False when
    /// the row has been sent again or withdrawn since: a late answer about an
    /// older send changes nothing.
    pub async fn invitation_mailed(
        &self,
        tenant_id: i64,
        email: &str,
        attempt: i64,
        outcome: InvitationMail,
    ) -> Result<bool> {
        let email = canonical_email(email);
        let n = on_pool!(self, p => {
            sqlx::query("UPDATE invitations SET mail_state = $1 WHERE tenant_id = $2 AND email = $3 AND attempt = $4")
                .bind(outcome.as_str())
                .bind(tenant_id)
                .bind(&email)
                .bind(attempt)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Withdraws the tenant's invitation of `email`: one statement on this
    /// tenant's row only, the same whoever holds the address. The invitation
    /// page needs the row, so the mailed link dies with it. False: no such row.
    pub async fn withdraw_invitation(&self, tenant_id: i64, email: &str) -> Result<bool> {
        let email = canonical_email(email);
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM invitations WHERE tenant_id = $1 AND email = $2")
                .bind(tenant_id)
                .bind(&email)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// After a withdrawal: the invitee's password-less user (and with it its
    /// links), so the address is free again, in this tenant or another. Left
    /// alone when the address was invited again meanwhile, has registered, or
    /// is the owner. True: a user was removed.
    pub async fn forget_withdrawn_invitee(&self, tenant_id: i64, email: &str) -> Result<bool> {
        let email = canonical_email(email);
        let n = on_pool!(self, p => {
            sqlx::query(
                "DELETE FROM users WHERE tenant_id = $1 AND email = $2 AND password_hash IS NULL \
                 AND role <> 'owner' AND login_method = 'password' \
                 AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.tenant_id = $1 AND i.email = $2)",
            )
            .bind(tenant_id)
            .bind(&email)
            .execute(p)
            .await?
            .rows_affected()
        });
        // Never registered, so never signed in: no session of theirs is cached.
        Ok(n > 0)
    }

    /// Keeps the hash of the password an invitee chose on their live
    /// invitation link until they confirm it on the next screen; the
    /// confirmation uses the link up ([`Store::consume_staged_invitation`])
    /// and sets this hash. False: the link is not live.
    pub async fn stage_invitation_password(&self, token_hash: &str, password_hash: &str) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query(
                "UPDATE link_tokens SET payload = $1 WHERE token_hash = $2 AND purpose = $3 \
                 AND used_at IS NULL AND expires_at > $4",
            )
            .bind(password_hash)
            .bind(token_hash)
            .bind(LinkPurpose::Invite.as_str())
            .bind(now())
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    /// Forgets every password staged on a user's invitation links: once they
    /// have registered, or when a new link replaces the old ones, a chosen but
    /// unconfirmed password has no business staying in the database.
    pub async fn forget_staged_passwords(&self, user_id: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE link_tokens SET payload = NULL WHERE user_id = $1 AND purpose = $2 AND payload IS NOT NULL")
                .bind(user_id)
                .bind(LinkPurpose::Invite.as_str())
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Uses up a live invitation link whose staged password is `staged`, in
    /// one statement; returns its user and that password's hash. `None`:
    /// dead, nothing staged, or another password staged since (then the link
    /// stays live).
    pub async fn consume_staged_invitation(&self, token_hash: &str, staged: &str) -> Result<Option<(i64, String)>> {
        let t = now();
        let row = on_pool!(self, p => {
            sqlx::query(
                "UPDATE link_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL \
                 AND expires_at > $1 AND payload = $4 RETURNING user_id, payload",
            )
            .bind(t)
            .bind(token_hash)
            .bind(LinkPurpose::Invite.as_str())
            .bind(staged)
            .fetch_optional(p)
            .await?
            .map(|r| -> std::result::Result<(i64, String), sqlx::Error> { Ok((r.try_get("user_id")?, r.try_get("payload")?)) })
            .transpose()?
        });
        Ok(row)
    }

    /// The tenant's invitation of `email`, expired or not.
    pub async fn invitation(&self, tenant_id: i64, email: &str) -> Result<Option<Invitation>> {
        let email = canonical_email(email);
        Ok(on_pool!(self, p => {
            sqlx::query(
                "SELECT email, role, sent_at, expires_at, mail_state, attempt FROM invitations \
                 WHERE tenant_id = $1 AND email = $2",
            )
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
                "SELECT i.email, i.role, i.sent_at, i.expires_at, i.mail_state, i.attempt FROM invitations i WHERE i.tenant_id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = i.tenant_id AND u.email = i.email \
                 AND (u.password_hash IS NOT NULL OR u.login_method = 'federated')) ORDER BY i.email",
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
