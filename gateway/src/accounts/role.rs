use policy::Role;

use super::{Accounts, Actor, Result};
use crate::store::UserRow;

impl Accounts<'_> {
    /// Moves a user between user and admin, and signs them out: a session
    /// carries the role it was signed in with, so ending it makes the change
    /// bite now rather than at the next expiry. False when the store refused
    /// (the target is, or became, the owner, or left the tenant); nothing
    /// changed then. Whether the acting person may do this is the caller's rule.
    pub async fn change_role(&self, by: &Actor<'_>, user: &UserRow, role: Role) -> Result<bool> {
        if !self.store.set_user_role(user.tenant_id, user.id, role).await? {
            return Ok(false);
        }
        self.store.delete_user_sessions(user.id).await?;
        if let Some(cache) = self.sessions {
            cache.clear();
        }
        self.audit(by, Some(user.tenant_id), Some(&user.email), &format!("admin_role:{}", role.as_str())).await;
        Ok(true)
    }
}
