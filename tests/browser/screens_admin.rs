//! The invitation pages and the admin console's pending invitations, opened
//! in English and in Japanese; each browser leaves its screenshot in
//! `target/screenshots/screens_admin_*.png`.

use crate::harness::{self, Browser};
use crate::support::{Db, Env, INTERNET, ORDINARY, PASSWORD, free_port, link_path, login, sudo};

const ADMIN: &str = "adm@acme.example";
/// Invited, and registered in the browser, one per language.
const INVITEES: [&str; 2] = ["newbie@acme.example", "shinjin@acme.example"];
/// Invited, and expired fifteen days later.
const DAVE: &str = "dave@acme.example";
/// Invited while the relay is down.
const FRANK: &str = "frank@acme.example";
const INVITE_LINK: &str = "/auth/invite?ticket=";
const FIFTEEN_DAYS: &str = "1296000";

/// Tenant `acme` with 2FA off and an admin who can sign in.
async fn tenant() -> Env {
    let mut env = Env::new(Db::Sqlite).await.expect("SQLite needs no server");
    env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example"]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    let out = env.cli(
        &["user", "add", ADMIN, "--tenant", "acme", "--role", "admin", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
    env.start().await;
    env
}

/// Invites `email` from the console as the admin, over HTTP.
async fn invite(env: &Env, email: &str) {
    let admin = env.client(INTERNET);
    assert_eq!(login(&admin, env, ORDINARY, ADMIN, PASSWORD, &[]).await.status(), 303);
    sudo(&admin, env, ORDINARY, PASSWORD).await;
    let page = admin.get(env.url(ORDINARY, "/auth/admin/users")).send().await.unwrap().text().await.unwrap();
    let token = crate::support::csrf_from(&page);
    let r = admin
        .post(env.url(ORDINARY, "/auth/admin/users"))
        .form(&[("email", email), ("role", "user"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "invitation of {email}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screens_admin_invitation_pages() {
    if !harness::available() {
        return;
    }
    let env = tenant().await;
    let shots: [(&str, &str, [&'static str; 3]); 2] = [
        (
            "en-US",
            "Register",
            ["screens_admin_invite_form_en", "screens_admin_invite_confirm_en", "screens_admin_invite_done_en"],
        ),
        (
            "ja",
            "登録",
            ["screens_admin_invite_form_ja", "screens_admin_invite_confirm_ja", "screens_admin_invite_done_ja"],
        ),
    ];
    for ((lang, register, [form, confirm, done]), invitee) in shots.into_iter().zip(INVITEES) {
        invite(&env, invitee).await;
        let link = link_path(&env.wait_mail(invitee, INVITE_LINK, 1).await, INVITE_LINK);
        let url = env.url(ORDINARY, &link);

        // The page the link opens: the address being registered, the password twice.
        let b = Browser::open(form, lang).await;
        b.goto(&url).await;
        assert_eq!(b.text("#invitee").await, invitee);
        b.el("#password_confirm").await;
        b.close().await;

        // The confirmation screen shows the address again; nothing is registered yet.
        let b = Browser::open(confirm, lang).await;
        b.goto(&url).await;
        b.fill("#password", PASSWORD).await;
        b.fill("#password_confirm", PASSWORD).await;
        b.click("form button[type=submit]").await;
        b.el("input[name=step][value=confirm]").await;
        assert_eq!(b.text("#invitee").await, invitee);
        assert_eq!(b.text("form button[type=submit]").await, register);
        b.close().await;

        // Its button registers: the completion.
        let b = Browser::open(done, lang).await;
        b.goto(&url).await;
        b.fill("#password", PASSWORD).await;
        b.fill("#password_confirm", PASSWORD).await;
        b.click("form button[type=submit]").await;
        b.el("input[name=step][value=confirm]").await;
        b.click("form button[type=submit]").await;
        b.el("main p a[href='/auth/login']").await;
        assert!(b.text("main").await.contains(invitee));
        b.close().await;
    }
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screens_admin_console_with_expired_and_failed_invitations() {
    if !harness::available() {
        return;
    }
    let mut env = tenant().await;
    invite(&env, DAVE).await;
    env.wait_mail(DAVE, INVITE_LINK, 1).await;
    // Fifteen days later, with the relay down.
    env.tweak_config(
        "mail:\n  transport: file\n  dir: mail\n",
        &format!("mail:\n  transport: smtp\n  smtp:\n    host: 127.0.0.1\n    port: {}\n    tls: none\n", free_port()),
    );
    env.restart_with(&[("GATEWAY_CLOCK_OFFSET", FIFTEEN_DAYS)]).await;
    invite(&env, FRANK).await;

    for (lang, name, expired, failed) in [
        ("en-US", "screens_admin_console_invitations_en", "invitation expired", "sending failed"),
        ("ja", "screens_admin_console_invitations_ja", "招待の期限切れ", "招待メールの送信失敗"),
    ] {
        let b = Browser::open(name, lang).await;
        b.set_window_rect(0, 0, 1280, 1900).await.expect("a window tall enough for the list");
        b.goto(&env.url(ORDINARY, "/auth/login?rd=/auth/admin/users")).await;
        b.fill("#email", ADMIN).await;
        b.fill("#password", PASSWORD).await;
        b.click("form[action='/auth/login'] button[type=submit]").await;
        b.wait_path("/auth/settings/login").await;
        b.fill("#password", PASSWORD).await;
        b.click("form[action='/auth/settings/login'] button[type=submit]").await;
        b.wait_path_where("the users page", |p| p == "/auth/admin/users").await;
        // The mail's outcome is recorded by the queue shortly after the answer.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !b.text("tbody").await.contains(failed) {
            assert!(std::time::Instant::now() < deadline, "Frank's invitation never showed as failed");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            b.refresh().await.expect("reload");
        }
        let rows = b.text("tbody").await;
        assert!(rows.contains(DAVE) && rows.contains(expired), "{rows}");
        for who in [DAVE, FRANK] {
            b.click(&format!("details:has(input[value='{who}']) summary")).await;
        }
        b.el(&format!("details[open]:has(input[value='{FRANK}']) form[action='/auth/admin/invitations/resend']")).await;
        b.el(&format!("details[open]:has(input[value='{FRANK}']) form[action='/auth/admin/invitations/withdraw']"))
            .await;
        let _: bool = b
            .script(&format!(
                "document.querySelector(\"details:has(input[value='{DAVE}'])\").scrollIntoView(); return true;"
            ))
            .await;
        b.close().await;
    }
    env.cleanup().await;
}
