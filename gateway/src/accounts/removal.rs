//! Removing a user or a tenant for good: the rows go, the sessions end at once
//! on every gateway (the change is recorded with the deletion), and the audit
//! log keeps who removed whom.

use policy::Role;

use super::{Accounts, Actor, Result, TenantRef};
use crate::store::{Removed, UserRow};

/// What became of removing a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRemoved {
    Removed(Removed),
    /// The tenant's owner: a tenant always has one, so the tenant is removed instead.
    Owner,
    /// Gone already (removed meanwhile).
    Missing,
}

/// What became of removing a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantRemoved {
    Removed(Removed),
    ManagedByFile,
    Missing,
}

impl Accounts<'_> {
    pub async fn remove_user(&self, by: &Actor<'_>, user: &UserRow) -> Result<UserRemoved> {
        if user.role == Role::Owner {
            return Ok(UserRemoved::Owner);
        }
        let Some(removed) = self.store.delete_user(user.id).await? else {
            // An owner now, or gone meanwhile: say which.
            return Ok(match self.store.user_by_id(user.id).await? {
                Some(_) => UserRemoved::Owner,
                None => UserRemoved::Missing,
            });
        };
        if let Some(cache) = self.sessions {
            cache.evict_user(user.id);
        }
        self.audit(by, Some(user.tenant_id), Some(&user.email), "user_removed").await;
        Ok(UserRemoved::Removed(removed))
    }

    pub async fn remove_tenant(&self, by: &Actor<'_>, tenant: &TenantRef<'_>) -> Result<TenantRemoved> {
        if tenant.managed_by_file {
            return Ok(TenantRemoved::ManagedByFile);
        }
        let Some(removed) = self.store.delete_tenant(tenant.id).await? else {
            return Ok(TenantRemoved::Missing);
        };
        let subject = format!("{} ({} users, {} sessions)", tenant.name, removed.users, removed.sessions);
        self.audit(by, Some(tenant.id), Some(&subject), "tenant_removed").await;
        Ok(TenantRemoved::Removed(removed))
    }
}
