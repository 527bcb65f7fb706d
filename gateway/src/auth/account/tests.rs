//! The account pages through `web::handle`, without a proxy: the menu's
//! groups, the email change typed twice and its confirm page, the password
//! change, and who is refused.

use policy::Role;

use crate::auth::testing::{World, call, location, post, request, world};
use crate::web::Method;

const PASSWORD: &str = "Owner-Pass1";

async fn with_password(w: &World) {
    let owner = w.app.store.user_by_email("owner@acme.example").await.unwrap().unwrap();
    let hash = crate::password::hash_blocking(PASSWORD).unwrap();
    w.app.store.set_password_hash(owner.id, &hash).await.unwrap();
}

async fn get(w: &World, path: &str, session: Option<&str>) -> (u16, String) {
    let reply = call(w, request(Method::Get, path, session, None)).await;
    (reply.status, reply.body_text().into_owned())
}

#[tokio::test]
async fn the_menu_has_the_manuals_three_groups_and_the_way_back_to_the_storage() {
    let w = world().await;
    let (status, en) = get(&w, "/auth/settings", Some(&w.owner)).await;
    assert_eq!(status, 200);
    for text in ["Your sign-in details", "Sign-in settings of your organisation", "Your contract", "href=\"/\""] {
        assert!(en.contains(text), "{text}:\n{en}");
    }
    let order = ["/auth/email/change", "/auth/password/change", "/auth/settings/route", "/auth/admin/audit"];
    let at: Vec<usize> = order.iter().map(|l| en.find(l).unwrap_or_else(|| panic!("{l}:\n{en}"))).collect();
    assert!(at.windows(2).all(|p| p[0] < p[1]), "own details, then the organisation's, then the contract");
    let (_, ja) = get(&w, "/auth/settings?lang=ja", Some(&w.owner)).await;
    for text in
        ["認証情報の変更", "認証情報の設定", "契約情報", "操作ログ", "ログイン中：", "ストレージに戻る", "ご自身"]
    {
        assert!(ja.contains(text), "{text}:\n{ja}");
    }
    // A plain user sees their own group only.
    let (_, user) = get(&w, "/auth/settings", Some(&w.user)).await;
    assert!(user.contains("Your sign-in details") && user.contains("/auth/password/change"), "{user}");
    for hidden in
        ["Sign-in settings of your organisation", "Your contract", "/auth/email/change", "/auth/settings/lines"]
    {
        assert!(!user.contains(hidden), "{hidden}:\n{user}");
    }
}

#[tokio::test]
async fn the_new_address_is_typed_twice_and_the_confirm_page_shows_it() {
    let w = world().await;
    with_password(&w).await;
    let (_, form) = get(&w, "/auth/email/change", Some(&w.owner)).await;
    assert!(form.contains("name=\"new_email\"") && form.contains("name=\"new_email_confirm\""), "{form}");

    let fields = [("new_email", "chief@acme.example"), ("new_email_confirm", "chef@acme.example")];
    let reply = call(
        &w,
        post("/auth/email/change", Some(&w.owner), &[&fields[..], &[("current_password", PASSWORD)]].concat()),
    )
    .await;
    assert_eq!(reply.status, 400);
    let body = reply.body_text();
    assert!(body.contains("id=\"new_email_confirm-error\""), "the error is next to the second field:\n{body}");
    assert!(body.contains("value=\"chief@acme.example\""), "what was typed is kept");
    assert!(w.mails_to("chief@acme.example").is_empty() && w.mails_to("chef@acme.example").is_empty());

    let reply = call(
        &w,
        post(
            "/auth/email/change",
            Some(&w.owner),
            &[
                ("new_email", "chief@acme.example"),
                ("new_email_confirm", "Chief@Acme.example "),
                ("current_password", PASSWORD),
            ],
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body_text());
    assert!(reply.body_text().contains("chief@acme.example"));
    let mail = w.mails_to("chief@acme.example").pop().expect("the link went to the new address").1;
    let ticket: String = mail
        .split("/auth/email/confirm?ticket=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();

    // The mailed link, opened in any browser: the new address is shown.
    let path = format!("/auth/email/confirm?ticket={ticket}");
    let (status, page) = get(&w, &path, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("<strong>chief@acme.example</strong>"), "{page}");
    let (_, ja) = get(&w, &format!("{path}&lang=ja"), None).await;
    assert!(ja.contains("新しいメールアドレス：") && ja.contains("2段階認証の登録はリセット"), "{ja}");

    // Setting the password there finishes the change and resets 2-step verification.
    let owner = w.app.store.user_by_email("owner@acme.example").await.unwrap().unwrap();
    w.app.store.enrol_sms(owner.id, "+819012345678").await.unwrap();
    let req = post(&path, None, &[("password", "Chief-Pass9"), ("password_confirm", "Chief-Pass9")]);
    let reply = call(&w, req).await;
    assert_eq!(reply.status, 200, "{}", reply.body_text());
    assert!(reply.body_text().contains("chief@acme.example"));
    let after = w.app.store.user_by_id(owner.id).await.unwrap().unwrap();
    assert_eq!(after.email, "chief@acme.example");
    assert!(!w.app.store.enrolment(owner.id).await.unwrap().any(), "2-step verification was reset");
    let (status, _) = get(&w, "/auth/settings", Some(&w.owner)).await;
    assert_eq!(status, 303, "the old session ended");
}

#[tokio::test]
async fn only_the_owner_changes_their_own_address() {
    let w = world().await;
    let admin = w.signed_in_as("adm@acme.example", Role::Admin).await;
    for session in [&admin, &w.user] {
        let (status, _) = get(&w, "/auth/email/change", Some(session)).await;
        assert_eq!(status, 403);
        let fields =
            [("new_email", "x@acme.example"), ("new_email_confirm", "x@acme.example"), ("current_password", "")];
        assert_eq!(call(&w, post("/auth/email/change", Some(session), &fields)).await.status, 403);
    }
    assert!(w.mails_to("x@acme.example").is_empty());
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_renews_the_session() {
    let w = world().await;
    with_password(&w).await;
    let new = [("password", "Fresh-Pass7"), ("password_confirm", "Fresh-Pass7")];
    let wrong = [&new[..], &[("current_password", "nope")]].concat();
    let reply = call(&w, post("/auth/password/change", Some(&w.owner), &wrong)).await;
    assert_eq!(reply.status, 400);
    assert!(reply.body_text().contains("id=\"current_password-error\""));
    let right = [&new[..], &[("current_password", PASSWORD)]].concat();
    let reply = call(&w, post("/auth/password/change", Some(&w.owner), &right)).await;
    assert_eq!(reply.status, 200);
    assert!(reply.header_value("set-cookie").is_some_and(|c| c.starts_with("gw_session=")));
    let reply = call(&w, request(Method::Get, "/auth/settings", Some(&w.owner), None)).await;
    assert_eq!(reply.status, 303);
    assert!(location(&reply).starts_with("/auth/login"), "the old session ended");
}
