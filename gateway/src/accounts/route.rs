use policy::Route;

use super::{Accounts, Actor, Result, TenantRef};

/// What became of a route change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteSet {
    Set,
    ManagedByFile,
}

impl Accounts<'_> {
    /// Sets the tenant's access route, for all its users at once. `break_glass`:
    /// the owner did it from outside the lines under `line-only`, which the
    /// audit log records.
    pub async fn set_route(
        &self,
        by: &Actor<'_>,
        tenant: &TenantRef<'_>,
        route: Route,
        break_glass: bool,
    ) -> Result<RouteSet> {
        if tenant.managed_by_file {
            return Ok(RouteSet::ManagedByFile);
        }
        self.store.set_route(tenant.id, route).await?;
        let event = if break_glass { format!("route_set:{route}:break_glass") } else { format!("route_set:{route}") };
        self.audit(by, Some(tenant.id), None, &event).await;
        Ok(RouteSet::Set)
    }
}
