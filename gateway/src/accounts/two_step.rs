//! Completing a second factor: an SMS code, an authenticator code, the
//! recovery code, or a remembered browser. Every wrong code is audited and
//! counted toward the user's second-factor lock, whatever page it came from.

use policy::Factor;

use super::{AccountError, Accounts, Actor, Result};
use crate::mail::Notice;
use crate::second_factor::{self as sf, TotpKey, recovery};
use crate::store::{SmsCheck, UserRow, now};
use crate::tokens;

/// A remembered browser, and the user's own access, count for this long.
pub const REMEMBER_SECS: i64 = 30 * 86400;

/// A code as the user typed it.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    Sms(&'a str),
    Totp(&'a str),
    Recovery(&'a str),
}

/// What a code is entered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The second step of a sign-in: a user with nothing set up yet sets the
    /// method up with this very code.
    SignIn,
    /// Proving a current factor before changing one: only what is set up counts.
    Change,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Right. `enrolled`: the code also set the method up (a first sign-in).
    Right { factor: Factor, enrolled: bool },
    /// Wrong, audited and counted; `locked` when it locked the second factor.
    Wrong { locked: bool },
    /// SMS only: no live code (expired, or tried too often); send a new one.
    Dead,
    /// Not a method of this user (an app code from a user who set up a phone).
    NotEnrolled,
    /// The second factor is locked: no code is even looked at.
    Locked,
}

/// SMS codes are stored hashed with the user id, so a table copy does not
/// hand out codes and the same code for two users hashes differently.
pub fn sms_hash(user_id: i64, code: &str) -> String {
    recovery::hash(&format!("sms:{user_id}:{code}"))
}

fn digits(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

impl Accounts<'_> {
    /// Checks a second-factor code of `user`. A right code resets the count of
    /// wrong ones; a wrong one is audited `second_factor_failure` and counted.
    pub async fn check_second_factor(
        &self,
        by: &Actor<'_>,
        key: &TotpKey,
        user: &UserRow,
        proof: Proof<'_>,
        purpose: Purpose,
    ) -> Result<Checked> {
        if self.store.second_factor_locked(user.id).await? {
            return Ok(Checked::Locked);
        }
        let enrolment = self.store.enrolment(user.id).await?;
        let first = purpose == Purpose::SignIn && !enrolment.any();
        let checked = match proof {
            Proof::Sms(code) => match self.store.check_sms_code(user.id, &sms_hash(user.id, &digits(code))).await? {
                SmsCheck::Ok(phone) => match &enrolment.sms_phone {
                    Some(enrolled) if *enrolled == phone => Checked::Right { factor: Factor::Sms, enrolled: false },
                    // A code sent to a new number while a change is under way proves nothing here.
                    Some(_) => Checked::Wrong { locked: false },
                    None if first => {
                        self.store.enrol_sms(user.id, &phone).await?;
                        self.enrolled(by, user, "sms").await;
                        Checked::Right { factor: Factor::Sms, enrolled: true }
                    }
                    None => Checked::NotEnrolled,
                },
                SmsCheck::Wrong => Checked::Wrong { locked: false },
                SmsCheck::Dead => Checked::Dead,
            },
            Proof::Totp(code) => match &enrolment.totp_secret {
                Some(stored) => {
                    let secret = key.decrypt(user.id, stored).ok_or(AccountError::UnreadableSecret)?;
                    let accepted = match sf::verify(&secret, &digits(code), now()) {
                        Some(step) => self.store.accept_totp_step(user.id, step).await?,
                        None => false,
                    };
                    if accepted {
                        Checked::Right { factor: Factor::Totp, enrolled: false }
                    } else {
                        Checked::Wrong { locked: false }
                    }
                }
                None if first => {
                    let secret = self.authenticator_to_set_up(key, user.id).await?;
                    match sf::verify(&secret, &digits(code), now()) {
                        // The enrolment code's step is recorded, so it cannot be replayed either.
                        Some(step) => {
                            self.store.enrol_totp(user.id, &key.encrypt(user.id, &secret), step).await?;
                            self.enrolled(by, user, "totp").await;
                            Checked::Right { factor: Factor::Totp, enrolled: true }
                        }
                        None => Checked::Wrong { locked: false },
                    }
                }
                None => Checked::NotEnrolled,
            },
            Proof::Recovery(code) => {
                let used = match recovery::normalize(code) {
                    Some(canonical) => self.store.consume_recovery_code(user.id, &recovery::hash(&canonical)).await?,
                    None => false,
                };
                if used {
                    self.audit(by, Some(user.tenant_id), Some(&user.email), "recovery_code_used").await;
                    self.mail_later(by, &user.email, &Notice::RecoveryCodeUsed);
                    Checked::Right { factor: Factor::Recovery, enrolled: false }
                } else {
                    Checked::Wrong { locked: false }
                }
            }
        };
        match checked {
            Checked::Wrong { .. } => Ok(Checked::Wrong { locked: self.wrong_code(by, user).await? }),
            Checked::Right { .. } => {
                self.store.reset_user_factor_failures(user.id).await?;
                Ok(checked)
            }
            other => Ok(other),
        }
    }

    /// A wrong code anywhere: audited and counted toward the lock.
    pub(super) async fn wrong_code(&self, by: &Actor<'_>, user: &UserRow) -> Result<bool> {
        self.audit(by, Some(user.tenant_id), Some(&user.email), "second_factor_failure").await;
        self.count_second_factor_failure(by, user).await
    }

    async fn enrolled(&self, by: &Actor<'_>, user: &UserRow, method: &str) {
        self.audit(by, Some(user.tenant_id), Some(&user.email), &format!("second_factor_enrolled:{method}")).await;
        self.mail_later(by, &user.email, &Notice::SecondFactorEnrolled { method });
    }

    /// The authenticator secret being set up, kept encrypted until a code
    /// proves the app has it: the one already shown, or a new one.
    pub async fn authenticator_to_set_up(&self, key: &TotpKey, user_id: i64) -> Result<Vec<u8>> {
        if let Some(stored) = self.store.totp_pending(user_id).await?
            && let Some(secret) = key.decrypt(user_id, &stored)
        {
            return Ok(secret);
        }
        self.new_authenticator_to_set_up(key, user_id).await
    }

    /// A new secret to set up, replacing any shown before.
    pub(super) async fn new_authenticator_to_set_up(&self, key: &TotpKey, user_id: i64) -> Result<Vec<u8>> {
        let secret = sf::new_secret();
        self.store.set_totp_pending(user_id, &key.encrypt(user_id, &secret)).await?;
        Ok(secret)
    }

    /// A new recovery code for the user; its hash replaces the old one.
    pub async fn new_recovery_code(&self, user: &UserRow) -> Result<String> {
        let code = recovery::new_code();
        let canonical =
            recovery::normalize(&code).ok_or_else(|| crate::store::StoreError::Invalid("recovery code".into()))?;
        self.store.set_recovery_code(user.id, &recovery::hash(&canonical)).await?;
        Ok(code)
    }

    /// The second step is done with `factor`. When the user asked, this
    /// browser is remembered: the ticket for its cookie comes back.
    pub async fn complete_second_factor(
        &self,
        by: &Actor<'_>,
        user: &UserRow,
        factor: Factor,
        remember: Option<Option<&str>>,
    ) -> Result<Option<String>> {
        self.store.set_last_access(user.id, now()).await?;
        let event = format!("second_factor_success:{}", factor.as_str());
        self.audit(by, Some(user.tenant_id), Some(&user.email), &event).await;
        let Some(label) = remember else { return Ok(None) };
        let ticket = tokens::random_token();
        let hash = tokens::hash_token(&ticket).ok_or_else(|| crate::store::StoreError::Invalid("ticket".into()))?;
        self.store.remember_device(&hash, user.id, label).await?;
        Ok(Some(ticket))
    }

    /// At sign-in: whether the browser's ticket is a remembered browser of the
    /// user, who has been here within 30 days (else the second step is asked).
    pub async fn remembered_browser(&self, user_id: i64, ticket: &str) -> Result<bool> {
        let Some(hash) = tokens::hash_token(ticket) else { return Ok(false) };
        let e = self.store.enrolment(user_id).await?;
        if !(e.any() && e.last_access_at.is_some_and(|t| now() - t <= REMEMBER_SECS)) {
            return Ok(false);
        }
        Ok(self.store.use_device(&hash, user_id, REMEMBER_SECS).await?)
    }

    /// Forgets one of the user's remembered browsers; false when it was not theirs.
    pub async fn forget_browser(
        &self,
        by: &Actor<'_>,
        user_id: i64,
        tenant_id: i64,
        email: &str,
        id: i64,
    ) -> Result<bool> {
        let removed = self.store.revoke_device(user_id, id).await?;
        if removed {
            self.audit(by, Some(tenant_id), Some(email), "remembered_browser_forgotten").await;
        }
        Ok(removed)
    }
}
