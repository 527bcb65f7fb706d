use super::{Accounts, Actor, Result};
use crate::store::UserRow;

impl Accounts<'_> {
    /// Ends every session of a user: in this gateway's cache at once, in the
    /// others within a poll of the change log.
    pub async fn end_sessions(&self, by: &Actor<'_>, user: &UserRow) -> Result<u64> {
        let n = self.store.delete_user_sessions(user.id).await?;
        if let Some(cache) = self.sessions {
            cache.clear();
        }
        self.audit(by, Some(user.tenant_id), Some(&user.email), &format!("sessions_revoked:{n}")).await;
        Ok(n)
    }
}
