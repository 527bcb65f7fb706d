//! A user's first password: set by the invitee from the mailed link (with a
//! confirmation screen between choosing it and registering), or by the
//! operator for a user added at the command line.

use policy::Role;

use super::{Accounts, Actor, Result};
use crate::store::{LinkPurpose, NewUser, UserRow, canonical_email};

/// The hashed password a registration sets.
#[derive(Debug, Clone, Copy)]
pub enum NewPassword<'a> {
    /// Chosen and hashed in this request (one form post).
    Hashed(&'a str),
    /// Chosen on the previous screen and kept on the link until confirmed;
    /// the digest ([`staged_digest`]) the confirm screen carried, so the
    /// confirmation registers the password this browser chose and no other.
    Staged { digest: &'a str },
}

/// What the confirm screen carries of the staged password: a digest of its
/// hash, so the hash itself never reaches a page.
pub fn staged_digest(staged_hash: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(staged_hash.as_bytes());
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// What a registration from an invitation link came to.
#[derive(Debug)]
pub enum Registration {
    Done(UserRow),
    /// The link is dead: used, expired, replaced, or its invitation withdrawn.
    DeadLink,
    /// A confirmation with no password chosen before it; the link is still live.
    NothingStaged,
}

impl Accounts<'_> {
    /// The person a live invitation link is for. A link whose invitation
    /// the console has withdrawn is dead, though the link row itself is not
    /// used up: the owner, invited by the operator, needs no invitation row.
    pub async fn invitee(&self, ticket_hash: &str) -> Result<Option<UserRow>> {
        let Some(user_id) = self.store.peek_link(ticket_hash, LinkPurpose::Invite).await? else {
            return Ok(None);
        };
        let Some(user) = self.store.user_by_id(user_id).await? else { return Ok(None) };
        if user.registered() {
            return Ok(None);
        }
        if user.role != Role::Owner && self.store.invitation(user.tenant_id, &user.email).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(user))
    }

    /// Keeps the hash of the chosen password on the live link until the
    /// invitee confirms; false when the link is dead.
    pub async fn stage_invitation_password(&self, ticket_hash: &str, password_hash: &str) -> Result<bool> {
        if self.invitee(ticket_hash).await?.is_none() {
            return Ok(false);
        }
        Ok(self.store.stage_invitation_password(ticket_hash, password_hash).await?)
    }

    /// Registers the invitee: uses the link up (one conditional statement, so
    /// two posts cannot both register), sets the password, and ends the
    /// invitation, which makes them a user in the console's list. Audited
    /// once, as done by the invitee themselves.
    pub async fn complete_invitation(
        &self,
        by: &Actor<'_>,
        ticket_hash: &str,
        password: NewPassword<'_>,
    ) -> Result<Registration> {
        let Some(invitee) = self.invitee(ticket_hash).await? else { return Ok(Registration::DeadLink) };
        let used = match password {
            NewPassword::Hashed(hash) => {
                self.store.consume_link(ticket_hash, LinkPurpose::Invite).await?.map(|id| (id, hash.to_owned()))
            }
            NewPassword::Staged { digest } => {
                let staged = self.store.peek_link_with_payload(ticket_hash, LinkPurpose::Invite).await?;
                let staged = staged
                    .and_then(|(_, payload)| payload)
                    .filter(|p| crate::tokens::constant_time_eq(staged_digest(p).as_bytes(), digest.as_bytes()));
                match staged {
                    Some(staged) => self.store.consume_staged_invitation(ticket_hash, &staged).await?,
                    None => None,
                }
            }
        };
        let (user_id, hash) = match used {
            Some(used) => used,
            // Live, but nothing staged or another password staged since this
            // screen: not used up, the form is shown again.
            None if self.invitee(ticket_hash).await?.is_some() => return Ok(Registration::NothingStaged),
            None => return Ok(Registration::DeadLink),
        };
        // The role is the invitation's as it stands now, not the one the
        // user row got when this link was sent: sending again with another
        // role changes the row at once, while the queue changes the user and
        // the links later (doing it in the console's request would let its
        // timing tell a fresh address from one with an account elsewhere).
        if invitee.role != Role::Owner
            && let Some(invitation) = self.store.invitation(invitee.tenant_id, &invitee.email).await?
            && invitation.role != invitee.role
        {
            self.store.set_user_role(invitee.tenant_id, user_id, invitation.role).await?;
        }
        self.store.set_password_hash(user_id, &hash).await?;
        self.store.forget_staged_passwords(user_id).await?;
        self.store.invitation_accepted(invitee.tenant_id, &invitee.email).await?;
        let me = Actor { name: Some(&invitee.email), ..*by };
        self.audit(&me, Some(invitee.tenant_id), Some(&invitee.email), "invitation_accepted").await;
        Ok(Registration::Done(self.store.user_by_id(user_id).await?.unwrap_or(invitee)))
    }

    /// A password user created directly (`gateway user add`), registered at once.
    pub async fn add_user(
        &self,
        by: &Actor<'_>,
        tenant_id: i64,
        email: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<i64> {
        let id = self.store.create_user(NewUser { tenant_id, email, role, password_hash: Some(password_hash) }).await?;
        self.audit(by, Some(tenant_id), Some(&canonical_email(email)), "user_created").await;
        Ok(id)
    }
}
