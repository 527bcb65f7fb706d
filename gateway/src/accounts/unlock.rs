use super::{Accounts, Actor, Result};
use crate::store::UserRow;

impl Accounts<'_> {
    /// Lifts the lock that failed passwords put on an account.
    pub async fn unlock(&self, by: &Actor<'_>, user: &UserRow) -> Result<()> {
        self.store.unlock_user_id(user.id).await?;
        self.audit(by, Some(user.tenant_id), Some(&user.email), "unlock").await;
        Ok(())
    }
}
