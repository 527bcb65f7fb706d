//! A user's login method: binding a provider account at registration,
//! switching between methods, and the rules that go with it (SPEC section 9).
//! Binding is by (issuer, subject) only, never by the address a provider
//! reports; the owner may never use a tenant directory.

use policy::Role;

use super::{Accounts, Actor, Mailed, Result};
use crate::mail::Notice;
use crate::store::{Binding, FederatedIdentity, LinkPurpose, UserRow};

/// The id of a tenant directory as a login method.
pub const DIRECTORY: &str = "ad";

/// What a login-method change or a federated registration came to.
#[derive(Debug)]
pub enum MethodChange {
    Done(UserRow),
    /// The link (invitation or change link) is no longer live.
    DeadLink,
    /// The provider account is already another user's.
    TakenByOther,
    /// Another account of the provider the user signs in with now.
    SameProviderOtherAccount,
    /// The owner chose a tenant directory.
    OwnerMayNotUseDirectory,
}

/// `adfs-` and 18 letters and digits.
pub fn valid_connection_id(id: &str) -> bool {
    id.len() == 23 && id.starts_with("adfs-") && id[5..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// What an audit line says of a provider account: never the raw subject.
pub fn subject_hash(issuer: &str, subject: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest([issuer.as_bytes(), b"\0", subject.as_bytes()].concat());
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl Accounts<'_> {
    /// Registration from an invitation link with a provider account: the
    /// link is used up and the account bound in place of a password.
    pub async fn register_federated(
        &self,
        by: &Actor<'_>,
        ticket_hash: &str,
        id: &FederatedIdentity,
    ) -> Result<MethodChange> {
        let Some(invitee) = self.invitee(ticket_hash).await? else { return Ok(MethodChange::DeadLink) };
        if let Some(refused) = self.bind_refusal(&invitee, id).await? {
            self.audit_refusal(by, &invitee, id, &refused).await;
            return Ok(refused);
        }
        let Some(user_id) = self.store.consume_link(ticket_hash, LinkPurpose::Invite).await? else {
            return Ok(MethodChange::DeadLink);
        };
        if invitee.role != Role::Owner
            && let Some(invitation) = self.store.invitation(invitee.tenant_id, &invitee.email).await?
            && invitation.role != invitee.role
        {
            self.store.set_user_role(invitee.tenant_id, user_id, invitation.role).await?;
        }
        if self.store.bind_identity(user_id, id).await? == Binding::TakenByOther {
            return Ok(MethodChange::TakenByOther);
        }
        self.store.forget_staged_passwords(user_id).await?;
        self.store.invitation_accepted(invitee.tenant_id, &invitee.email).await?;
        let me = Actor { name: Some(&invitee.email), ..*by };
        self.audit(&me, Some(invitee.tenant_id), Some(&invitee.email), "invitation_accepted").await;
        let event = format!("login_method_bound:{}:{}", id.provider, subject_hash(&id.issuer, &id.subject));
        self.audit(&me, Some(invitee.tenant_id), Some(&invitee.email), &event).await;
        Ok(MethodChange::Done(self.store.user_by_id(user_id).await?.unwrap_or(invitee)))
    }

    /// Switches a registered user to a provider account. The password, the
    /// second factors, remembered browsers and every session go; `label` names
    /// the new method in the notice mailed to the user.
    pub async fn switch_to_federated(
        &self,
        by: &Actor<'_>,
        user: &UserRow,
        id: &FederatedIdentity,
        label: &str,
    ) -> Result<(MethodChange, Mailed)> {
        if let Some(refused) = self.bind_refusal(user, id).await? {
            self.audit_refusal(by, user, id, &refused).await;
            return Ok((refused, Mailed::Sent));
        }
        if self.store.bind_identity(user.id, id).await? == Binding::TakenByOther {
            return Ok((MethodChange::TakenByOther, Mailed::Sent));
        }
        let event = format!("login_method_changed:{}:{}", id.provider, subject_hash(&id.issuer, &id.subject));
        self.switched(by, user, &event, label).await
    }

    /// Switches a user to email and password with this (hashed) password.
    pub async fn switch_to_password(
        &self,
        by: &Actor<'_>,
        user: &UserRow,
        password_hash: &str,
        label: &str,
    ) -> Result<(MethodChange, Mailed)> {
        self.store.unbind_identity(user.id, password_hash).await?;
        self.store.reset_second_factors(user.id).await?;
        self.switched(by, user, "login_method_changed:password", label).await
    }

    async fn switched(
        &self,
        by: &Actor<'_>,
        user: &UserRow,
        event: &str,
        label: &str,
    ) -> Result<(MethodChange, Mailed)> {
        // Other pending changes were asked for under the old method.
        self.store.void_links(user.id, &[LinkPurpose::LoginMethod, LinkPurpose::Reset, LinkPurpose::Unlock]).await?;
        self.audit(by, Some(user.tenant_id), Some(&user.email), event).await;
        self.end_sessions(by, user).await?;
        let mailed = self.mail(by, &user.email, &Notice::LoginMethodChanged { method: label }).await;
        let now = self.store.user_by_id(user.id).await?.unwrap_or_else(|| user.clone());
        Ok((MethodChange::Done(now), mailed))
    }

    /// Why this account may not be bound to this user, if it may not.
    async fn bind_refusal(&self, user: &UserRow, id: &FederatedIdentity) -> Result<Option<MethodChange>> {
        if id.provider == DIRECTORY && user.role == Role::Owner {
            return Ok(Some(MethodChange::OwnerMayNotUseDirectory));
        }
        if let Some(other) = self.store.user_id_by_identity(&id.issuer, &id.subject).await?
            && other != user.id
        {
            return Ok(Some(MethodChange::TakenByOther));
        }
        if let Some(current) = self.store.federated_identity(user.id).await?
            && current.provider == id.provider
            && current.subject != id.subject
        {
            return Ok(Some(MethodChange::SameProviderOtherAccount));
        }
        Ok(None)
    }

    async fn audit_refusal(&self, by: &Actor<'_>, user: &UserRow, id: &FederatedIdentity, why: &MethodChange) {
        let code = match why {
            MethodChange::TakenByOther => "taken",
            MethodChange::SameProviderOtherAccount => "same_provider_other_account",
            MethodChange::OwnerMayNotUseDirectory => "owner_directory",
            MethodChange::DeadLink => "dead_link",
            MethodChange::Done(_) => return,
        };
        let event = format!("login_method_refused:{}:{code}:{}", id.provider, subject_hash(&id.issuer, &id.subject));
        self.audit(by, Some(user.tenant_id), Some(&user.email), &event).await;
    }
}
