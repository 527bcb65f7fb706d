//! Federated accounts, tenant directories, and sign-ins waiting at a provider.

use policy::HostKind;
use sqlx::Row;

use super::changes::Change;
use super::{Result, Store, StoreError, is_unique_violation, now, on_pool};

/// The provider account a federated user signs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedIdentity {
    /// A `login.providers` id, or `ad` for the tenant's directory.
    pub provider: String,
    pub issuer: String,
    pub subject: String,
}

/// A tenant's directory connection. The secret is still sealed.
#[derive(Debug, Clone)]
pub struct DirectoryRow {
    pub tenant_id: i64,
    pub connection_id: String,
    pub issuer: String,
    pub client_id: String,
    pub sealed_secret: String,
}

/// Why a sign-in went to a provider, which decides what its callback does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowPurpose {
    Login,
    /// The settings gate of a federated user: sign in at the provider again.
    Reauth,
    /// Registration from an invitation link.
    Invite,
    /// A login-method change from the emailed link.
    MethodLink,
    /// The owner changing their own login method in the settings.
    OwnMethod,
}

impl FlowPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowPurpose::Login => "login",
            FlowPurpose::Reauth => "reauth",
            FlowPurpose::Invite => "invite",
            FlowPurpose::MethodLink => "method-link",
            FlowPurpose::OwnMethod => "own-method",
        }
    }

    pub fn parse(s: &str) -> Option<FlowPurpose> {
        Some(match s {
            "login" => FlowPurpose::Login,
            "reauth" => FlowPurpose::Reauth,
            "invite" => FlowPurpose::Invite,
            "method-link" => FlowPurpose::MethodLink,
            "own-method" => FlowPurpose::OwnMethod,
            _ => return None,
        })
    }
}

/// A sign-in started at a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    pub state_hash: String,
    pub browser_hash: String,
    pub provider: String,
    pub tenant_id: Option<i64>,
    pub purpose: FlowPurpose,
    pub host: HostKind,
    pub rd: Option<String>,
    pub user_id: Option<i64>,
    pub ticket_hash: Option<String>,
    pub session_hash: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What binding an identity to a user came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    Bound,
    /// The (issuer, subject) is already another user's.
    TakenByOther,
}

impl Store {
    pub async fn federated_identity(&self, user_id: i64) -> Result<Option<FederatedIdentity>> {
        on_pool!(self, p => {
            let row = sqlx::query("SELECT provider, issuer, subject FROM federated_identities WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(p)
                .await?;
            row.map(|r| -> std::result::Result<_, sqlx::Error> {
                Ok(FederatedIdentity { provider: r.try_get("provider")?, issuer: r.try_get("issuer")?, subject: r.try_get("subject")? })
            })
            .transpose()
            .map_err(Into::into)
        })
    }

    /// The user bound to this provider account, if any.
    pub async fn user_id_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<i64>> {
        on_pool!(self, p => {
            Ok(sqlx::query_scalar("SELECT user_id FROM federated_identities WHERE issuer = $1 AND subject = $2")
                .bind(issuer)
                .bind(subject)
                .fetch_optional(p)
                .await?)
        })
    }

    /// Makes the user a federated user of this account, in one transaction:
    /// the old identity, the password and every second factor go.
    pub async fn bind_identity(&self, user_id: i64, id: &FederatedIdentity) -> Result<Binding> {
        let t = now();
        let outcome: std::result::Result<(), sqlx::Error> = on_pool!(self, p => {
            async {
                let mut tx = p.begin().await?;
                sqlx::query("DELETE FROM federated_identities WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO federated_identities (user_id, provider, issuer, subject, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(user_id)
                    .bind(&id.provider)
                    .bind(&id.issuer)
                    .bind(&id.subject)
                    .bind(t)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE users SET login_method = 'federated', password_hash = NULL, failed_logins = 0, updated_at = $1 WHERE id = $2")
                    .bind(t)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }
            .await
        });
        match outcome {
            Ok(()) => {}
            Err(e) if is_unique_violation(&e) => return Ok(Binding::TakenByOther),
            Err(e) => return Err(e.into()),
        }
        self.reset_second_factors(user_id).await?;
        Ok(Binding::Bound)
    }

    /// Makes a federated user a password user with this password hash.
    pub async fn unbind_identity(&self, user_id: i64, password_hash: &str) -> Result<()> {
        let t = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM federated_identities WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE users SET login_method = 'password', password_hash = $1, failed_logins = 0, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(t)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        self.record_change(Change::User(user_id)).await
    }

    pub async fn directory(&self, tenant_id: i64) -> Result<Option<DirectoryRow>> {
        self.directory_where("tenant_id = $1", DirKey::Tenant(tenant_id)).await
    }

    pub async fn directory_by_connection(&self, connection_id: &str) -> Result<Option<DirectoryRow>> {
        self.directory_where("connection_id = $1", DirKey::Connection(connection_id)).await
    }

    async fn directory_where(&self, cond: &'static str, key: DirKey<'_>) -> Result<Option<DirectoryRow>> {
        let sql =
            format!("SELECT tenant_id, connection_id, issuer, client_id, client_secret FROM directories WHERE {cond}");
        on_pool!(self, p => {
            let q = sqlx::query(sqlx::AssertSqlSafe(sql));
            let q = match key {
                DirKey::Tenant(t) => q.bind(t),
                DirKey::Connection(c) => q.bind(c.to_owned()),
            };
            let row = q.fetch_optional(p).await?;
            row.map(|r| -> std::result::Result<_, sqlx::Error> {
                Ok(DirectoryRow {
                    tenant_id: r.try_get("tenant_id")?,
                    connection_id: r.try_get("connection_id")?,
                    issuer: r.try_get("issuer")?,
                    client_id: r.try_get("client_id")?,
                    sealed_secret: r.try_get("client_secret")?,
                })
            })
            .transpose()
            .map_err(Into::into)
        })
    }

    /// Creates the tenant's directory with this connection id, or changes
    /// its issuer, client and secret while keeping the id it has. Returns the
    /// connection id in force and whether it was created now.
    pub async fn save_directory(
        &self,
        tenant_id: i64,
        new_connection_id: &str,
        issuer: &str,
        client_id: &str,
        sealed_secret: &str,
    ) -> Result<(String, bool)> {
        let t = now();
        if let Some(old) = self.directory(tenant_id).await? {
            on_pool!(self, p => {
                sqlx::query("UPDATE directories SET issuer = $1, client_id = $2, client_secret = $3, updated_at = $4 WHERE tenant_id = $5")
                    .bind(issuer)
                    .bind(client_id)
                    .bind(sealed_secret)
                    .bind(t)
                    .bind(tenant_id)
                    .execute(p)
                    .await?;
            });
            return Ok((old.connection_id, false));
        }
        let inserted: std::result::Result<_, sqlx::Error> = on_pool!(self, p => {
            sqlx::query("INSERT INTO directories (tenant_id, connection_id, issuer, client_id, client_secret, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)")
                .bind(tenant_id)
                .bind(new_connection_id)
                .bind(issuer)
                .bind(client_id)
                .bind(sealed_secret)
                .bind(t)
                .execute(p)
                .await
                .map(|_| ())
        });
        match inserted {
            Ok(_) => Ok((new_connection_id.to_owned(), true)),
            Err(e) if is_unique_violation(&e) => {
                Err(StoreError::Conflict("that connection id is taken, or the directory was created meanwhile".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn insert_flow(&self, f: &FlowRow) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO federation_flows (state_hash, browser_hash, provider, tenant_id, purpose, host_kind, rd, user_id, \
                 ticket_hash, session_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&f.state_hash)
            .bind(&f.browser_hash)
            .bind(&f.provider)
            .bind(f.tenant_id)
            .bind(f.purpose.as_str())
            .bind(f.host.as_str())
            .bind(&f.rd)
            .bind(f.user_id)
            .bind(&f.ticket_hash)
            .bind(&f.session_hash)
            .bind(f.created_at)
            .bind(f.expires_at)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Removes and returns the flow with this state hash, expired or not
    /// (the caller tells the two apart): a state works once, whatever the
    /// outcome.
    pub async fn take_flow(&self, state_hash: &str) -> Result<Option<FlowRow>> {
        let row = on_pool!(self, p => {
            sqlx::query(
                "DELETE FROM federation_flows WHERE state_hash = $1 RETURNING state_hash, browser_hash, provider, tenant_id, purpose, \
                 host_kind, rd, user_id, ticket_hash, session_hash, created_at, expires_at",
            )
            .bind(state_hash)
            .fetch_optional(p)
            .await?
            .map(|r| -> std::result::Result<_, sqlx::Error> {
                Ok((
                    FlowRow {
                        state_hash: r.try_get("state_hash")?,
                        browser_hash: r.try_get("browser_hash")?,
                        provider: r.try_get("provider")?,
                        tenant_id: r.try_get("tenant_id")?,
                        purpose: FlowPurpose::Login,
                        host: HostKind::Ordinary,
                        rd: r.try_get("rd")?,
                        user_id: r.try_get("user_id")?,
                        ticket_hash: r.try_get("ticket_hash")?,
                        session_hash: r.try_get("session_hash")?,
                        created_at: r.try_get("created_at")?,
                        expires_at: r.try_get("expires_at")?,
                    },
                    r.try_get::<String, _>("purpose")?,
                    r.try_get::<String, _>("host_kind")?,
                ))
            })
            .transpose()?
        });
        let Some((mut flow, purpose, host)) = row else { return Ok(None) };
        // A value this version does not know is no flow at all: refused.
        let (Some(purpose), Some(host)) = (FlowPurpose::parse(&purpose), HostKind::parse(&host)) else {
            return Ok(None);
        };
        flow.purpose = purpose;
        flow.host = host;
        Ok(Some(flow))
    }

    /// Forgets flows that expired a while ago (kept an hour, so that a late
    /// callback still gets "expired" rather than "unknown"); run with the
    /// session purge, never on a request a stranger can send.
    pub async fn sweep_flows(&self) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM federation_flows WHERE expires_at < $1")
                .bind(now() - 3600)
                .execute(p)
                .await?;
        });
        Ok(())
    }
}

enum DirKey<'a> {
    Tenant(i64),
    Connection(&'a str),
}
