use super::{Result, Store, now, on_pool};

/// What an emailed link is for; a link opens only the flow it was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Invite,
    Unlock,
    Reset,
    EmailChange,
    /// A line-auth login waiting for the user's consent to share line information.
    LineConsent,
    /// Not mailed: a signed-in user proved a current second factor and may
    /// now register a new phone or authenticator app (payload: what changes
    /// and which factor proved it), for a few minutes.
    FactorChange,
    /// Mailed by an admin: the user chooses a new login method.
    LoginMethod,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invite => "invite",
            LinkPurpose::Unlock => "unlock",
            LinkPurpose::Reset => "reset",
            LinkPurpose::EmailChange => "email-change",
            LinkPurpose::LineConsent => "line-consent",
            LinkPurpose::FactorChange => "factor-change",
            LinkPurpose::LoginMethod => "login-method",
        }
    }
}

pub struct NewLink<'a> {
    pub token_hash: &'a str,
    pub purpose: LinkPurpose,
    pub user_id: i64,
    pub payload: Option<&'a str>,
    pub expires_at: i64,
}

impl Store {
    /// Stores a link; older unused links of the same purpose for the user are voided.
    /// Voids every live link of a user of these purposes.
    pub async fn void_links(&self, user_id: i64, purposes: &[LinkPurpose]) -> Result<()> {
        for purpose in purposes {
            on_pool!(self, p => {
                sqlx::query("UPDATE link_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
                    .bind(now())
                    .bind(user_id)
                    .bind(purpose.as_str())
                    .execute(p)
                    .await?;
            });
        }
        Ok(())
    }

    pub async fn create_link(&self, l: NewLink<'_>) -> Result<()> {
        let t = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE link_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
                .bind(t)
                .bind(l.user_id)
                .bind(l.purpose.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO link_tokens (token_hash, purpose, user_id, payload, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(l.token_hash)
            .bind(l.purpose.as_str())
            .bind(l.user_id)
            .bind(l.payload)
            .bind(t)
            .bind(l.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Whether the link is live (unused, unexpired, of this purpose); returns its user.
    pub async fn peek_link(&self, token_hash: &str, purpose: LinkPurpose) -> Result<Option<i64>> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar(
                "SELECT user_id FROM link_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
            )
            .bind(token_hash)
            .bind(purpose.as_str())
            .bind(now())
            .fetch_optional(p)
            .await?
        }))
    }

    /// Whether the user holds a live link of this purpose (unused, unexpired).
    pub async fn has_live_link(&self, user_id: i64, purpose: LinkPurpose) -> Result<bool> {
        let n: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM link_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
            )
            .bind(user_id)
            .bind(purpose.as_str())
            .bind(now())
            .fetch_one(p)
            .await?
        });
        Ok(n > 0)
    }

    /// As [`Store::peek_link`], also returning the link's payload (the new
    /// address of an email change, which its confirm page shows; what a
    /// factor change changes and which factor proved it).
    pub async fn peek_link_with_payload(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
    ) -> Result<Option<(i64, Option<String>)>> {
        use sqlx::Row;
        let row = on_pool!(self, p => {
            sqlx::query(
                "SELECT user_id, payload FROM link_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
            )
            .bind(token_hash)
            .bind(purpose.as_str())
            .bind(now())
            .fetch_optional(p)
            .await?
            .map(|r| -> std::result::Result<(i64, Option<String>), sqlx::Error> { Ok((r.try_get("user_id")?, r.try_get("payload")?)) })
            .transpose()?
        });
        Ok(row)
    }

    /// Uses the link up in one statement, so two concurrent uses cannot both succeed.
    pub async fn consume_link(&self, token_hash: &str, purpose: LinkPurpose) -> Result<Option<i64>> {
        let t = now();
        Ok(on_pool!(self, p => {
            sqlx::query_scalar(
                "UPDATE link_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING user_id",
            )
            .bind(t)
            .bind(token_hash)
            .bind(purpose.as_str())
            .fetch_optional(p)
            .await?
        }))
    }

    /// As [`Store::consume_link`], also returning the link's payload.
    pub async fn consume_link_with_payload(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
    ) -> Result<Option<(i64, Option<String>)>> {
        use sqlx::Row;
        let t = now();
        let row = on_pool!(self, p => {
            sqlx::query(
                "UPDATE link_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING user_id, payload",
            )
            .bind(t)
            .bind(token_hash)
            .bind(purpose.as_str())
            .fetch_optional(p)
            .await?
            .map(|r| -> std::result::Result<(i64, Option<String>), sqlx::Error> { Ok((r.try_get("user_id")?, r.try_get("payload")?)) })
            .transpose()?
        });
        Ok(row)
    }
}
