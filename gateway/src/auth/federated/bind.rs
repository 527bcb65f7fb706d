//! The callback of a sign-in that binds a provider account: registration from
//! an invitation, the emailed login-method change link, and the owner's own
//! login-method setting. Each ends signed in with the new method.

use super::pages::{Refused, refused};
use super::sign_in::login;
use crate::accounts::MethodChange;
use crate::store::{FederatedIdentity, FlowPurpose, FlowRow, LinkPurpose};
use crate::web::{Outcome, Visit};

/// A login method's name as people read it, in the visitor's language.
pub fn method_label(v: &Visit<'_>, method: &str) -> String {
    match method {
        "password" => v.t("email and password", "メールアドレスとパスワード").to_owned(),
        "ad" => "Active Directory".to_owned(),
        id => match v.app.cfg.login.providers.iter().find(|p| p.id == id) {
            Some(p) if v.lang == crate::ui::lang::Lang::Ja => p.label.ja.clone(),
            Some(p) => p.label.en.clone(),
            None => id.to_owned(),
        },
    }
}

fn refusal_of(change: &MethodChange) -> Refused {
    match change {
        MethodChange::Done(_) => Refused::NotNow,
        MethodChange::DeadLink => Refused::DeadLink,
        MethodChange::TakenByOther => Refused::TakenByOther,
        MethodChange::SameProviderOtherAccount => Refused::SameProviderOtherAccount,
        MethodChange::OwnerMayNotUseDirectory => Refused::OwnerDirectory,
    }
}

pub async fn finish(v: &Visit<'_>, flow: &FlowRow, id: &FederatedIdentity) -> Outcome {
    let label = method_label(v, &id.provider);
    let change = match flow.purpose {
        FlowPurpose::Invite => {
            let Some(ticket) = flow.ticket_hash.as_deref() else { return refused(v, Refused::DeadLink) };
            v.accounts().register_federated(&v.actor(None), ticket, id).await?
        }
        FlowPurpose::MethodLink => {
            let Some(ticket) = flow.ticket_hash.as_deref() else { return refused(v, Refused::DeadLink) };
            let owner = v.app.store.peek_link(ticket, LinkPurpose::LoginMethod).await?;
            let user = match owner.filter(|uid| flow.user_id == Some(*uid)) {
                Some(uid) => v.app.store.user_by_id(uid).await?,
                None => None,
            };
            let Some(user) = user else { return refused(v, Refused::DeadLink) };
            let (change, _) = v.accounts().switch_to_federated(&v.actor(Some(&user.email)), &user, id, &label).await?;
            if matches!(change, MethodChange::Done(_)) {
                v.app.store.consume_link(ticket, LinkPurpose::LoginMethod).await?;
            }
            change
        }
        FlowPurpose::OwnMethod => {
            let Some((_, user)) = super::flow::starting_session(v, flow).await? else {
                return refused(v, Refused::OtherBrowser);
            };
            let (change, _) = v.accounts().switch_to_federated(&v.actor(Some(&user.email)), &user, id, &label).await?;
            change
        }
        FlowPurpose::Login | FlowPurpose::Reauth => return refused(v, Refused::UnknownState),
    };
    match change {
        MethodChange::Done(_) => login(v, flow, id).await,
        other => refused(v, refusal_of(&other)),
    }
}
