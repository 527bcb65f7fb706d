use std::fmt;

use policy::{LineId, ParseError, Route};
use sqlx::Row;

use super::changes::Change;
use super::{Result, Store, StoreError, is_unique_violation, known, now, on_pool};

/// A tenant's contract (SPEC section 2). It decides what the owner may change
/// themselves (SPEC section 6), never whether a request is let through, so it
/// is the store's and not the policy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plan {
    Basic,
    Trial,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Basic => "basic",
            Plan::Trial => "trial",
        }
    }

    pub fn parse(s: &str) -> std::result::Result<Plan, ParseError> {
        match s {
            "basic" => Ok(Plan::Basic),
            "trial" => Ok(Plan::Trial),
            _ => Err(ParseError { what: "plan", expected: "basic or trial", got: s.to_owned() }),
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant as the policy snapshot needs it, with its lines and networks as
/// text. Without the plan: a plan this version cannot read must not touch access.
#[derive(Debug, Clone)]
pub struct TenantRow {
    pub id: i64,
    pub name: String,
    pub route: Route,
    pub two_factor: bool,
    pub lines: Vec<String>,
    pub networks: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TenantSummary {
    pub id: i64,
    pub name: String,
    pub plan: Plan,
    pub route: Route,
    pub two_factor: bool,
}

fn route_of(id: i64, value: String) -> Result<Route> {
    known("tenants", "route", || format!("id {id}"), value, Route::parse)
}

fn plan_of(id: i64, value: String) -> Result<Plan> {
    known("tenants", "plan", || format!("id {id}"), value, Plan::parse)
}

/// Records a change to the tenant inside the transaction that makes it, so
/// the two commit together: a change whose record was lost would stay unseen
/// by every other instance until it restarts.
macro_rules! record_in {
    ($tx:expr, $tenant:expr) => {
        sqlx::query(super::changes::RECORD)
            .bind(now())
            .bind(Change::Tenant($tenant).kind())
            .bind($tenant.to_string())
            .execute(&mut **$tx)
    };
}

impl Store {
    pub async fn create_tenant(&self, name: &str, plan: Plan) -> Result<i64> {
        let t = now();
        let res: std::result::Result<i64, sqlx::Error> = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO tenants (name, plan, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
            )
            .bind(name)
            .bind(plan.as_str())
            .bind(t)
            .fetch_one(p)
            .await
        });
        match res {
            Ok(id) => {
                self.record_change(Change::Tenant(id)).await?;
                Ok(id)
            }
            Err(e) if is_unique_violation(&e) => {
                Err(StoreError::Conflict(format!("a tenant named {name:?} already exists")))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn tenant_by_name(&self, name: &str) -> Result<Option<TenantSummary>> {
        let row = on_pool!(self, p => {
            sqlx::query("SELECT id, name, plan, route, two_factor FROM tenants WHERE name = $1")
                .bind(name)
                .fetch_optional(p)
                .await?
                .map(|r| -> Result<TenantSummary> {
                    let id: i64 = r.try_get("id")?;
                    Ok(TenantSummary {
                        id,
                        name: r.try_get("name")?,
                        plan: plan_of(id, r.try_get("plan")?)?,
                        route: route_of(id, r.try_get("route")?)?,
                        two_factor: r.try_get("two_factor")?,
                    })
                })
                .transpose()?
        });
        Ok(row)
    }

    pub async fn require_tenant(&self, name: &str) -> Result<TenantSummary> {
        self.tenant_by_name(name).await?.ok_or_else(|| StoreError::NotFound(format!("no tenant named {name:?}")))
    }

    /// The tenant's id alone, whatever its other columns hold: how a route this
    /// version cannot read is set right from the command line.
    pub async fn require_tenant_id(&self, name: &str) -> Result<i64> {
        let id: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT id FROM tenants WHERE name = $1").bind(name).fetch_optional(p).await?
        });
        id.ok_or_else(|| StoreError::NotFound(format!("no tenant named {name:?}")))
    }

    pub async fn set_route(&self, tenant_id: i64, route: Route) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE tenants SET route = $1, updated_at = $2 WHERE id = $3")
                .bind(route.as_str())
                .bind(now())
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            record_in!(&mut tx, tenant_id).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn set_two_factor(&self, tenant_id: i64, on: bool) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE tenants SET two_factor = $1, updated_at = $2 WHERE id = $3")
                .bind(on)
                .bind(now())
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            record_in!(&mut tx, tenant_id).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Registers lines; a line already registered to another tenant is refused
    /// and nothing is added. Returns how many were new.
    ///
    /// Each line is inserted first and its owner looked up only when it was
    /// already there: writing first takes SQLite's write lock at once (a read
    /// that later upgrades fails with "database is locked" under concurrency), and
    /// on PostgreSQL the insert waits for a concurrent one, so a lost race reads
    /// as a conflict rather than a unique violation.
    pub async fn add_lines(&self, tenant_id: i64, lines: &[LineId]) -> Result<usize> {
        let t = now();
        let mut added = 0;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for line in lines {
                let n = sqlx::query(
                    "INSERT INTO tenant_lines (line, tenant_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (line) DO NOTHING",
                )
                .bind(line.as_str())
                .bind(tenant_id)
                .bind(t)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n > 0 {
                    added += 1;
                    continue;
                }
                let owner: Option<i64> = sqlx::query_scalar("SELECT tenant_id FROM tenant_lines WHERE line = $1")
                    .bind(line.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                if owner != Some(tenant_id) {
                    return Err(StoreError::Conflict(format!(
                        "line {line} is already registered to another tenant; nothing was added"
                    )));
                }
            }
            record_in!(&mut tx, tenant_id).await?;
            tx.commit().await?;
        });
        Ok(added)
    }

    /// Removes lines; returns the ones that were not registered to the tenant.
    pub async fn remove_lines(&self, tenant_id: i64, lines: &[LineId]) -> Result<Vec<LineId>> {
        let mut missing = Vec::new();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for line in lines {
                let n = sqlx::query("DELETE FROM tenant_lines WHERE line = $1 AND tenant_id = $2")
                    .bind(line.as_str())
                    .bind(tenant_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n == 0 {
                    missing.push(*line);
                }
            }
            record_in!(&mut tx, tenant_id).await?;
            tx.commit().await?;
        });
        Ok(missing)
    }

    pub async fn add_networks(&self, tenant_id: i64, nets: &[ipnet::IpNet]) -> Result<usize> {
        let t = now();
        let mut added = 0;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for net in nets {
                let n = sqlx::query(
                    "INSERT INTO tenant_networks (tenant_id, cidr, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(tenant_id)
                .bind(net.trunc().to_string())
                .bind(t)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                added += n as usize;
            }
            record_in!(&mut tx, tenant_id).await?;
            tx.commit().await?;
        });
        Ok(added)
    }

    pub async fn remove_networks(&self, tenant_id: i64, nets: &[ipnet::IpNet]) -> Result<Vec<ipnet::IpNet>> {
        let mut missing = Vec::new();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for net in nets {
                let n = sqlx::query("DELETE FROM tenant_networks WHERE tenant_id = $1 AND cidr = $2")
                    .bind(tenant_id)
                    .bind(net.trunc().to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n == 0 {
                    missing.push(*net);
                }
            }
            record_in!(&mut tx, tenant_id).await?;
            tx.commit().await?;
        });
        Ok(missing)
    }

    /// The tenant's registered lines, as stored.
    pub async fn tenant_lines(&self, tenant_id: i64) -> Result<Vec<String>> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar("SELECT line FROM tenant_lines WHERE tenant_id = $1 ORDER BY line")
                .bind(tenant_id)
                .fetch_all(p)
                .await?
        }))
    }

    /// The tenant's registered source networks, as stored.
    pub async fn tenant_networks(&self, tenant_id: i64) -> Result<Vec<String>> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar("SELECT cidr FROM tenant_networks WHERE tenant_id = $1 ORDER BY cidr")
                .bind(tenant_id)
                .fetch_all(p)
                .await?
        }))
    }

    /// Every tenant with its lines and networks: the input of a policy snapshot.
    /// A tenant whose row cannot be read is its error (logged), in id order
    /// with the others, so one bad row does not hold back everyone's changes.
    pub async fn load_tenants(&self) -> Result<Vec<Result<TenantRow>>> {
        use std::collections::BTreeMap;
        let mut by_id: BTreeMap<i64, Result<TenantRow>> = BTreeMap::new();
        on_pool!(self, p => {
            for r in sqlx::query("SELECT id, name, route, two_factor FROM tenants").fetch_all(p).await? {
                let id: i64 = r.try_get("id")?;
                let name: String = r.try_get("name")?;
                let two_factor: bool = r.try_get("two_factor")?;
                let row = route_of(id, r.try_get("route")?)
                    .map(|route| TenantRow { id, name, route, two_factor, lines: Vec::new(), networks: Vec::new() });
                by_id.insert(id, row);
            }
            for r in sqlx::query("SELECT tenant_id, line FROM tenant_lines").fetch_all(p).await? {
                let id: i64 = r.try_get("tenant_id")?;
                if let Some(Ok(t)) = by_id.get_mut(&id) {
                    t.lines.push(r.try_get("line")?);
                }
            }
            for r in sqlx::query("SELECT tenant_id, cidr FROM tenant_networks").fetch_all(p).await? {
                let id: i64 = r.try_get("tenant_id")?;
                if let Some(Ok(t)) = by_id.get_mut(&id) {
                    t.networks.push(r.try_get("cidr")?);
                }
            }
        });
        Ok(by_id.into_values().collect())
    }

    /// One tenant with its lines and networks, as [`Store::load_tenants`] reads
    /// each: what a change to that tenant reloads. None: no such tenant.
    pub async fn load_tenant(&self, tenant_id: i64) -> Result<Option<Result<TenantRow>>> {
        Ok(on_pool!(self, p => {
            let Some(r) = sqlx::query("SELECT id, name, route, two_factor FROM tenants WHERE id = $1")
                .bind(tenant_id)
                .fetch_optional(p)
                .await?
            else {
                return Ok(None);
            };
            let name: String = r.try_get("name")?;
            let two_factor: bool = r.try_get("two_factor")?;
            let route = match route_of(tenant_id, r.try_get("route")?) {
                Ok(route) => route,
                Err(e) => return Ok(Some(Err(e))),
            };
            let lines = sqlx::query_scalar("SELECT line FROM tenant_lines WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_all(p)
                .await?;
            let networks = sqlx::query_scalar("SELECT cidr FROM tenant_networks WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_all(p)
                .await?;
            Some(Ok(TenantRow { id: tenant_id, name, route, two_factor, lines, networks }))
        }))
    }

    pub async fn tenant_plan(&self, tenant_id: i64) -> Result<Option<Plan>> {
        let plan: Option<String> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT plan FROM tenants WHERE id = $1").bind(tenant_id).fetch_optional(p).await?
        });
        plan.map(|p| plan_of(tenant_id, p)).transpose()
    }

    pub async fn tenant_name(&self, tenant_id: i64) -> Result<Option<String>> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar("SELECT name FROM tenants WHERE id = $1").bind(tenant_id).fetch_optional(p).await?
        }))
    }
}
