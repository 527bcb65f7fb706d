//! The sign-in attempt, the password lock and the mailed links against a
//! real SQLite store: what they change, and the one audit event each writes.

use policy::HostKind;

use super::{Actor, PasswordCheck, Reset, SignIn};
use crate::auth::testing::{World, world};
use crate::store::{LinkPurpose, UserRow};
use crate::ui::lang::Lang;

const PASSWORD: &str = "Correct-Horse1";

fn visitor() -> Actor<'static> {
    Actor { name: None, client_ip: Some("198.51.100.7"), host: Some(HostKind::Ordinary), lang: Lang::En }
}

async fn user_with_password(w: &World) -> UserRow {
    let user = w.app.store.user_by_email("user@acme.example").await.unwrap().unwrap();
    let hash = w.app.hasher.hash(PASSWORD.to_owned()).await.unwrap();
    w.app.store.set_password_hash(user.id, &hash).await.unwrap();
    w.app.store.user_by_id(user.id).await.unwrap().unwrap()
}

async fn events(w: &World, event: &str) -> Vec<(Option<String>, Option<String>)> {
    let rows = w.app.store.audit_entries(w.tenant, 0, 1000).await.unwrap();
    rows.into_iter().filter(|e| e.event == event).map(|e| (e.actor, e.subject)).collect()
}

async fn sign_in(w: &World, email: &str, password: &str) -> SignIn {
    w.accounts().sign_in(&visitor(), &w.app.hasher, email, password, |_| true).await.unwrap()
}

fn mails(w: &World) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(w.dir.path().join("mail")) else { return Vec::new() };
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .map(|raw| {
            let (subject, body) = crate::mail::decode_message(&raw);
            format!("{subject}\n{body}")
        })
        .collect()
}

/// Mails go out on spawned tasks (a sign-in never waits for the relay).
async fn wait_for_mail(w: &World, needle: &str) -> String {
    for _ in 0..100 {
        if let Some(m) = mails(w).into_iter().find(|m| m.contains(needle)) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no mail with {needle}");
}

/// The ticket of the first link in a mail to `path?ticket=`.
fn ticket_in(mail: &str, path: &str) -> String {
    let at = mail.find(&format!("{path}?ticket=")).unwrap() + path.len() + "?ticket=".len();
    mail[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

#[tokio::test]
async fn unknown_wrong_and_right_passwords() {
    let w = world().await;
    let user = user_with_password(&w).await;
    assert!(matches!(sign_in(&w, "nobody@acme.example", PASSWORD).await, SignIn::Refused));
    assert!(matches!(sign_in(&w, "user@acme.example", "Wrong-pass1").await, SignIn::Refused));
    assert_eq!(w.app.store.user_by_id(user.id).await.unwrap().unwrap().failed_logins, 1);
    assert!(matches!(sign_in(&w, " User@ACME.example", PASSWORD).await, SignIn::Passed(u) if u.id == user.id));
    assert_eq!(w.app.store.user_by_id(user.id).await.unwrap().unwrap().failed_logins, 0, "a right one resets");
    // A tenant the gateway does not run refuses like a wrong password.
    let refused = w.accounts().sign_in(&visitor(), &w.app.hasher, "user@acme.example", PASSWORD, |_| false).await;
    assert!(matches!(refused.unwrap(), SignIn::Refused));
    // One event per refusal (the unknown address's is in no tenant's log).
    let failures = events(&w, "login_failure").await;
    assert_eq!(failures, vec![(None, Some(user.email.clone())); 2]);
}

#[tokio::test]
async fn the_tenth_wrong_password_locks_once_and_mails_the_unlock_link() {
    let w = world().await;
    let user = user_with_password(&w).await;
    for _ in 0..super::LOCK_AFTER {
        assert!(matches!(sign_in(&w, "user@acme.example", "Wrong-pass1").await, SignIn::Refused));
    }
    assert!(w.app.store.user_by_id(user.id).await.unwrap().unwrap().locked);
    assert_eq!(events(&w, "lock").await.len(), 1);
    assert!(events(&w, "sessions_revoked:1").await.is_empty(), "the lock is one event");
    // Locked: even the right password is refused, and counts nothing more.
    assert!(matches!(sign_in(&w, "user@acme.example", PASSWORD).await, SignIn::Refused));
    assert_eq!(events(&w, "lock").await.len(), 1);
    // The user's session ended with the lock.
    assert_eq!(w.app.store.delete_user_sessions(user.id).await.unwrap(), 0);

    let mail = wait_for_mail(&w, "/auth/unlock?ticket=").await;
    let ticket = ticket_in(&mail, "/auth/unlock");
    let unlocked = w.accounts().unlock_by_link(&visitor(), &ticket).await.unwrap();
    assert_eq!(unlocked.map(|u| u.id), Some(user.id));
    assert!(!w.app.store.user_by_id(user.id).await.unwrap().unwrap().locked);
    assert_eq!(events(&w, "unlock").await, vec![(Some(user.email.clone()), Some(user.email.clone()))]);
    assert!(w.accounts().unlock_by_link(&visitor(), &ticket).await.unwrap().is_none(), "a link works once");
    assert!(matches!(sign_in(&w, "user@acme.example", PASSWORD).await, SignIn::Passed(_)));
}

#[tokio::test]
async fn a_password_asked_again_counts_like_a_sign_in() {
    let w = world().await;
    let user = user_with_password(&w).await;
    let by = Actor { name: Some("user@acme.example"), ..visitor() };
    let check = |p: &'static str| {
        let w = &w;
        let user = user.clone();
        async move { w.accounts().check_password(&by, &w.app.hasher, &user, p).await.unwrap() }
    };
    assert_eq!(check("Wrong-pass1").await, PasswordCheck::Wrong);
    assert_eq!(w.app.store.user_by_id(user.id).await.unwrap().unwrap().failed_logins, 1);
    assert_eq!(check(PASSWORD).await, PasswordCheck::Right);
}

#[tokio::test]
async fn a_reset_link_sets_the_password_unlocks_forgets_two_step_and_ends_sessions() {
    let w = world().await;
    let user = user_with_password(&w).await;
    w.app.store.lock_user(user.id).await.unwrap();
    w.app.store.enrol_sms(user.id, "+819012345678").await.unwrap();
    let ticket = w.accounts().new_ticket(user.id, LinkPurpose::Reset, None, 600).await.unwrap();
    assert!(matches!(
        w.accounts().reset_password_by_link(&visitor(), &w.app.hasher, "made-up", "An0ther-Pass").await.unwrap(),
        Reset::DeadLink
    ));
    let done = w.accounts().reset_password_by_link(&visitor(), &w.app.hasher, &ticket, "An0ther-Pass").await.unwrap();
    assert!(matches!(done, Reset::Done(ref u) if u.id == user.id));
    let after = w.app.store.user_by_id(user.id).await.unwrap().unwrap();
    assert!(!after.locked);
    assert!(!w.app.store.enrolment(user.id).await.unwrap().any(), "2-step verification is set up again");
    assert_eq!(w.app.store.delete_user_sessions(user.id).await.unwrap(), 0, "every session ended");
    assert_eq!(events(&w, "password_reset").await.len(), 1);
    assert!(matches!(sign_in(&w, "user@acme.example", "An0ther-Pass").await, SignIn::Passed(_)));
    assert!(matches!(
        w.accounts().reset_password_by_link(&visitor(), &w.app.hasher, &ticket, "Third-Pass1").await.unwrap(),
        Reset::DeadLink
    ));
    wait_for_mail(&w, "2-step verification reset").await;
}
