//! The binding rules of `switch_to_federated` and `register_federated`
//! against a real SQLite store (SPEC section 9): what a provider callback
//! would come to, without a provider.

use policy::Role;

use super::{Actor, MethodChange};
use crate::auth::testing::{World, world};
use crate::store::{FederatedIdentity, LinkPurpose, NewUser, UserRow};
use crate::ui::lang::Lang;

fn by() -> Actor<'static> {
    Actor::cli(Lang::En)
}

fn id(provider: &str, subject: &str) -> FederatedIdentity {
    FederatedIdentity {
        provider: provider.into(),
        issuer: format!("https://{provider}.example"),
        subject: subject.into(),
    }
}

async fn registered(w: &World, email: &str, role: Role) -> UserRow {
    let store = &w.app.store;
    let uid = store
        .create_user(NewUser { tenant_id: w.tenant, email, role, password_hash: Some("$argon2id$placeholder") })
        .await
        .unwrap();
    store.user_by_id(uid).await.unwrap().unwrap()
}

async fn events(w: &World) -> Vec<String> {
    w.app.store.audit_entries(w.tenant, 0, 500).await.unwrap().into_iter().map(|e| e.event).collect()
}

#[tokio::test]
async fn a_password_user_moves_to_a_provider_and_loses_the_password() {
    let w = world().await;
    let taro = registered(&w, "taro@acme.example", Role::User).await;
    let (change, _) = w.accounts().switch_to_federated(&by(), &taro, &id("google", "t1"), "Google").await.unwrap();
    assert!(matches!(change, MethodChange::Done(_)), "{change:?}");
    let row = w.app.store.user_by_id(taro.id).await.unwrap().unwrap();
    assert!(row.password_hash.is_none(), "the password is gone");
    assert_eq!(w.app.store.federated_identity(taro.id).await.unwrap(), Some(id("google", "t1")));
    assert!(w.mails_to("taro@acme.example").iter().any(|(_, b)| b.contains("\"Google\"")));
    assert!(events(&w).await.iter().any(|e| e.starts_with("login_method_changed:google:")));
}

#[tokio::test]
async fn another_account_of_the_same_provider_is_refused() {
    let w = world().await;
    let taro = registered(&w, "taro@acme.example", Role::User).await;
    w.app.store.bind_identity(taro.id, &id("google", "t1")).await.unwrap();
    let (change, _) = w.accounts().switch_to_federated(&by(), &taro, &id("google", "t2"), "Google").await.unwrap();
    assert!(matches!(change, MethodChange::SameProviderOtherAccount), "{change:?}");
    assert_eq!(w.app.store.federated_identity(taro.id).await.unwrap(), Some(id("google", "t1")), "unchanged");
    // Through another provider it is allowed.
    let (change, _) = w.accounts().switch_to_federated(&by(), &taro, &id("carrier", "t2"), "Carrier").await.unwrap();
    assert!(matches!(change, MethodChange::Done(_)));
    assert!(events(&w).await.iter().any(|e| e.starts_with("login_method_refused:google:same_provider_other_account:")));
}

#[tokio::test]
async fn an_account_bound_to_someone_else_is_refused() {
    let w = world().await;
    let taro = registered(&w, "taro@acme.example", Role::User).await;
    let hana = registered(&w, "hana@acme.example", Role::User).await;
    w.app.store.bind_identity(hana.id, &id("google", "h1")).await.unwrap();
    let (change, _) = w.accounts().switch_to_federated(&by(), &taro, &id("google", "h1"), "Google").await.unwrap();
    assert!(matches!(change, MethodChange::TakenByOther), "{change:?}");
    assert!(w.app.store.federated_identity(taro.id).await.unwrap().is_none());
    assert!(w.app.store.user_by_id(taro.id).await.unwrap().unwrap().password_hash.is_some(), "taro keeps the password");
    assert_eq!(w.app.store.user_id_by_identity("https://google.example", "h1").await.unwrap(), Some(hana.id));
}

#[tokio::test]
async fn the_owner_never_gets_the_directory_by_any_door() {
    let w = world().await;
    // Not at registration: the invitation stays live.
    let owner = w.app.store.user_by_email("owner@acme.example").await.unwrap().unwrap();
    let validity = std::time::Duration::from_secs(600);
    let ticket =
        super::mailed_link::new_link(&w.app.store, validity, owner.id, LinkPurpose::Invite, None).await.unwrap();
    let hash = crate::tokens::hash_token(&ticket).unwrap();
    let change = w.accounts().register_federated(&by(), &hash, &id("ad", "o1")).await.unwrap();
    assert!(matches!(change, MethodChange::OwnerMayNotUseDirectory), "{change:?}");
    assert_eq!(w.app.store.peek_link(&hash, LinkPurpose::Invite).await.unwrap(), Some(owner.id));
    let change = w.accounts().register_federated(&by(), &hash, &id("google", "o1")).await.unwrap();
    assert!(matches!(change, MethodChange::Done(_)), "{change:?}");
    assert_eq!(w.app.store.peek_link(&hash, LinkPurpose::Invite).await.unwrap(), None, "used up");

    // Nor by a switch later.
    let owner = w.app.store.user_by_id(owner.id).await.unwrap().unwrap();
    let (change, _) =
        w.accounts().switch_to_federated(&by(), &owner, &id("ad", "b1"), "Active Directory").await.unwrap();
    assert!(matches!(change, MethodChange::OwnerMayNotUseDirectory), "{change:?}");
    assert_eq!(w.app.store.federated_identity(owner.id).await.unwrap(), Some(id("google", "o1")));
    assert!(events(&w).await.iter().any(|e| e.starts_with("login_method_refused:ad:owner_directory:")));
}
