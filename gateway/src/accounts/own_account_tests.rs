//! Password and email change against a real SQLite store: what they change,
//! the one audit event each writes, and that an email change resets 2-step
//! verification as the manual says.

use policy::{HostKind, Role};

use super::{Actor, EmailConfirm, EmailRequest, Mailed};
use crate::auth::testing::{World, world};
use crate::store::{NewUser, UserRow};
use crate::ui::lang::Lang;

const OWNER: &str = "owner@acme.example";

fn owner_acting() -> Actor<'static> {
    Actor { name: Some(OWNER), client_ip: Some("198.51.100.7"), host: Some(HostKind::Ordinary), lang: Lang::En }
}

/// Someone holding a mailed link: no name of their own.
fn link_holder() -> Actor<'static> {
    Actor { name: None, client_ip: Some("192.0.2.9"), host: Some(HostKind::Ordinary), lang: Lang::En }
}

async fn owner(w: &World) -> UserRow {
    w.app.store.user_by_email(OWNER).await.unwrap().unwrap()
}

async fn events(w: &World) -> Vec<(Option<String>, Option<String>, String)> {
    let rows = w.app.store.audit_entries(w.tenant, 0, 1000).await.unwrap();
    rows.into_iter().map(|e| (e.actor, e.subject, e.event)).collect()
}

fn count(ev: &[(Option<String>, Option<String>, String)], event: &str) -> usize {
    ev.iter().filter(|e| e.2 == event).count()
}

/// The ticket in the last confirmation mail to `to`.
fn ticket(w: &World, to: &str) -> String {
    let mails = w.mails_to(to);
    let body = &mails.last().expect("a confirmation mail").1;
    let rest = body.split("/auth/email/confirm?ticket=").nth(1).expect("a confirmation link");
    rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

#[tokio::test]
async fn a_password_change_ends_every_session_and_is_audited_once() {
    let w = world().await;
    let user = owner(&w).await;
    let hash = crate::password::hash_blocking("New-Pass-1").unwrap();
    let mailed = w.accounts().change_password(&owner_acting(), &user, &hash).await.unwrap();
    assert_eq!(mailed, Mailed::Sent);
    let stored = w.app.store.user_by_id(user.id).await.unwrap().unwrap().password_hash;
    assert_eq!(stored.as_deref(), Some(hash.as_str()));
    assert_eq!(w.app.store.delete_user_sessions(user.id).await.unwrap(), 0, "no session outlives the old password");
    let ev = events(&w).await;
    assert_eq!(count(&ev, "password_changed"), 1, "{ev:?}");
    assert!(!ev.iter().any(|e| e.2.starts_with("sessions_revoked")), "one event for one action: {ev:?}");
    assert!(w.mails_to(OWNER).iter().any(|(s, _)| s.contains("password")), "{:?}", w.mails_to(OWNER));
}

#[tokio::test]
async fn an_email_change_request_checks_the_address_and_mails_the_new_one() {
    let w = world().await;
    let user = owner(&w).await;
    let accounts = w.accounts();
    for bad in ["", "no-at-sign", "a@b", "two words@x.example"] {
        assert_eq!(
            accounts.request_email_change(&owner_acting(), &user, bad).await.unwrap(),
            EmailRequest::NotAnAddress
        );
    }
    let same = accounts.request_email_change(&owner_acting(), &user, " Owner@ACME.example ").await.unwrap();
    assert_eq!(same, EmailRequest::Unchanged);
    assert!(events(&w).await.is_empty(), "refused requests change nothing");

    let sent = accounts.request_email_change(&owner_acting(), &user, "Chief@Acme.example").await.unwrap();
    assert_eq!(sent, EmailRequest::Sent { new_email: "chief@acme.example".into(), mailed: Mailed::Sent });
    let mails = w.mails_to("chief@acme.example");
    assert_eq!(mails.len(), 1);
    let link_base = format!("{}/auth/email/confirm?ticket=", w.app.cfg.public_url(false));
    assert!(mails[0].1.contains(&link_base), "the link comes from public_urls:\n{}", mails[0].1);
    let ev = events(&w).await;
    assert_eq!(ev, vec![(Some(OWNER.into()), Some(OWNER.into()), "email_change_requested".into())]);
    // Nothing changes before the link is used; the link shows the new address.
    assert_eq!(owner(&w).await.email, OWNER);
    let t = ticket(&w, "chief@acme.example");
    assert_eq!(accounts.pending_email_change(&t).await.unwrap().as_deref(), Some("chief@acme.example"));
    assert_eq!(accounts.pending_email_change("made-up").await.unwrap(), None);
    assert_eq!(accounts.pending_email_change(&crate::tokens::random_token()).await.unwrap(), None);
}

#[tokio::test]
async fn an_email_change_resets_two_step_verification_and_every_session() {
    let w = world().await;
    let user = owner(&w).await;
    let store = &w.app.store;
    // Enrolled in everything 2-step verification keeps.
    store.enrol_sms(user.id, "+819012345678").await.unwrap();
    store.enrol_totp(user.id, "encrypted-secret", 1).await.unwrap();
    store.set_recovery_code(user.id, "recovery-hash").await.unwrap();
    store.remember_device("device-hash", user.id, Some("browser")).await.unwrap();
    assert!(store.enrolment(user.id).await.unwrap().any());
    assert_eq!(store.devices(user.id).await.unwrap().len(), 1);

    // A reset link mailed to the old address before the change.
    let reset = super::mailed_link::new_link(
        store,
        std::time::Duration::from_secs(600),
        user.id,
        crate::store::LinkPurpose::Reset,
        None,
    )
    .await
    .unwrap();
    let reset_hash = crate::tokens::hash_token(&reset).unwrap();

    let accounts = w.accounts();
    accounts.request_email_change(&owner_acting(), &user, "chief@acme.example").await.unwrap();
    let t = ticket(&w, "chief@acme.example");
    let hash = crate::password::hash_blocking("Chief-Pass9").unwrap();
    let done = accounts.confirm_email_change(&link_holder(), &t, Some(&hash)).await.unwrap();
    assert_eq!(
        store.peek_link(&reset_hash, crate::store::LinkPurpose::Reset).await.unwrap(),
        None,
        "a reset link in the old mailbox dies with the old address"
    );
    assert_eq!(done, EmailConfirm::Changed { old_email: OWNER.into(), new_email: "chief@acme.example".into() });

    let after = store.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(after.email, "chief@acme.example");
    assert_eq!(after.password_hash.as_deref(), Some(hash.as_str()));
    let enrolment = store.enrolment(user.id).await.unwrap();
    assert!(!enrolment.any(), "phone and authenticator are forgotten: {enrolment:?}");
    assert!(store.devices(user.id).await.unwrap().is_empty(), "remembered browsers are forgotten");
    assert!(!store.consume_recovery_code(user.id, "recovery-hash").await.unwrap(), "the recovery code is gone");
    assert_eq!(store.delete_user_sessions(user.id).await.unwrap(), 0, "every session ended");

    let ev = events(&w).await;
    let changed: Vec<_> = ev.iter().filter(|e| e.2 == "email_changed").collect();
    assert_eq!(changed.len(), 1, "{ev:?}");
    assert_eq!(changed[0].0.as_deref(), Some("chief@acme.example"), "the link holder acts as the new address");
    assert_eq!(changed[0].1.as_deref(), Some(OWNER));
    assert!(!ev.iter().any(|e| e.2.starts_with("sessions_revoked") || e.2 == "second_factor_reset"), "{ev:?}");
    // The old address is told; the new one hears that 2-step verification was reset.
    assert!(w.mails_to(OWNER).iter().any(|(_, b)| b.contains("chief@acme.example")));
    assert!(w.mails_to("chief@acme.example").len() >= 2, "{:?}", w.mails_to("chief@acme.example"));
    // The link works once.
    assert_eq!(accounts.confirm_email_change(&link_holder(), &t, Some(&hash)).await.unwrap(), EmailConfirm::DeadLink);
    assert_eq!(accounts.pending_email_change(&t).await.unwrap(), None);
}

#[tokio::test]
async fn an_address_taken_meanwhile_is_not_moved() {
    let w = world().await;
    let user = owner(&w).await;
    let accounts = w.accounts();
    accounts.request_email_change(&owner_acting(), &user, "taken@acme.example").await.unwrap();
    let t = ticket(&w, "taken@acme.example");
    let other = w.app.store.create_tenant("beta", crate::store::Plan::Basic).await.unwrap();
    let nu = NewUser { tenant_id: other, email: "taken@acme.example", role: Role::User, password_hash: None };
    w.app.store.create_user(nu).await.unwrap();
    let hash = crate::password::hash_blocking("Chief-Pass9").unwrap();
    assert_eq!(accounts.confirm_email_change(&link_holder(), &t, Some(&hash)).await.unwrap(), EmailConfirm::Taken);
    let after = owner(&w).await;
    assert_eq!(after.email, OWNER);
    assert_eq!(after.password_hash, None, "nothing of the change happened");
}

#[tokio::test]
async fn an_admin_sending_the_link_is_recorded_as_such() {
    let w = world().await;
    let user = w.app.store.user_by_email("user@acme.example").await.unwrap().unwrap();
    w.accounts().request_email_change(&owner_acting(), &user, "new@acme.example").await.unwrap();
    let ev = events(&w).await;
    assert_eq!(ev, vec![(Some(OWNER.into()), Some("user@acme.example".into()), "admin_email_change_link".into())]);
}
