//! The end of a sign-in through a provider, once the identity is proven and
//! (for registration or a method change) bound: the account it is bound to
//! gets a session, with the line check on the line-auth hostname as for
//! everyone and the provider id as its method.

use policy::{Factor, HostKind};

use super::super::login::{ask_line_consent, needs_consent, new_login, off_line, registered_line};
use super::super::start::{NewLogin, end_current, start};
use super::pages::{Refused, refused};
use crate::accounts::subject_hash;
use crate::metrics;
use crate::store::{FederatedIdentity, FlowRow};
use crate::web::rd::ReturnPath;
use crate::web::{Outcome, Reply, Visit};

pub(super) async fn login(v: &Visit<'_>, flow: &FlowRow, id: &FederatedIdentity) -> Outcome {
    let app = v.app;
    let hashed = subject_hash(&id.issuer, &id.subject);
    let unbound = async || {
        metrics::LOGINS.with_label_values(&["failure"]).inc();
        v.audit(flow.tenant_id, None, None, &format!("federated_unbound:{}:{hashed}", id.provider)).await;
        refused(v, Refused::Unbound)
    };
    let Some(user_id) = app.store.user_id_by_identity(&id.issuer, &id.subject).await? else { return unbound().await };
    let (Some(user), Some(bound)) =
        (app.store.user_by_id(user_id).await?, app.store.federated_identity(user_id).await?)
    else {
        return unbound().await;
    };
    // An account signs in only through the door it was bound at: a directory
    // account through its own tenant's directory, a provider's through that provider.
    if bound.provider != id.provider || (id.provider == "ad" && flow.tenant_id != Some(user.tenant_id)) {
        return unbound().await;
    }
    let snapshot = app.policy.load_full();
    let tenant = snapshot.tenant(user.tenant_id);
    let Some(tenant) = tenant.filter(|_| !user.locked) else {
        v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "login_failure").await;
        return refused(v, Refused::NotNow);
    };
    // The line check applies as for everyone; the tenant's 2FA switch does not.
    if let Some(refusal) = off_line(v, tenant, &user).await {
        return Ok(refusal);
    }
    let factor = (v.facts.host == HostKind::LineAuth).then_some(Factor::Line);
    let line = registered_line(v, tenant);
    let rd = ReturnPath::checked(flow.rd.as_deref().unwrap_or("/"));
    if let Some(l) = needs_consent(v, line).await? {
        return ask_line_consent(v, user.id, l, &rd).await;
    }
    let login = NewLogin { provider: Some(&id.provider), ..new_login(&user, factor, line) };
    let cookie = start(v, login).await?;
    end_current(v).await;
    v.accounts().signed_in(&v.actor(Some(&user.email)), &user, true).await?;
    v.audit(
        Some(user.tenant_id),
        Some(&user.email),
        Some(&user.email),
        &format!("federated_login:{}:{hashed}", id.provider),
    )
    .await;
    metrics::LOGINS.with_label_values(&["success"]).inc();
    Ok(Reply::redirect(303, rd.into_string()).header("set-cookie", cookie))
}
