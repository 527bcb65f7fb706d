//! Inviting someone into a tenant, sending the invitation again, withdrawing
//! it. An admin of one tenant must not learn from any of these whether an
//! address has an account in another (SPEC section 11): the answer is decided
//! by this tenant's own rows alone, and what differs between a fresh address
//! and a taken one (a user and a link, or a notice to the holder) happens in
//! the bounded background queue after the answer.

use std::sync::Arc;
use std::time::Duration;

use policy::{HostKind, Role};

use super::mailed_link::new_link;
use super::{Accounts, Actor, Result};
use crate::background;
use crate::mail::{Mailer, Notice};
use crate::store::{InvitationMail, LinkPurpose, NewUser, Store, StoreError, canonical_email, now, valid_email};
use crate::ui::lang::Lang;

/// What an invitation (or a second one) came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invited {
    /// Recorded and audited; the mail is on its way (or recorded as failed).
    Queued,
    /// Not an address mail can reach (see [`valid_email`]).
    BadAddress,
    /// A registered user of this tenant, or its owner: nothing to invite.
    Member,
    /// Sending again, but this tenant has no invitation of the address.
    NoInvitation,
}

impl Accounts<'_> {
    /// Invites `email` into the tenant with `role` (user or admin; anything
    /// else is refused as a store error, never widened).
    pub async fn invite(&self, by: &Actor<'_>, tenant_id: i64, email: &str, role: Role) -> Result<Invited> {
        if role == Role::Owner {
            return Err(StoreError::Invalid("the owner is not invited from the console".into()).into());
        }
        let email = canonical_email(email);
        if !valid_email(&email) {
            return Ok(Invited::BadAddress);
        }
        // Only this tenant's own users are told apart: they are on the
        // console's page anyway.
        if let Some(u) = self.store.user_by_email(&email).await?
            && u.tenant_id == tenant_id
            && (u.registered() || u.role == Role::Owner)
        {
            return Ok(Invited::Member);
        }
        let expires_at = now() + self.cfg.links.validity.as_secs() as i64;
        let attempt = self.store.record_invitation(tenant_id, &email, role, expires_at).await?;
        self.audit(by, Some(tenant_id), Some(&email), "invitation_sent").await;
        let job = InvitationJob {
            store: self.store.clone(),
            mailer: Arc::clone(self.mailer),
            tenant_id,
            email,
            role,
            attempt,
            base_url: self.cfg.public_url(by.host == Some(HostKind::LineAuth)),
            product: self.cfg.ui.product_name.clone(),
            validity: self.cfg.links.validity,
            by: OwnedActor::of(by),
        };
        let failed = job.failure();
        if !background::spawn("invitation", job.run()) {
            // Full queue: nothing will send it, so the console must say so now.
            failed.record().await;
        }
        Ok(Invited::Queued)
    }

    /// Sends the tenant's invitation of `email` again, with a new link and
    /// expiry: the way on for an expired invitation, or one whose mail failed.
    /// `role` changes the invited role; `None` keeps it.
    pub async fn resend_invitation(
        &self,
        by: &Actor<'_>,
        tenant_id: i64,
        email: &str,
        role: Option<Role>,
    ) -> Result<Invited> {
        let Some(pending) = self.store.invitation(tenant_id, email).await? else {
            return Ok(Invited::NoInvitation);
        };
        self.invite(by, tenant_id, &pending.email, role.unwrap_or(pending.role)).await
    }

    /// Withdraws the tenant's invitation of `email`: its link stops working
    /// at once (the invitation page needs the row). The invitee's password-less
    /// user, if this tenant made one, is removed in the queue afterwards, so
    /// the answer is the same whoever holds the address. False: no invitation.
    pub async fn withdraw_invitation(&self, by: &Actor<'_>, tenant_id: i64, email: &str) -> Result<bool> {
        let email = canonical_email(email);
        if !self.store.withdraw_invitation(tenant_id, &email).await? {
            return Ok(false);
        }
        self.audit(by, Some(tenant_id), Some(&email), "invitation_withdrawn").await;
        let store = self.store.clone();
        let job = async move {
            if let Err(e) = store.forget_withdrawn_invitee(tenant_id, &email).await {
                tracing::error!(error = %e, "removing a withdrawn invitee failed");
            }
        };
        // Dropped, the row stays until the address is invited again (which
        // reuses it); the console does not list it, and its link is dead.
        background::spawn("invitation withdrawal", job);
        Ok(true)
    }
}

/// An [`Actor`] the queue can keep after the request has gone.
#[derive(Clone)]
struct OwnedActor {
    name: Option<String>,
    client_ip: Option<String>,
    host: Option<HostKind>,
    lang: Lang,
}

impl OwnedActor {
    fn of(by: &Actor<'_>) -> OwnedActor {
        OwnedActor {
            name: by.name.map(str::to_owned),
            client_ip: by.client_ip.map(str::to_owned),
            host: by.host,
            lang: by.lang,
        }
    }
}

/// Marks one send of an invitation failed and audits it, once.
struct Failure {
    store: Store,
    tenant_id: i64,
    email: String,
    attempt: i64,
    by: OwnedActor,
}

impl Failure {
    async fn record(&self) {
        match self.store.invitation_mailed(self.tenant_id, &self.email, self.attempt, InvitationMail::Failed).await {
            Ok(true) => {}
            // Sent again or withdrawn meanwhile: this send no longer matters.
            Ok(false) => return,
            Err(e) => tracing::error!(error = %e, "recording a failed invitation mail failed"),
        }
        let by = &self.by;
        let host = by.host.map(|h| h.as_str());
        let audited = self
            .store
            .audit(
                Some(self.tenant_id),
                by.name.as_deref(),
                Some(&self.email),
                "invitation_mail_failed",
                by.client_ip.as_deref(),
                host,
            )
            .await;
        if let Err(e) = audited {
            tracing::warn!(error = %e, "could not write an audit entry");
        }
    }
}

/// An invitation carried out after the answer was sent: a user without a
/// password and a registration link for an address nobody has (or a new link,
/// with the role asked for now, for one invited before), or, for an address
/// with an account in another tenant, a notice to its holder and nothing else.
/// Either way the row records whether the mail went out.
struct InvitationJob {
    store: Store,
    mailer: Arc<Mailer>,
    tenant_id: i64,
    email: String,
    role: Role,
    attempt: i64,
    base_url: String,
    product: String,
    validity: Duration,
    by: OwnedActor,
}

/// Why a job sent nothing.
enum Unsent {
    /// Registered or made owner since the answer: nothing to send, nothing failed.
    NotNeeded,
    Failed,
}

impl InvitationJob {
    fn failure(&self) -> Failure {
        Failure {
            store: self.store.clone(),
            tenant_id: self.tenant_id,
            email: self.email.clone(),
            attempt: self.attempt,
            by: self.by.clone(),
        }
    }

    async fn run(self) {
        let failure = self.failure();
        match self.send().await {
            Ok(()) => {
                let sent =
                    self.store.invitation_mailed(self.tenant_id, &self.email, self.attempt, InvitationMail::Sent);
                if let Err(e) = sent.await {
                    tracing::error!(error = %e, "recording a sent invitation mail failed");
                }
            }
            Err(Unsent::NotNeeded) => {}
            Err(Unsent::Failed) => failure.record().await,
        }
    }

    /// Who gets a link: a user id, or `None` for the holder of another
    /// tenant's account.
    async fn invitee(&self) -> std::result::Result<Option<i64>, Unsent> {
        let new = NewUser { tenant_id: self.tenant_id, email: &self.email, role: self.role, password_hash: None };
        match self.store.create_user(new).await {
            Ok(id) => Ok(Some(id)),
            Err(StoreError::Conflict(_)) => match self.store.user_by_email(&self.email).await {
                Ok(Some(u)) if u.tenant_id == self.tenant_id => {
                    if u.registered() || u.role == Role::Owner {
                        return Err(Unsent::NotNeeded);
                    }
                    match self.store.set_user_role(self.tenant_id, u.id, self.role).await {
                        Ok(_) => Ok(Some(u.id)),
                        Err(e) => {
                            tracing::error!(error = %e, "invitee role change failed");
                            Err(Unsent::Failed)
                        }
                    }
                }
                Ok(Some(_)) => Ok(None),
                Ok(None) => Err(Unsent::Failed),
                Err(e) => {
                    tracing::error!(error = %e, "invitee lookup failed");
                    Err(Unsent::Failed)
                }
            },
            Err(e) => {
                tracing::error!(error = %e, "creating the invitee failed");
                Err(Unsent::Failed)
            }
        }
    }

    async fn send(&self) -> std::result::Result<(), Unsent> {
        let invitee = self.invitee().await?;
        let tenant = match self.store.tenant_name(self.tenant_id).await {
            Ok(Some(name)) => name,
            Ok(None) => return Err(Unsent::Failed),
            Err(e) => {
                tracing::error!(error = %e, "tenant lookup failed");
                return Err(Unsent::Failed);
            }
        };
        let days = self.validity.as_secs() / 86400;
        let lang = self.by.lang;
        let msg = match invitee {
            Some(user_id) => {
                // The links this one replaces die; so does a password chosen on them.
                if let Err(e) = self.store.forget_staged_passwords(user_id).await {
                    tracing::error!(error = %e, "forgetting staged passwords failed");
                    return Err(Unsent::Failed);
                }
                let token = match new_link(&self.store, self.validity, user_id, LinkPurpose::Invite, None).await {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::error!(error = %e, "creating an invitation link failed");
                        return Err(Unsent::Failed);
                    }
                };
                let link = format!("{}/auth/invite?ticket={token}", self.base_url);
                crate::mail::render(&Notice::Invite { link: &link, tenant: &tenant }, lang, &self.product, days)
            }
            None => crate::mail::render(&Notice::InviteHasAccount { tenant: &tenant }, lang, &self.product, days),
        };
        // Sent here, not on a task of its own, so that the job holds its place
        // in the bounded queue until the relay has the mail.
        self.mailer.send(&self.email, &msg).await.map_err(|e| {
            tracing::warn!(error = %e, "invitation mail not sent");
            Unsent::Failed
        })
    }
}
