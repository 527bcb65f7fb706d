//! Invitations, registration, roles and email-change links against a real
//! SQLite store: what each changes, what it mails, and its one audit event.

use std::time::Duration;

use policy::{HostKind, Role};

use super::{Actor, EmailLink, Invited, Mailed, NewPassword, Registration};
use crate::auth::testing::{World, world};
use crate::store::{InvitationMail, LinkPurpose, NewUser, now};
use crate::tokens;
use crate::ui::lang::Lang;

const ADMIN: &str = "owner@acme.example";
const FRESH: &str = "newbie@fresh.example";

fn admin() -> Actor<'static> {
    Actor { name: Some(ADMIN), client_ip: Some("198.51.100.7"), host: Some(HostKind::Ordinary), lang: Lang::En }
}

async fn events(w: &World, event: &str) -> Vec<(Option<String>, Option<String>)> {
    let rows = w.app.store.audit_entries(w.tenant, 0, 1000).await.unwrap();
    rows.into_iter().filter(|e| e.event == event).map(|e| (e.actor, e.subject)).collect()
}

/// Waits for the background queue to record the outcome of the invitation's mail.
async fn mail_outcome(w: &World, tenant: i64, email: &str) -> InvitationMail {
    for _ in 0..500 {
        match w.app.store.invitation(tenant, email).await.unwrap() {
            Some(i) if i.mail != InvitationMail::Queued => return i.mail,
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    panic!("the invitation mail to {email} was never sent nor failed");
}

/// The ticket of the newest invitation link mailed to `to`.
fn mailed_tickets(w: &World, to: &str) -> Vec<String> {
    w.mails()
        .into_iter()
        .filter(|(t, _)| t == to)
        .filter_map(|(_, body)| {
            let at = body.find("/auth/invite?ticket=")? + "/auth/invite?ticket=".len();
            Some(body[at..].split_whitespace().next()?.to_owned())
        })
        .collect()
}

fn hash(ticket: &str) -> String {
    tokens::hash_token(ticket).unwrap()
}

/// Makes every mail fail: the file transport's folder becomes a file.
fn break_mail(w: &World) {
    let dir = w.dir.path().join("mail");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, "not a folder").unwrap();
}

#[tokio::test]
async fn an_invitation_creates_the_invitee_mails_a_link_and_is_audited_once() {
    let w = world().await;
    let invited = w.accounts().invite(&admin(), w.tenant, " NewBie@Fresh.example ", Role::Admin).await.unwrap();
    assert_eq!(invited, Invited::Queued);
    assert_eq!(mail_outcome(&w, w.tenant, FRESH).await, InvitationMail::Sent);
    let user = w.app.store.user_by_email(FRESH).await.unwrap().expect("the invitee exists");
    assert_eq!((user.role, user.password_hash.is_none()), (Role::Admin, true));
    let tickets = mailed_tickets(&w, FRESH);
    assert_eq!(tickets.len(), 1);
    assert_eq!(w.accounts().invitee(&hash(&tickets[0])).await.unwrap().map(|u| u.id), Some(user.id));
    assert_eq!(events(&w, "invitation_sent").await, [(Some(ADMIN.into()), Some(FRESH.into()))]);
    assert!(events(&w, "invitation_mail_failed").await.is_empty());
}

#[tokio::test]
async fn an_address_mail_cannot_reach_is_refused_before_anything_happens() {
    let w = world().await;
    for bad in ["x@example.com|env", "x;id@example.com", "x@localhost", "not an address"] {
        assert_eq!(w.accounts().invite(&admin(), w.tenant, bad, Role::User).await.unwrap(), Invited::BadAddress);
    }
    assert!(w.app.store.tenant_invitations(w.tenant).await.unwrap().is_empty());
    assert!(events(&w, "invitation_sent").await.is_empty());
    // The tenant's own members are told apart (they are on the page anyway).
    let member = w.accounts().invite(&admin(), w.tenant, ADMIN, Role::User).await.unwrap();
    assert_eq!(member, Invited::Member);
    assert!(w.accounts().invite(&admin(), w.tenant, FRESH, Role::Owner).await.is_err(), "nobody is invited as owner");
}

#[tokio::test]
async fn a_mail_that_cannot_be_sent_is_recorded_as_failed_and_audited() {
    let w = world().await;
    break_mail(&w);
    assert_eq!(w.accounts().invite(&admin(), w.tenant, FRESH, Role::User).await.unwrap(), Invited::Queued);
    assert_eq!(mail_outcome(&w, w.tenant, FRESH).await, InvitationMail::Failed);
    assert_eq!(events(&w, "invitation_mail_failed").await, [(Some(ADMIN.into()), Some(FRESH.into()))]);
    // Sending again once mail works records the new send's outcome.
    std::fs::remove_file(w.dir.path().join("mail")).unwrap();
    let again = w.accounts().resend_invitation(&admin(), w.tenant, FRESH, None).await.unwrap();
    assert_eq!(again, Invited::Queued);
    assert_eq!(mail_outcome(&w, w.tenant, FRESH).await, InvitationMail::Sent);
    assert_eq!(mailed_tickets(&w, FRESH).len(), 1);
}

#[tokio::test]
async fn a_late_outcome_of_an_older_send_changes_nothing() {
    let w = world().await;
    let store = &w.app.store;
    let first = store.record_invitation(w.tenant, FRESH, Role::User, now() + 60).await.unwrap();
    let second = store.record_invitation(w.tenant, FRESH, Role::User, now() + 60).await.unwrap();
    assert!(second > first);
    assert!(!store.invitation_mailed(w.tenant, FRESH, first, InvitationMail::Failed).await.unwrap());
    assert_eq!(store.invitation(w.tenant, FRESH).await.unwrap().unwrap().mail, InvitationMail::Queued);
    assert!(store.invitation_mailed(w.tenant, FRESH, second, InvitationMail::Sent).await.unwrap());
}

#[tokio::test]
async fn an_expired_invitation_is_sent_again_with_a_new_link() {
    let w = world().await;
    w.accounts().invite(&admin(), w.tenant, FRESH, Role::User).await.unwrap();
    mail_outcome(&w, w.tenant, FRESH).await;
    let old = mailed_tickets(&w, FRESH).remove(0);
    // Expired: the row says so (the link's own expiry is the store's business).
    w.app.store.record_invitation(w.tenant, FRESH, Role::User, now() - 1).await.unwrap();
    w.app.store.invitation_mailed(w.tenant, FRESH, 2, InvitationMail::Sent).await.unwrap();
    assert!(w.app.store.invitation(w.tenant, FRESH).await.unwrap().unwrap().expired(now()));
    let again = w.accounts().resend_invitation(&admin(), w.tenant, FRESH, Some(Role::Admin)).await.unwrap();
    assert_eq!(again, Invited::Queued);
    assert_eq!(mail_outcome(&w, w.tenant, FRESH).await, InvitationMail::Sent);
    let row = w.app.store.invitation(w.tenant, FRESH).await.unwrap().unwrap();
    assert!(!row.expired(now()) && row.role == Role::Admin);
    let tickets = mailed_tickets(&w, FRESH);
    assert_eq!(tickets.len(), 2);
    let new = tickets.into_iter().find(|t| *t != old).unwrap();
    assert!(w.accounts().invitee(&hash(&old)).await.unwrap().is_none(), "the older link died");
    assert!(w.accounts().invitee(&hash(&new)).await.unwrap().is_some());
    assert_eq!(w.app.store.user_by_email(FRESH).await.unwrap().unwrap().role, Role::Admin);
    assert_eq!(events(&w, "invitation_sent").await.len(), 2, "the first and the second send");
    // Nothing to send again for an address this tenant never invited.
    let none = w.accounts().resend_invitation(&admin(), w.tenant, "other@fresh.example", None).await.unwrap();
    assert_eq!(none, Invited::NoInvitation);
}

#[tokio::test]
async fn a_withdrawn_invitation_kills_its_link_and_frees_the_address() {
    let w = world().await;
    w.accounts().invite(&admin(), w.tenant, FRESH, Role::User).await.unwrap();
    mail_outcome(&w, w.tenant, FRESH).await;
    let ticket = mailed_tickets(&w, FRESH).remove(0);
    assert!(w.accounts().withdraw_invitation(&admin(), w.tenant, "NEWBIE@fresh.example").await.unwrap());
    assert!(w.accounts().invitee(&hash(&ticket)).await.unwrap().is_none(), "the link died at once");
    let staged = w.accounts().stage_invitation_password(&hash(&ticket), "$argon2id$x").await.unwrap();
    assert!(!staged, "nothing can be staged on it");
    let done = w.accounts().complete_invitation(&admin(), &hash(&ticket), NewPassword::Hashed("$argon2id$x")).await;
    assert!(matches!(done.unwrap(), Registration::DeadLink));
    assert_eq!(events(&w, "invitation_withdrawn").await, [(Some(ADMIN.into()), Some(FRESH.into()))]);
    // The queue removes the password-less invitee, so another tenant may invite them.
    for _ in 0..500 {
        if w.app.store.user_by_email(FRESH).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(w.app.store.user_by_email(FRESH).await.unwrap().is_none());
    assert!(!w.accounts().withdraw_invitation(&admin(), w.tenant, FRESH).await.unwrap(), "only once");
    assert_eq!(events(&w, "invitation_withdrawn").await.len(), 1);
}

#[tokio::test]
async fn one_tenant_cannot_resend_or_withdraw_anothers_invitation() {
    let w = world().await;
    let beta = w.app.store.create_tenant("beta", crate::store::Plan::Basic).await.unwrap();
    w.accounts().invite(&admin(), w.tenant, FRESH, Role::User).await.unwrap();
    mail_outcome(&w, w.tenant, FRESH).await;
    let theirs = Actor { name: Some("boss@beta.example"), ..admin() };
    assert!(!w.accounts().withdraw_invitation(&theirs, beta, FRESH).await.unwrap());
    assert_eq!(w.accounts().resend_invitation(&theirs, beta, FRESH, None).await.unwrap(), Invited::NoInvitation);
    assert!(w.app.store.invitation(w.tenant, FRESH).await.unwrap().is_some(), "acme's invitation stands");
    assert_eq!(mailed_tickets(&w, FRESH).len(), 1, "nothing was sent for beta");
}

/// An invitee with a live link and invitation row, made directly.
async fn invitee_with_link(w: &World, email: &str) -> String {
    let store = &w.app.store;
    let id =
        store.create_user(NewUser { tenant_id: w.tenant, email, role: Role::User, password_hash: None }).await.unwrap();
    store.record_invitation(w.tenant, email, Role::User, now() + 600).await.unwrap();
    super::mailed_link::new_link(store, Duration::from_secs(600), id, LinkPurpose::Invite, None).await.unwrap()
}

#[tokio::test]
async fn registration_takes_the_confirmed_password_and_ends_the_invitation() {
    let w = world().await;
    let ticket = invitee_with_link(&w, FRESH).await;
    let h = hash(&ticket);
    let invitee = Actor { name: None, ..admin() };
    // A confirmation with nothing chosen before it keeps the link.
    let chosen = super::staged_digest("$argon2id$chosen");
    let staged = NewPassword::Staged { digest: &chosen };
    let early = w.accounts().complete_invitation(&invitee, &h, staged).await.unwrap();
    assert!(matches!(early, Registration::NothingStaged));
    assert!(w.accounts().stage_invitation_password(&h, "$argon2id$chosen").await.unwrap());
    assert!(w.app.store.user_by_email(FRESH).await.unwrap().unwrap().password_hash.is_none(), "not before confirming");
    // Someone else holding the link stages another password: the first
    // browser's confirmation registers neither, and theirs is not the one shown.
    assert!(w.accounts().stage_invitation_password(&h, "$argon2id$theirs").await.unwrap());
    let crossed = w.accounts().complete_invitation(&invitee, &h, staged).await.unwrap();
    assert!(matches!(crossed, Registration::NothingStaged), "another password was staged since");
    assert!(w.accounts().stage_invitation_password(&h, "$argon2id$chosen").await.unwrap());
    let Registration::Done(user) = w.accounts().complete_invitation(&invitee, &h, staged).await.unwrap() else {
        panic!("registered")
    };
    assert_eq!(user.password_hash.as_deref(), Some("$argon2id$chosen"));
    assert!(w.app.store.invitation(w.tenant, FRESH).await.unwrap().is_none(), "a user now, no longer invited");
    assert_eq!(events(&w, "invitation_accepted").await, [(Some(FRESH.into()), Some(FRESH.into()))]);
    let again = w.accounts().complete_invitation(&invitee, &h, staged).await.unwrap();
    assert!(matches!(again, Registration::DeadLink), "single use");
    // In one post, as SPEC section 8's interface does it.
    let other = "other@fresh.example";
    let h = hash(&invitee_with_link(&w, other).await);
    let done = w.accounts().complete_invitation(&invitee, &h, NewPassword::Hashed("$argon2id$one")).await.unwrap();
    assert!(matches!(done, Registration::Done(u) if u.email == other));
}

#[tokio::test]
async fn a_role_change_signs_the_user_out_with_one_audit_event() {
    let w = world().await;
    let user = w.app.store.user_by_email("user@acme.example").await.unwrap().unwrap();
    assert!(w.accounts().change_role(&admin(), &user, Role::Admin).await.unwrap());
    assert_eq!(w.app.store.user_by_id(user.id).await.unwrap().unwrap().role, Role::Admin);
    assert_eq!(w.app.store.delete_user_sessions(user.id).await.unwrap(), 0, "the session ended");
    assert_eq!(events(&w, "admin_role:admin").await.len(), 1);
    assert!(
        w.app.store.audit_entries(w.tenant, 0, 100).await.unwrap().iter().all(|e| !e.event.starts_with("sessions"))
    );
    let owner = w.app.store.user_by_email(ADMIN).await.unwrap().unwrap();
    assert!(!w.accounts().change_role(&admin(), &owner, Role::User).await.unwrap(), "the owner's role never moves");
}

#[tokio::test]
async fn an_email_change_link_goes_to_the_new_address() {
    let w = world().await;
    let user = w.app.store.user_by_email("user@acme.example").await.unwrap().unwrap();
    let sent = w.accounts().send_email_change_link(&admin(), &user, "New@Acme.example").await.unwrap();
    assert_eq!(sent, EmailLink::Sent(Mailed::Sent));
    assert!(
        w.mails().iter().any(|(to, body)| to == "new@acme.example" && body.contains("/auth/email/confirm?ticket="))
    );
    assert_eq!(events(&w, "admin_email_change_link").await.len(), 1);
    let bad = w.accounts().send_email_change_link(&admin(), &user, "new@acme.example|env").await.unwrap();
    assert_eq!(bad, EmailLink::BadAddress);
    let same = w.accounts().send_email_change_link(&admin(), &user, "USER@acme.example").await.unwrap();
    assert_eq!(same, EmailLink::Unchanged);
    break_mail(&w);
    let failed = w.accounts().send_email_change_link(&admin(), &user, "new@acme.example").await.unwrap();
    assert_eq!(failed, EmailLink::Sent(Mailed::Failed));
    assert_eq!(events(&w, "admin_email_change_link").await.len(), 2);
}

#[tokio::test]
async fn a_user_added_at_the_command_line_is_registered_and_audited() {
    let w = world().await;
    let cli = Actor::cli(Lang::Ja);
    let id = w.accounts().add_user(&cli, w.tenant, "Cli@Acme.example", Role::Admin, "$argon2id$x").await.unwrap();
    let u = w.app.store.user_by_id(id).await.unwrap().unwrap();
    assert_eq!((u.email.as_str(), u.role), ("cli@acme.example", Role::Admin));
    assert_eq!(events(&w, "user_created").await, [(Some("cli".into()), Some("cli@acme.example".into()))]);
    let bad = w.accounts().add_user(&cli, w.tenant, "x@example.com|env", Role::User, "h").await;
    assert!(bad.is_err());
}

/// Sending again with another role takes effect for whichever link is used:
/// registering with the old link, before the queue has changed anything,
/// gives the role of the invitation as it stands, never the one taken away.
#[tokio::test]
async fn a_resend_with_another_role_binds_even_the_old_link() {
    let w = world().await;
    let ticket = invitee_with_link(&w, FRESH).await;
    let store = &w.app.store;
    let id = store.user_by_email(FRESH).await.unwrap().unwrap().id;
    assert!(store.set_user_role(w.tenant, id, Role::Admin).await.unwrap());
    store.record_invitation(w.tenant, FRESH, Role::Admin, now() + 600).await.unwrap();
    // The console's resend as its request leaves it: the row says user now.
    store.record_invitation(w.tenant, FRESH, Role::User, now() + 600).await.unwrap();
    let invitee = Actor { name: None, ..admin() };
    let done = w.accounts().complete_invitation(&invitee, &hash(&ticket), NewPassword::Hashed("$argon2id$x")).await;
    let Registration::Done(user) = done.unwrap() else { panic!("registered") };
    assert_eq!(user.role, Role::User, "the demotion holds");
}
