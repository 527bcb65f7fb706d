use super::{Accounts, Actor, Mailed, Result};
use crate::mail::Notice;
use crate::store::UserRow;

impl Accounts<'_> {
    /// Gives a user a new password (hashed by the caller, on the hashing
    /// threads) and ends every session of theirs: a browser that knew the old
    /// one must sign in again. The caller starts a new session for the browser
    /// that made the change. The user is told by mail.
    pub async fn change_password(&self, by: &Actor<'_>, user: &UserRow, password_hash: &str) -> Result<Mailed> {
        self.store.set_password_hash(user.id, password_hash).await?;
        self.store.delete_user_sessions(user.id).await?;
        if let Some(cache) = self.sessions {
            cache.clear();
        }
        self.audit(by, Some(user.tenant_id), Some(&user.email), "password_changed").await;
        Ok(self.mail(by, &user.email, &Notice::PasswordChanged).await)
    }
}
