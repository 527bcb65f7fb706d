//! The sign-in attempt and every other password check: the same argon2 work
//! whatever the address, every wrong password counted toward the lock.

use policy::LoginMethod;

use super::{Accounts, Actor, Result};
use crate::password::{HashError, Hasher};
use crate::store::{UserRow, canonical_email};

/// Longer passwords are refused without hashing (argon2 would take them).
const MAX_PASSWORD: usize = 1024;

#[derive(Debug)]
pub enum SignIn {
    Passed(UserRow),
    /// Unknown email, wrong password, locked account, a user who signs in
    /// elsewhere, or one whose tenant is not admitted: one answer for all.
    Refused,
    /// No hashing thread within the wait: nothing was counted.
    Busy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Right,
    /// Wrong, or the account is locked.
    Wrong,
    Busy,
}

impl Accounts<'_> {
    /// One sign-in attempt. Unknown email, wrong password and locked account
    /// cost the same argon2 run (a dummy hash stands in for a missing one) and
    /// come back the same; each refusal is audited `login_failure`. `admits`
    /// says whether the user's tenant is in the policy the gateway runs.
    pub async fn sign_in(
        &self,
        by: &Actor<'_>,
        hasher: &Hasher,
        email: &str,
        password: &str,
        admits: impl FnOnce(&UserRow) -> bool,
    ) -> Result<SignIn> {
        let user = self.store.user_by_email(email).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let Some(right) = verify(hasher, stored, password).await else { return Ok(SignIn::Busy) };
        let Some(user) = user else {
            self.audit(by, None, Some(&canonical_email(email)), "login_failure").await;
            return Ok(SignIn::Refused);
        };
        if !right && !user.locked && user.password_hash.is_some() {
            self.count_password_failure(by, &user).await?;
        }
        if !right || user.locked || user.login_method != LoginMethod::Password || !admits(&user) {
            self.audit(by, Some(user.tenant_id), Some(&user.email), "login_failure").await;
            return Ok(SignIn::Refused);
        }
        if user.failed_logins > 0 {
            self.store.reset_failed_logins(user.id).await?;
        }
        Ok(SignIn::Passed(user))
    }

    /// A signed-in user's password, asked again (re-authentication, password
    /// and email change), counted exactly like a sign-in: a wrong one toward the
    /// lock, a right one resets the count, a locked account never passes.
    pub async fn check_password(
        &self,
        by: &Actor<'_>,
        hasher: &Hasher,
        user: &UserRow,
        password: &str,
    ) -> Result<PasswordCheck> {
        let Some(right) = verify(hasher, user.password_hash.clone(), password).await else {
            return Ok(PasswordCheck::Busy);
        };
        if !right && !user.locked && user.password_hash.is_some() {
            self.count_password_failure(by, user).await?;
        }
        if right && !user.locked && user.failed_logins > 0 {
            self.store.reset_failed_logins(user.id).await?;
        }
        Ok(if right && !user.locked { PasswordCheck::Right } else { PasswordCheck::Wrong })
    }

    /// On the line-auth hostname in a region that asks: the user agreed once
    /// for this line to the use of its information.
    pub async fn consent_to_line(&self, by: &Actor<'_>, user: &UserRow, line: &str) -> Result<()> {
        self.store.record_line_consent(line, user.id).await?;
        self.audit(by, Some(user.tenant_id), Some(line), "line_consent").await;
        Ok(())
    }

    /// A sign-in went through and its session exists. `complete` when nothing
    /// is left to ask (no second step, or the line was it): the user's last
    /// access, which keeps remembered browsers alive, moves then.
    pub async fn signed_in(&self, by: &Actor<'_>, user: &UserRow, complete: bool) -> Result<()> {
        if complete {
            self.store.set_last_access(user.id, crate::store::now()).await?;
        }
        self.audit(by, Some(user.tenant_id), Some(&user.email), "login_success").await;
        Ok(())
    }
}

/// `None` when no hashing thread answered in time: not a wrong password.
async fn verify(hasher: &Hasher, stored: Option<String>, password: &str) -> Option<bool> {
    if password.len() > MAX_PASSWORD {
        // Still one run against the dummy hash, so the time does not tell.
        return hasher.verify(None, String::new()).await.ok().map(|_| false);
    }
    match hasher.verify(stored, password.to_owned()).await {
        Ok(right) => Some(right),
        // The pool logs its own overload, with back-off: a flood is not a line per sign-in.
        Err(HashError::Busy(_) | HashError::Full(_)) => None,
        Err(e) => {
            tracing::warn!(error = %e, "password check unavailable");
            None
        }
    }
}
