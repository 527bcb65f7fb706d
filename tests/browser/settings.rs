//! The settings menu and the admin console, clicked through as owners, admins
//! and users do it.

use thirtyfour::By;

use crate::harness::{self, Browser};
use crate::support::{Db, Env, OFFICE_NET, ORDINARY, PASSWORD, link_path};

/// A gateway whose tenant `acme` has 2FA off, an admin and a user; the owner's
/// invitation link (path) is returned for the browser to open.
async fn tenant() -> (Env, String) {
    let mut env = Env::new(Db::Sqlite).await.expect("SQLite needs no server");
    env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example"]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.ok(&["tenant", "networks", "add", "acme", OFFICE_NET]);
    for (email, role) in [("adm@acme.example", "admin"), ("ann@acme.example", "user")] {
        let out = env.cli(
            &["user", "add", email, "--tenant", "acme", "--role", role, "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
        );
        assert!(out.status.success());
    }
    let out = env.ok(&["tenant", "invite-owner", "acme"]);
    let link =
        link_path(out.lines().find(|l| l.contains("/auth/invite?ticket=")).expect("link"), "/auth/invite?ticket=");
    env.start().await;
    (env, link)
}

async fn register(b: &Browser, env: &Env, link: &str) {
    b.goto(&env.url(ORDINARY, link)).await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password_confirm", PASSWORD).await;
    b.click("form button[type=submit]").await;
    // The confirmation screen (the manual's step 3), then registered.
    b.el("input[name=step][value=confirm]").await;
    b.click("form button[type=submit]").await;
    b.el("main p a[href='/auth/login']").await;
}

/// From the login page's "Settings" link: sign in, re-enter the password, land on the menu.
async fn open_settings(b: &Browser, env: &Env, email: &str) {
    b.goto(&env.url(ORDINARY, "/auth/login")).await;
    b.click("a[href='/auth/settings']").await;
    b.wait_path("/auth/login?rd=").await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/auth/login'] button[type=submit]").await;
    b.wait_path("/auth/settings/login").await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/auth/settings/login'] button[type=submit]").await;
    b.wait_path_where("the settings menu", |p| p == "/auth/settings").await;
}

async fn menu_links(b: &Browser) -> Vec<String> {
    let mut out = Vec::new();
    for a in b.find_all(By::Css("main ul li a")).await.expect("menu") {
        out.push(a.attr("href").await.ok().flatten().unwrap_or_default());
    }
    out
}

async fn choose_route(b: &Browser, value: &str) -> String {
    b.click("a[href='/auth/settings/route']").await;
    b.wait_path("/auth/settings/route").await;
    b.el("input[name=route]").await;
    b.click(&format!("input[name=route][value='{value}']")).await;
    b.click("form[action='/auth/settings/route'] button[type=submit]").await;
    // The second screen: what changes, and who it cuts off.
    b.el("form[action='/auth/settings/route'] input[value=apply]").await;
    let confirm = b.text("main").await;
    b.click("form[action='/auth/settings/route'] input[value=apply] ~ button").await;
    b.el("p.ok").await;
    confirm
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_switches_to_line_only_and_back_through_break_glass() {
    if !harness::available() {
        return;
    }
    let (env, link) = tenant().await;
    let b = Browser::open("owner_switches_to_line_only_and_back_through_break_glass", "en-US").await;
    register(&b, &env, &link).await;
    open_settings(&b, &env, "boss@acme.example").await;

    let confirm = choose_route(&b, "line-only").await;
    assert!(confirm.contains("You will lose access to storage yourself"), "self-lockout warning:\n{confirm}");
    assert!(confirm.contains("127.0.0.1"), "the warning names the address");

    // Storage is closed from here now…
    b.goto(&env.url(ORDINARY, "/files")).await;
    assert!(b.text("h1").await.contains("Line authentication failed"));
    // …but the owner still reaches the settings (break-glass) and switches back.
    b.goto(&env.url(ORDINARY, "/auth/settings")).await;
    assert!(b.text("main").await.contains("You can switch the access route back here"));
    assert_eq!(menu_links(&b).await, vec!["/auth/settings/route".to_owned()], "break-glass opens the route only");
    // A new sign-in from here: after the password, the code mailed to the owner.
    let b2 = Browser::open("owner_switches_to_line_only_and_back_through_break_glass_code", "en-US").await;
    b2.goto(&env.url(ORDINARY, "/auth/login")).await;
    b2.click("a[href='/auth/settings']").await;
    b2.wait_path("/auth/login?rd=").await;
    b2.fill("#email", "boss@acme.example").await;
    b2.fill("#password", PASSWORD).await;
    b2.click("form[action='/auth/login'] button[type=submit]").await;
    b2.wait_path("/auth/settings/login").await;
    b2.fill("#password", PASSWORD).await;
    b2.click("form[action='/auth/settings/login'] button[type=submit]").await;
    b2.el("input[name=step][value=code]").await;
    assert!(b2.text("main").await.contains("We sent a one-time code to"));
    let mail = env.wait_mail("boss@acme.example", "Confirmation code", 1).await;
    let code = mail.split("Confirmation code: ").nth(1).and_then(|t| t.get(..6)).expect("code").to_owned();
    b2.fill("#code", &code).await;
    b2.click("form[action='/auth/settings/login'] button[type=submit]").await;
    b2.wait_path_where("the settings menu", |p| p == "/auth/settings").await;
    assert_eq!(menu_links(&b2).await, vec!["/auth/settings/route".to_owned()]);
    b2.close().await;
    let confirm = choose_route(&b, "line-and-internet").await;
    assert!(!confirm.contains("You will lose access"));
    b.goto(&env.url(ORDINARY, "/files")).await;
    b.el("table").await;
    assert!(b.text("main").await.contains("boss@acme.example"));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_invites_a_user_who_registers_from_the_mail() {
    if !harness::available() {
        return;
    }
    let (env, _) = tenant().await;
    let b = Browser::open("admin_invites_a_user_who_registers_from_the_mail", "en-US").await;
    open_settings(&b, &env, "adm@acme.example").await;
    b.click("a[href='/auth/admin/users']").await;
    b.wait_path("/auth/admin/users").await;
    b.fill("form[action='/auth/admin/users'] #email", "newbie@acme.example").await;
    b.click("form[action='/auth/admin/users'] button[type=submit]").await;
    b.wait_path("/auth/admin/users?done=invited").await;
    assert!(b.text("main").await.contains("newbie@acme.example"));

    // The invitee opens the mailed link in a browser of their own.
    let mail = env.wait_mail("newbie@acme.example", "/auth/invite?ticket=", 1).await;
    let invitee = Browser::open("admin_invites_a_user_who_registers_from_the_mail_invitee", "en-US").await;
    register(&invitee, &env, &link_path(&mail, "/auth/invite?ticket=")).await;
    invitee.goto(&env.url(ORDINARY, "/files")).await;
    invitee.wait_path("/auth/login?rd=").await;
    invitee.fill("#email", "newbie@acme.example").await;
    invitee.fill("#password", PASSWORD).await;
    invitee.click("form[action='/auth/login'] button[type=submit]").await;
    invitee.wait_path("/files").await;
    assert!(invitee.text("main").await.contains("newbie@acme.example"));
    invitee.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_sees_no_owner_items() {
    if !harness::available() {
        return;
    }
    let (env, _) = tenant().await;
    let b = Browser::open("a_user_sees_no_owner_items", "en-US").await;
    open_settings(&b, &env, "ann@acme.example").await;
    let links = menu_links(&b).await;
    assert_eq!(links, vec!["/auth/password/change".to_owned(), "/auth/devices".to_owned()], "{links:?}");
    // Typing an owner's address does not help.
    b.goto(&env.url(ORDINARY, "/auth/settings/route")).await;
    assert!(b.text("h1").await.contains("You do not have access to this page"));
    b.close().await;
}
