//! A signed-in user registers a new phone number or authenticator app. First
//! a current factor (a code from the phone or app set up now, or the recovery
//! code) proves it is them, not someone holding their session cookie; that
//! proof is a short-lived, single-use ticket. Then a code from the new phone
//! or app proves it works. Every wrong code of either step counts toward the
//! second-factor lock; the change is audited and mailed to the user.

use policy::Factor;

use super::two_step::{Checked, Proof, Purpose, sms_hash};
use super::{Accounts, Actor, Result};
use crate::mail::Notice;
use crate::second_factor::{self as sf, TotpKey};
use crate::store::{LinkPurpose, SmsCheck, UserRow, now};
use crate::tokens;

/// How long a proof stays good for the change.
pub const CHANGE_SECS: i64 = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changing {
    Phone,
    Authenticator,
}

impl Changing {
    fn as_str(self) -> &'static str {
        match self {
            Changing::Phone => "phone",
            Changing::Authenticator => "authenticator",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Changing::Phone => "sms",
            Changing::Authenticator => "totp",
        }
    }
}

/// A live proof, read back from its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proved {
    /// The factor that proved it; after the recovery code, a new one must be shown.
    pub by: Factor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// The new phone or app is registered.
    Done(Proved),
    /// The proof is missing, used, expired, or another user's or change's.
    NoProof,
    /// The code for the new phone or app was not right; counted.
    Wrong {
        locked: bool,
    },
    /// SMS only: no live code for the new number; send a new one.
    Dead,
    Locked,
}

impl Accounts<'_> {
    /// Checks a current factor for a change; Ok(ticket) when it is right.
    pub async fn prove_for_change(
        &self,
        by: &Actor<'_>,
        key: &TotpKey,
        user: &UserRow,
        changing: Changing,
        proof: Proof<'_>,
    ) -> Result<std::result::Result<String, Checked>> {
        match self.check_second_factor(by, key, user, proof, Purpose::Change).await? {
            Checked::Right { factor, .. } => {
                // A QR code shown for an earlier change that was never finished is not reused.
                if changing == Changing::Authenticator {
                    self.new_authenticator_to_set_up(key, user.id).await?;
                }
                let payload = format!("{}:{}", changing.as_str(), factor.as_str());
                Ok(Ok(self.new_ticket(user.id, LinkPurpose::FactorChange, Some(&payload), CHANGE_SECS).await?))
            }
            other => Ok(Err(other)),
        }
    }

    /// The proof behind a ticket, when it is live, the user's, and for this change.
    pub async fn change_proof(&self, user: &UserRow, changing: Changing, ticket: &str) -> Result<Option<Proved>> {
        let Some(hash) = tokens::hash_token(ticket) else { return Ok(None) };
        let Some((owner, payload)) = self.store.peek_link_with_payload(&hash, LinkPurpose::FactorChange).await? else {
            return Ok(None);
        };
        Ok(proved(user, changing, owner, payload.as_deref()))
    }

    /// Registers the number the code was sent to (`sms_phone` of the pending
    /// code), once the ticket's proof is live and the code right.
    pub async fn change_phone(&self, by: &Actor<'_>, user: &UserRow, ticket: &str, code: &str) -> Result<Changed> {
        if self.store.second_factor_locked(user.id).await? {
            return Ok(Changed::Locked);
        }
        if self.change_proof(user, Changing::Phone, ticket).await?.is_none() {
            return Ok(Changed::NoProof);
        }
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let phone = match self.store.check_sms_code(user.id, &sms_hash(user.id, &digits)).await? {
            SmsCheck::Ok(phone) => phone,
            SmsCheck::Wrong => return Ok(Changed::Wrong { locked: self.wrong_code(by, user).await? }),
            SmsCheck::Dead => return Ok(Changed::Dead),
        };
        let Some(proof) = self.use_proof(user, Changing::Phone, ticket).await? else { return Ok(Changed::NoProof) };
        self.store.enrol_sms(user.id, &phone).await?;
        self.store.reset_user_factor_failures(user.id).await?;
        self.changed(by, user, Changing::Phone).await;
        Ok(Changed::Done(proof))
    }

    /// Registers the authenticator app being set up, once the ticket's proof
    /// is live and the app's code right.
    pub async fn change_authenticator(
        &self,
        by: &Actor<'_>,
        key: &TotpKey,
        user: &UserRow,
        ticket: &str,
        code: &str,
    ) -> Result<Changed> {
        if self.store.second_factor_locked(user.id).await? {
            return Ok(Changed::Locked);
        }
        if self.change_proof(user, Changing::Authenticator, ticket).await?.is_none() {
            return Ok(Changed::NoProof);
        }
        let secret = self.authenticator_to_set_up(key, user.id).await?;
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let Some(step) = sf::verify(&secret, &digits, now()) else {
            return Ok(Changed::Wrong { locked: self.wrong_code(by, user).await? });
        };
        let Some(proof) = self.use_proof(user, Changing::Authenticator, ticket).await? else {
            return Ok(Changed::NoProof);
        };
        self.store.enrol_totp(user.id, &key.encrypt(user.id, &secret), step).await?;
        self.store.reset_user_factor_failures(user.id).await?;
        self.changed(by, user, Changing::Authenticator).await;
        Ok(Changed::Done(proof))
    }

    /// Uses the ticket up (one conditional UPDATE: of two racing changes, one wins).
    async fn use_proof(&self, user: &UserRow, changing: Changing, ticket: &str) -> Result<Option<Proved>> {
        let Some(hash) = tokens::hash_token(ticket) else { return Ok(None) };
        let Some((owner, payload)) = self.store.consume_link_with_payload(&hash, LinkPurpose::FactorChange).await?
        else {
            return Ok(None);
        };
        Ok(proved(user, changing, owner, payload.as_deref()))
    }

    async fn changed(&self, by: &Actor<'_>, user: &UserRow, changing: Changing) {
        let method = changing.method();
        self.audit(by, Some(user.tenant_id), Some(&user.email), &format!("second_factor_changed:{method}")).await;
        self.mail_later(by, &user.email, &Notice::SecondFactorChanged { method });
    }
}

fn proved(user: &UserRow, changing: Changing, owner: i64, payload: Option<&str>) -> Option<Proved> {
    let (what, factor) = payload?.split_once(':')?;
    if owner != user.id || what != changing.as_str() {
        return None;
    }
    Factor::parse(factor).ok().map(|by| Proved { by })
}
