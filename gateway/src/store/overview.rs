//! What the command line lists: every tenant with its counts, and users across
//! tenants with what an operator asks about them first.

use policy::{LoginMethod, Role, Route};
use sqlx::Row;

use super::{Plan, Result, Store, known, on_pool};

/// One tenant of `gateway tenant list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TenantListing {
    pub id: i64,
    pub name: String,
    pub plan: String,
    pub route: String,
    pub two_factor: bool,
    pub owner: Option<String>,
    pub users: i64,
    pub lines: i64,
    pub networks: i64,
}

/// One user of `gateway user list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserListing {
    pub id: i64,
    pub email: String,
    pub tenant: String,
    pub role: String,
    pub method: String,
    pub locked: bool,
    /// Has not registered yet (an invitation is outstanding).
    pub invited: bool,
    /// The newest session's start still on record: sessions are purged when
    /// they expire, so this is "unknown" for anyone not seen lately.
    pub last_sign_in: Option<i64>,
}

const TENANTS: &str = "SELECT t.id, t.name, t.plan, t.route, t.two_factor, \
     (SELECT email FROM users u WHERE u.tenant_id = t.id AND u.role = 'owner') AS owner, \
     (SELECT COUNT(*) FROM users u WHERE u.tenant_id = t.id) AS users, \
     (SELECT COUNT(*) FROM tenant_lines l WHERE l.tenant_id = t.id) AS lines, \
     (SELECT COUNT(*) FROM tenant_networks n WHERE n.tenant_id = t.id) AS networks \
     FROM tenants t";

impl Store {
    /// Every tenant by name, or the one named; a column this version cannot
    /// read is an error (as everywhere), not a guess.
    pub async fn tenant_listing(&self, name: Option<&str>) -> Result<Vec<TenantListing>> {
        let rows = on_pool!(self, p => {
            match name {
                Some(n) => sqlx::query(sqlx::AssertSqlSafe(format!("{TENANTS} WHERE t.name = $1")))
                    .bind(n)
                    .fetch_all(p)
                    .await?,
                None => sqlx::query(sqlx::AssertSqlSafe(format!("{TENANTS} ORDER BY t.name"))).fetch_all(p).await?,
            }
            .into_iter()
            .map(|r| -> Result<TenantListing> {
                let id: i64 = r.try_get("id")?;
                let row = || format!("id {id}");
                Ok(TenantListing {
                    id,
                    name: r.try_get("name")?,
                    plan: known("tenants", "plan", row, r.try_get("plan")?, Plan::parse)?.to_string(),
                    route: known("tenants", "route", row, r.try_get("route")?, Route::parse)?.to_string(),
                    two_factor: r.try_get("two_factor")?,
                    owner: r.try_get("owner")?,
                    users: r.try_get("users")?,
                    lines: r.try_get("lines")?,
                    networks: r.try_get("networks")?,
                })
            })
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// Users by tenant and email, of one tenant or all.
    pub async fn user_listing(&self, tenant_id: Option<i64>) -> Result<Vec<UserListing>> {
        const SQL: &str = "SELECT u.id, u.email, t.name AS tenant, u.role, u.login_method, u.locked_at, \
             u.password_hash, (SELECT MAX(s.created_at) FROM sessions s WHERE s.user_id = u.id) AS last_sign_in \
             FROM users u JOIN tenants t ON t.id = u.tenant_id";
        let rows = on_pool!(self, p => {
            match tenant_id {
                Some(id) => sqlx::query(sqlx::AssertSqlSafe(format!("{SQL} WHERE u.tenant_id = $1 ORDER BY t.name, u.email")))
                    .bind(id)
                    .fetch_all(p)
                    .await?,
                None => sqlx::query(sqlx::AssertSqlSafe(format!("{SQL} ORDER BY t.name, u.email"))).fetch_all(p).await?,
            }
            .into_iter()
            .map(|r| -> Result<UserListing> {
                let id: i64 = r.try_get("id")?;
                let row = || format!("id {id}");
                let method = known("users", "login_method", row, r.try_get("login_method")?, LoginMethod::parse)?;
                Ok(UserListing {
                    id,
                    email: r.try_get("email")?,
                    tenant: r.try_get("tenant")?,
                    role: known("users", "role", row, r.try_get("role")?, Role::parse)?.as_str().to_owned(),
                    method: method.as_str().to_owned(),
                    locked: r.try_get::<Option<i64>, _>("locked_at")?.is_some(),
                    invited: r.try_get::<Option<String>, _>("password_hash")?.is_none()
                        && method == LoginMethod::Password,
                    last_sign_in: r.try_get("last_sign_in")?,
                })
            })
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }
}
