use super::{Accounts, Actor, Result, TenantRef};

/// What became of a change of the tenant's 2FA switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchSet {
    Set,
    ManagedByFile,
}

impl Accounts<'_> {
    /// Turns 2-step verification on or off for every password user of the
    /// tenant. Under `line-only` the switch is kept but has no effect until the
    /// route lets the internet in again (policy ignores it there).
    pub async fn set_two_factor(&self, by: &Actor<'_>, tenant: &TenantRef<'_>, on: bool) -> Result<SwitchSet> {
        if tenant.managed_by_file {
            return Ok(SwitchSet::ManagedByFile);
        }
        self.store.set_two_factor(tenant.id, on).await?;
        self.audit(by, Some(tenant.id), None, if on { "2fa_on" } else { "2fa_off" }).await;
        Ok(SwitchSet::Set)
    }
}
