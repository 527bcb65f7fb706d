//! The console's pages and forms through `web::handle`, without a proxy.

use std::time::Duration;

use policy::Role;

use crate::auth::testing::{World, call, location, post, request, world};
use crate::store::{InvitationMail, Plan, now};
use crate::web::Method;

const FRESH: &str = "newbie@fresh.example";

async fn users_page(w: &World, session: &str, query: &str) -> String {
    let r = call(w, request(Method::Get, &format!("/auth/admin/users{query}"), Some(session), None)).await;
    assert_eq!(r.status, 200);
    r.body_text().into_owned()
}

async fn settled(w: &World, email: &str) -> InvitationMail {
    for _ in 0..500 {
        match w.app.store.invitation(w.tenant, email).await.unwrap() {
            Some(i) if i.mail != InvitationMail::Queued => return i.mail,
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    panic!("the invitation mail was never settled");
}

/// The `<details>` block of the users page about `who`.
fn block<'p>(page: &'p str, who: &str) -> &'p str {
    page.split("<details")
        .skip(1)
        .map(|b| b.split("</details>").next().unwrap_or(""))
        .find(|b| b.contains(who))
        .unwrap_or("")
}

#[tokio::test]
async fn an_address_mail_cannot_reach_is_refused_at_the_form() {
    let w = world().await;
    let r =
        call(&w, post("/auth/admin/users", Some(&w.owner), &[("email", "x@example.com|env"), ("role", "user")])).await;
    assert_eq!(r.status, 400);
    let body = r.body_text();
    assert!(body.contains("aria-describedby=\"email-hint email-error\""), "the error is tied to its input");
    assert!(body.contains("<p id=\"email-error\" class=\"field-error\" role=\"alert\">"), "{body}");
    assert!(w.app.store.tenant_invitations(w.tenant).await.unwrap().is_empty(), "nothing was recorded");
    let r = call(&w, post("/auth/admin/users", Some(&w.owner), &[("email", FRESH), ("role", "owner")])).await;
    assert_eq!(r.status, 400, "nobody is invited as owner");
    assert!(w.app.store.tenant_invitations(w.tenant).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_invitation_mail_shows_as_failed_with_a_button_to_send_it_again() {
    let w = world().await;
    let mail = w.dir.path().join("mail");
    std::fs::remove_dir_all(&mail).unwrap();
    std::fs::write(&mail, "not a folder").unwrap();
    let r = call(&w, post("/auth/admin/users", Some(&w.owner), &[("email", FRESH), ("role", "user")])).await;
    assert_eq!((r.status, location(&r)), (303, "/auth/admin/users?done=invited"));
    assert_eq!(settled(&w, FRESH).await, InvitationMail::Failed);
    let page = users_page(&w, &w.owner, "?done=invited").await;
    assert!(page.contains("The invitation is being sent."), "never 'was sent' before the transport answered");
    assert!(page.contains(&format!("<tr><td>{FRESH}</td><td>User</td><td>sending failed</td>")), "{page}");
    let controls = block(&page, FRESH);
    assert!(controls.contains("could not be sent"), "{controls}");
    assert!(controls.contains("action=\"/auth/admin/invitations/resend\""), "{controls}");
    assert!(controls.contains("action=\"/auth/admin/invitations/withdraw\""), "{controls}");
    let ja = users_page(&w, &w.owner, "?lang=ja").await;
    assert!(ja.contains("招待メールの送信失敗") && ja.contains("操作ログ"), "{ja}");
    // The failure is marked on the row, then audited: the entry may lag the mark a moment.
    let mut audited = false;
    for _ in 0..100 {
        let audit = call(&w, request(Method::Get, "/auth/admin/audit?event=invitation", Some(&w.owner), None)).await;
        if audit.body_text().contains("<td>invitation_mail_failed</td>") {
            audited = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(audited, "the failed mail is audited");

    // Mail works again: the button sends it, and the row says invited.
    std::fs::remove_file(&mail).unwrap();
    let r =
        call(&w, post("/auth/admin/invitations/resend", Some(&w.owner), &[("email", FRESH), ("role", "user")])).await;
    assert_eq!((r.status, location(&r)), (303, "/auth/admin/users?done=invited"));
    assert_eq!(settled(&w, FRESH).await, InvitationMail::Sent);
    let page = users_page(&w, &w.owner, "").await;
    assert!(page.contains(&format!("<tr><td>{FRESH}</td><td>User</td><td>invited</td>")), "{page}");
    assert!(w.mails().iter().any(|(to, body)| to == FRESH && body.contains("/auth/invite?ticket=")));
}

#[tokio::test]
async fn an_expired_invitation_is_offered_again_and_sent() {
    let w = world().await;
    w.app.store.record_invitation(w.tenant, FRESH, Role::Admin, now() - 1).await.unwrap();
    w.app.store.invitation_mailed(w.tenant, FRESH, 1, InvitationMail::Sent).await.unwrap();
    let page = users_page(&w, &w.owner, "").await;
    assert!(page.contains(&format!("<tr><td>{FRESH}</td><td>Administrator</td><td>invitation expired</td>")));
    let controls = block(&page, FRESH);
    assert!(controls.contains("has expired") && controls.contains("<option value=\"admin\" selected>"), "{controls}");
    // Sent again without naming a role: the invitation's own.
    let r = call(&w, post("/auth/admin/invitations/resend", Some(&w.owner), &[("email", FRESH)])).await;
    assert_eq!(r.status, 303);
    settled(&w, FRESH).await;
    let row = w.app.store.invitation(w.tenant, FRESH).await.unwrap().unwrap();
    assert!(!row.expired(now()) && row.role == Role::Admin);
    assert!(w.mails().iter().any(|(to, body)| to == FRESH && body.contains("/auth/invite?ticket=")));
}

#[tokio::test]
async fn a_withdrawn_invitation_leaves_the_list_and_its_link_dies() {
    let w = world().await;
    call(&w, post("/auth/admin/users", Some(&w.owner), &[("email", FRESH), ("role", "user")])).await;
    settled(&w, FRESH).await;
    let (_, body) = w.mails().into_iter().find(|(to, _)| to == FRESH).unwrap();
    let at = body.find("/auth/invite?ticket=").unwrap();
    let link = body[at..].split_whitespace().next().unwrap().to_owned();
    assert_eq!(call(&w, request(Method::Get, &link, None, None)).await.status, 200, "live before");
    let r = call(&w, post("/auth/admin/invitations/withdraw", Some(&w.owner), &[("email", FRESH)])).await;
    assert_eq!((r.status, location(&r)), (303, "/auth/admin/users?done=withdrawn"));
    assert_eq!(call(&w, request(Method::Get, &link, None, None)).await.status, 410, "the link died");
    let page = users_page(&w, &w.owner, "?done=withdrawn").await;
    assert!(page.contains("The invitation was withdrawn.") && !page.contains(FRESH), "{page}");
    // Actions on the address now find nobody, as for any stranger.
    let r = call(&w, post("/auth/admin/users/action", Some(&w.owner), &[("user", FRESH), ("action", "revoke")])).await;
    assert_eq!(r.status, 404);
    let again = call(&w, post("/auth/admin/invitations/withdraw", Some(&w.owner), &[("email", FRESH)])).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn another_tenants_admin_gets_the_answer_for_an_address_invited_nowhere() {
    let w = world().await;
    call(&w, post("/auth/admin/users", Some(&w.owner), &[("email", FRESH), ("role", "user")])).await;
    settled(&w, FRESH).await;
    let beta = w.app.store.create_tenant("beta", Plan::Basic).await.unwrap();
    let them = w.signed_in(beta, "boss@beta.example", Role::Owner).await;
    for path in ["/auth/admin/invitations/resend", "/auth/admin/invitations/withdraw"] {
        let acmes = call(&w, post(path, Some(&them), &[("email", FRESH)])).await;
        let nowhere = call(&w, post(path, Some(&them), &[("email", "nobody@nowhere.example")])).await;
        assert_eq!((acmes.status, nowhere.status), (404, 404), "{path}");
        assert_eq!(acmes.body_text(), nowhere.body_text(), "{path}");
    }
    let row = w.app.store.invitation(w.tenant, FRESH).await.unwrap().expect("acme's invitation stands");
    assert_eq!(row.attempt, 1, "not sent again");
    assert_eq!(w.mails().iter().filter(|(to, _)| to == FRESH).count(), 1);
    // A plain user of acme is refused both forms by the gate itself.
    for path in ["/auth/admin/invitations/resend", "/auth/admin/invitations/withdraw"] {
        assert_eq!(call(&w, post(path, Some(&w.user), &[("email", FRESH)])).await.status, 403, "{path}");
    }
    assert!(w.app.store.invitation(w.tenant, FRESH).await.unwrap().is_some());
}

#[tokio::test]
async fn a_role_change_from_the_console_goes_through_the_accounts_layer() {
    let w = world().await;
    w.signed_in(w.tenant, "ann@acme.example", Role::User).await;
    let r =
        call(&w, post("/auth/admin/users/action", Some(&w.owner), &[("user", "ann@acme.example"), ("action", "role")]))
            .await;
    assert_eq!(r.status, 400, "no role chosen");
    assert!(r.body_text().contains("aria-describedby=\"role-"), "the error is next to the select");
    let fields = [("user", "ann@acme.example"), ("action", "role"), ("role", "admin")];
    let r = call(&w, post("/auth/admin/users/action", Some(&w.owner), &fields)).await;
    assert_eq!((r.status, location(&r)), (303, "/auth/admin/users?done=role"));
    let events = w.app.store.audit_entries(w.tenant, 0, 100).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.event == "admin_role:admin").count(), 1);
    assert!(!events.iter().any(|e| e.event.starts_with("sessions_revoked")), "one event for one action");
}
