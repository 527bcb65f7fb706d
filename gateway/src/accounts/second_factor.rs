use super::{Accounts, Actor, Mailed, Result};
use crate::mail::Notice;
use crate::store::UserRow;

impl Accounts<'_> {
    /// Forgets a user's 2-step verification (phone, authenticator, recovery
    /// code, remembered browsers) and ends their sessions: one that passed the
    /// old second factor must not outlive it. The user is told by mail.
    pub async fn reset_second_factor(&self, by: &Actor<'_>, user: &UserRow) -> Result<(u64, Mailed)> {
        self.store.reset_second_factors(user.id).await?;
        let n = self.store.delete_user_sessions(user.id).await?;
        if let Some(cache) = self.sessions {
            cache.clear();
        }
        self.audit(by, Some(user.tenant_id), Some(&user.email), "second_factor_reset").await;
        let mailed = self.mail(by, &user.email, &Notice::SecondFactorReset).await;
        Ok((n, mailed))
    }
}
