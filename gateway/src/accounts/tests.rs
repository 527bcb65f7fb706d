//! The operations against a real SQLite store: what they change, and that
//! each writes its one audit event with the actor given.

use policy::HostKind;

use super::{Actor, Mailed};
use crate::auth::testing::world;
use crate::ui::lang::Lang;

fn admin() -> Actor<'static> {
    Actor {
        name: Some("owner@acme.example"),
        client_ip: Some("198.51.100.7"),
        host: Some(HostKind::Ordinary),
        lang: Lang::En,
    }
}

async fn events(w: &crate::auth::testing::World) -> Vec<(Option<String>, Option<String>, String)> {
    let rows = w.app.store.audit_entries(w.tenant, 0, 1000).await.unwrap();
    rows.into_iter().map(|e| (e.actor, e.subject, e.event)).collect()
}

#[tokio::test]
async fn unlock_lifts_the_lock_and_is_audited_once() {
    let w = world().await;
    let user = w.app.store.user_by_email("user@acme.example").await.unwrap().unwrap();
    assert!(w.app.store.lock_user(user.id).await.unwrap());
    w.accounts().unlock(&admin(), &user).await.unwrap();
    assert!(!w.app.store.user_by_id(user.id).await.unwrap().unwrap().locked);
    let ev = events(&w).await;
    let unlocks: Vec<_> = ev.iter().filter(|e| e.2 == "unlock").collect();
    assert_eq!(unlocks.len(), 1, "{ev:?}");
    assert_eq!(unlocks[0].0.as_deref(), Some("owner@acme.example"));
    assert_eq!(unlocks[0].1.as_deref(), Some("user@acme.example"));
}

#[tokio::test]
async fn reset_second_factor_ends_sessions_mails_and_is_audited_once() {
    let w = world().await;
    let user = w.app.store.user_by_email("user@acme.example").await.unwrap().unwrap();
    let (ended, mailed) = w.accounts().reset_second_factor(&admin(), &user).await.unwrap();
    assert_eq!(ended, 1, "the user's one session ends");
    assert_eq!(mailed, Mailed::Sent);
    let ev = events(&w).await;
    assert_eq!(ev.iter().filter(|e| e.2 == "second_factor_reset").count(), 1, "{ev:?}");
    assert!(!ev.iter().any(|e| e.2.starts_with("sessions_revoked")), "one event for one action: {ev:?}");
    let mails = std::fs::read_dir(w.dir.path().join("mail")).unwrap().count();
    assert!(mails >= 1, "the notice was written by the file transport");
    // The command line's actor is recorded as such.
    w.accounts().reset_second_factor(&Actor::cli(Lang::Ja), &user).await.unwrap();
    assert!(events(&w).await.iter().any(|e| e.0.as_deref() == Some("cli") && e.2 == "second_factor_reset"));
}
