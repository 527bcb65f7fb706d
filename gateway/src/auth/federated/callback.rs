//! `GET /auth/oidc/callback`: the provider sends the browser back here. The
//! flow is taken (a state works once), checked against this browser, its age
//! and hostname, the provider's answer is verified, and then the flow's
//! purpose decides what the identity is used for.

use super::entry::{directory_spec, provider};
use super::flow::{browser_secret, derive, redirect_uri, starting_session};
use super::pages::{Refused, refused};
use crate::federation::ProviderSpec;
use crate::store::{FederatedIdentity, FlowPurpose, FlowRow, now};
use crate::tokens;
use crate::web::{Outcome, Visit};

pub async fn callback(v: &Visit<'_>) -> Outcome {
    let Some(state) = v.req.query("state") else { return refused(v, Refused::UnknownState) };
    let Some(state_hash) = tokens::hash_token(&state) else { return refused(v, Refused::UnknownState) };
    // Not audited: anyone can send a made-up state, and it is nobody's event.
    let Some(flow) = v.app.store.take_flow(&state_hash).await? else {
        crate::metrics::LOGINS.with_label_values(&["federated_unknown_state"]).inc();
        return refused(v, Refused::UnknownState);
    };
    let refuse = async |why: Refused| {
        v.audit(flow.tenant_id, None, None, &format!("federated_refused:{}:{}", flow.provider, why.code())).await;
        refused(v, why)
    };
    let browser = browser_secret(v);
    let same_browser = browser
        .is_some_and(|b| tokens::constant_time_eq(tokens::hash_bytes(&b).as_bytes(), flow.browser_hash.as_bytes()));
    let Some(browser) = browser.filter(|_| same_browser && flow.host == v.facts.host) else {
        return refuse(Refused::OtherBrowser).await;
    };
    if flow.expires_at <= now() {
        return refuse(Refused::Expired).await;
    }
    if v.req.query("error").is_some() {
        return refuse(Refused::ProviderError).await;
    }
    let Some(code) = v.req.query("code").filter(|c| !c.is_empty()) else {
        return refuse(Refused::ProviderError).await;
    };
    let Some(spec) = spec_of(v, &flow).await? else { return refuse(Refused::ProviderError).await };
    let secrets = derive(&browser, &state);
    let reauth_after = (flow.purpose == FlowPurpose::Reauth).then_some(flow.created_at);
    let fed = match v.app.federation.finish(&spec, &redirect_uri(v), &code, &secrets, reauth_after).await {
        Ok(fed) => fed,
        Err(e) => {
            tracing::warn!(provider = %spec.id, error = %e, "a provider's answer was refused");
            v.audit(flow.tenant_id, None, None, &format!("federated_refused:{}:{}", spec.id, e.code())).await;
            return refused(v, Refused::BadAnswer);
        }
    };
    let identity = FederatedIdentity { provider: spec.id.clone(), issuer: fed.issuer, subject: fed.subject };
    match flow.purpose {
        FlowPurpose::Login => super::sign_in::login(v, &flow, &identity).await,
        FlowPurpose::Reauth => reauth(v, &flow, &identity).await,
        FlowPurpose::Invite | FlowPurpose::MethodLink | FlowPurpose::OwnMethod => {
            super::bind::finish(v, &flow, &identity).await
        }
    }
}

/// The provider a flow went to, as configured now: a provider removed from
/// the configuration or a directory since deleted finishes nothing.
async fn spec_of(v: &Visit<'_>, flow: &FlowRow) -> Result<Option<ProviderSpec>, crate::store::StoreError> {
    if flow.provider != "ad" {
        return Ok(provider(v, &flow.provider));
    }
    let Some(tenant_id) = flow.tenant_id else { return Ok(None) };
    Ok(v.app.store.directory(tenant_id).await?.and_then(|d| directory_spec(v, &d)))
}

/// The settings gate of a federated user: they signed in at their provider
/// again, as the account this session belongs to, from this same session.
async fn reauth(v: &Visit<'_>, flow: &FlowRow, id: &FederatedIdentity) -> Outcome {
    let Some((session, user)) = starting_session(v, flow).await? else {
        return refused(v, Refused::OtherBrowser);
    };
    let who = v.app.store.user_id_by_identity(&id.issuer, &id.subject).await?;
    if who != Some(user.id) {
        v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "reauth_failure").await;
        return refused(v, Refused::WrongPerson);
    }
    let rd = crate::web::rd::safe_return(flow.rd.as_deref().unwrap_or("/auth/settings"));
    super::super::sudo::federated_reauth_passed(v, &session, &user, &rd).await
}
