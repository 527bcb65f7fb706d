//! Second-factor checks, completion and changing the phone or app against a
//! real SQLite store: every wrong code counts toward the lock, whatever page
//! it came from, and each operation writes its one audit event.

use policy::{Factor, HostKind};

use super::{Actor, Changed, Changing, Checked, Proof, Purpose, sms_hash};
use crate::auth::testing::{World, world};
use crate::second_factor as sf;
use crate::store::{UserRow, now};
use crate::ui::lang::Lang;

const PHONE: &str = "+819012345678";
const NEW_PHONE: &str = "+819087654321";

fn by() -> Actor<'static> {
    Actor {
        name: Some("user@acme.example"),
        client_ip: Some("198.51.100.7"),
        host: Some(HostKind::Ordinary),
        lang: Lang::En,
    }
}

async fn user(w: &World) -> UserRow {
    w.app.store.user_by_email("user@acme.example").await.unwrap().unwrap()
}

async fn count(w: &World, event: &str) -> usize {
    let rows = w.app.store.audit_entries(w.tenant, 0, 1000).await.unwrap();
    rows.iter().filter(|e| e.event == event).count()
}

/// Sets up the user's phone, app (returns its secret) and recovery code.
async fn enrolled(w: &World, u: &UserRow) -> (Vec<u8>, String) {
    w.app.store.enrol_sms(u.id, PHONE).await.unwrap();
    let secret = sf::new_secret();
    w.app.store.enrol_totp(u.id, &w.app.totp_key.encrypt(u.id, &secret), 0).await.unwrap();
    let code = w.accounts().new_recovery_code(u).await.unwrap();
    (secret, code)
}

/// A code sent to `phone`, as the SMS step stores it.
async fn sms_code_to(w: &World, u: &UserRow, phone: &str) -> String {
    let code = crate::sms::new_code();
    w.app.store.put_sms_code(u.id, phone, &sms_hash(u.id, &code), 300, 0).await.unwrap().unwrap();
    code
}

async fn check(w: &World, u: &UserRow, proof: Proof<'_>, purpose: Purpose) -> Checked {
    w.accounts().check_second_factor(&by(), &w.app.totp_key, u, proof, purpose).await.unwrap()
}

#[tokio::test]
async fn right_codes_pass_and_wrong_ones_of_every_kind_lock() {
    let w = world().await;
    let u = user(&w).await;
    let (secret, recovery) = enrolled(&w, &u).await;
    let code = sms_code_to(&w, &u, PHONE).await;
    assert_eq!(
        check(&w, &u, Proof::Sms(&code), Purpose::SignIn).await,
        Checked::Right { factor: Factor::Sms, enrolled: false }
    );
    let totp = sf::code_at(&secret, now());
    assert_eq!(
        check(&w, &u, Proof::Totp(&totp), Purpose::SignIn).await,
        Checked::Right { factor: Factor::Totp, enrolled: false }
    );
    assert_eq!(check(&w, &u, Proof::Totp(&totp), Purpose::SignIn).await, Checked::Wrong { locked: false }, "no replay");
    assert_eq!(count(&w, "second_factor_failure").await, 1);

    // Wrong codes of three kinds add up to one lock.
    let limit = w.app.cfg.login.second_factor_lock_after;
    let mut last = Checked::Dead;
    for n in 1..limit {
        sms_code_to(&w, &u, PHONE).await;
        last = match n % 3 {
            0 => check(&w, &u, Proof::Sms("000000"), Purpose::SignIn).await,
            1 => check(&w, &u, Proof::Totp("000000"), Purpose::SignIn).await,
            _ => check(&w, &u, Proof::Recovery("ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"), Purpose::SignIn).await,
        };
    }
    assert_eq!(last, Checked::Wrong { locked: true }, "after {limit} wrong codes");
    assert_eq!(count(&w, "second_factor_locked").await, 1);
    // Locked: even the recovery code is not looked at (and not used up).
    assert_eq!(check(&w, &u, Proof::Recovery(&recovery), Purpose::SignIn).await, Checked::Locked);
    w.accounts().unlock(&by(), &u).await.unwrap();
    assert_eq!(
        check(&w, &u, Proof::Recovery(&recovery), Purpose::SignIn).await,
        Checked::Right { factor: Factor::Recovery, enrolled: false }
    );
    assert_eq!(count(&w, "recovery_code_used").await, 1);
    assert_eq!(
        check(&w, &u, Proof::Recovery(&recovery), Purpose::SignIn).await,
        Checked::Wrong { locked: false },
        "once"
    );
}

#[tokio::test]
async fn a_first_code_sets_the_method_up_and_completion_remembers_the_browser() {
    let w = world().await;
    let u = user(&w).await;
    let secret = w.accounts().authenticator_to_set_up(&w.app.totp_key, u.id).await.unwrap();
    assert_eq!(w.accounts().authenticator_to_set_up(&w.app.totp_key, u.id).await.unwrap(), secret, "the one shown");
    // Only a sign-in sets a method up; a change needs one set up already.
    let code = sf::code_at(&secret, now());
    assert_eq!(check(&w, &u, Proof::Totp(&code), Purpose::Change).await, Checked::NotEnrolled);
    assert_eq!(
        check(&w, &u, Proof::Totp(&code), Purpose::SignIn).await,
        Checked::Right { factor: Factor::Totp, enrolled: true }
    );
    assert!(w.app.store.enrolment(u.id).await.unwrap().totp_secret.is_some());
    assert_eq!(count(&w, "second_factor_enrolled:totp").await, 1);

    let ticket = w.accounts().complete_second_factor(&by(), &u, Factor::Totp, Some(Some("Firefox"))).await.unwrap();
    let ticket = ticket.expect("a remembered browser");
    assert_eq!(count(&w, "second_factor_success:totp").await, 1);
    assert!(w.accounts().remembered_browser(u.id, &ticket).await.unwrap());
    assert!(!w.accounts().remembered_browser(u.id, "not-a-ticket").await.unwrap());
    let other = w.app.store.user_by_email("owner@acme.example").await.unwrap().unwrap();
    assert!(!w.accounts().remembered_browser(other.id, &ticket).await.unwrap(), "another user's browser");
}

#[tokio::test]
async fn changing_the_phone_needs_a_current_factor_then_the_new_numbers_code() {
    let w = world().await;
    let u = user(&w).await;
    let (secret, _) = enrolled(&w, &u).await;
    // Without a proof (a stolen session cookie has none) nothing changes.
    let code = sms_code_to(&w, &u, NEW_PHONE).await;
    assert_eq!(w.accounts().change_phone(&by(), &u, "made-up", &code).await.unwrap(), Changed::NoProof);
    assert_eq!(w.app.store.enrolment(u.id).await.unwrap().sms_phone.as_deref(), Some(PHONE));

    // A wrong current code is counted and gives no ticket.
    let refused =
        w.accounts().prove_for_change(&by(), &w.app.totp_key, &u, Changing::Phone, Proof::Totp("000000")).await;
    assert_eq!(refused.unwrap(), Err(Checked::Wrong { locked: false }));
    assert_eq!(count(&w, "second_factor_failure").await, 1);

    let totp = sf::code_at(&secret, now());
    let ticket = w
        .accounts()
        .prove_for_change(&by(), &w.app.totp_key, &u, Changing::Phone, Proof::Totp(&totp))
        .await
        .unwrap()
        .expect("a right code proves it");
    // The ticket is for this user and this change only.
    let owner = w.app.store.user_by_email("owner@acme.example").await.unwrap().unwrap();
    assert!(w.accounts().change_proof(&owner, Changing::Phone, &ticket).await.unwrap().is_none());
    assert!(w.accounts().change_proof(&u, Changing::Authenticator, &ticket).await.unwrap().is_none());

    let code = sms_code_to(&w, &u, NEW_PHONE).await;
    assert_eq!(
        w.accounts().change_phone(&by(), &u, &ticket, "000000").await.unwrap(),
        Changed::Wrong { locked: false }
    );
    assert_eq!(count(&w, "second_factor_failure").await, 2, "a wrong code for the new number counts too");
    let done = w.accounts().change_phone(&by(), &u, &ticket, &code).await.unwrap();
    assert_eq!(done, Changed::Done(super::Proved { by: Factor::Totp }));
    assert_eq!(w.app.store.enrolment(u.id).await.unwrap().sms_phone.as_deref(), Some(NEW_PHONE));
    assert_eq!(count(&w, "second_factor_changed:sms").await, 1);
    let again = sms_code_to(&w, &u, "+819011112222").await;
    assert_eq!(w.accounts().change_phone(&by(), &u, &ticket, &again).await.unwrap(), Changed::NoProof, "once");
}

#[tokio::test]
async fn changing_the_app_with_the_recovery_code() {
    let w = world().await;
    let u = user(&w).await;
    let (old, recovery) = enrolled(&w, &u).await;
    let ticket = w
        .accounts()
        .prove_for_change(&by(), &w.app.totp_key, &u, Changing::Authenticator, Proof::Recovery(&recovery))
        .await
        .unwrap()
        .expect("the recovery code proves it");
    let new = w.accounts().authenticator_to_set_up(&w.app.totp_key, u.id).await.unwrap();
    assert_ne!(new, old);
    let code = sf::code_at(&new, now());
    let done = w.accounts().change_authenticator(&by(), &w.app.totp_key, &u, &ticket, &code).await.unwrap();
    assert_eq!(done, Changed::Done(super::Proved { by: Factor::Recovery }));
    assert_eq!(count(&w, "second_factor_changed:totp").await, 1);
    // The old app's codes no longer work; the new app's next one does.
    let old_code = sf::code_at(&old, now() + 30);
    assert_eq!(check(&w, &u, Proof::Totp(&old_code), Purpose::SignIn).await, Checked::Wrong { locked: false });
    let next = sf::code_at(&new, now() + 30);
    assert_eq!(
        check(&w, &u, Proof::Totp(&next), Purpose::SignIn).await,
        Checked::Right { factor: Factor::Totp, enrolled: false }
    );
}
