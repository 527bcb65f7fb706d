//! The admin console: who gets in (re-authentication, role), what an admin can
//! do to users (unlock, reset 2FA, sign out, role, email change), invitations
//! (registered through the confirmation screen, expired and sent again,
//! withdrawn, failed to send), and the audit log with its filters and pages.

use crate::on_both_databases;
use crate::support::*;

const ADMIN: &str = "admin@acme.example";
const OWNER: &str = "owner@acme.example";
const ALICE: &str = "alice@acme.example";
const BOB: &str = "bob@acme.example";

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn add_user(env: &Env, email: &str, tenant: &str, role: &str) {
    let out = env.cli(
        &["user", "add", email, "--tenant", tenant, "--role", role, "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
}

/// Re-enters the password for the settings and admin pages.
async fn reauth(c: &reqwest::Client, env: &Env, password: &str) -> reqwest::Response {
    let page = c.get(env.url(ORDINARY, "/auth/settings/login?rd=/auth/admin/users")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the re-authentication form");
    let csrf = csrf_from(&page.text().await.unwrap());
    c.post(env.url(ORDINARY, "/auth/settings/login"))
        .form(&[("password", password), ("rd", "/auth/admin/users"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
}

/// A CSRF token for this browser (every page with a form carries the same one).
async fn csrf(c: &reqwest::Client, env: &Env) -> String {
    csrf_from(&c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap())
}

/// Posts one action of the users page.
async fn act(c: &reqwest::Client, env: &Env, user: &str, action: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let token = csrf(c, env).await;
    let mut fields = vec![("user", user), ("action", action), ("csrf", token.as_str())];
    fields.extend_from_slice(extra);
    c.post(env.url(ORDINARY, "/auth/admin/users/action")).form(&fields).send().await.unwrap()
}

async fn text(c: &reqwest::Client, env: &Env, path: &str) -> (u16, String) {
    let r = c.get(env.url(ORDINARY, path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn files_status(c: &reqwest::Client, env: &Env) -> u16 {
    c.get(env.url(ORDINARY, "/files")).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

async fn gates_and_refusals(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.seed_tenant("acme", ADMIN, "admin");
    add_user(&env, ALICE, "acme", "user");
    env.seed_tenant("globex", "gina@globex.example", "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let admin = env.client(INTERNET);
    assert_eq!(login(&admin, &env, ORDINARY, ADMIN, PASSWORD, &[]).await.status(), 303);

    // Signed in but no fresh password: every page and form asks for it first.
    for path in ["/auth/admin/users", "/auth/admin/audit", "/auth/admin/audit?page=2"] {
        let r = admin.get(env.url(ORDINARY, path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert!(location(&r).starts_with("/auth/settings/login"), "{path}: {}", location(&r));
    }
    let r = act(&admin, &env, ALICE, "revoke", &[]).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/auth/settings/login"), "{}", location(&r));
    let token = csrf(&admin, &env).await;
    let r = admin
        .post(env.url(ORDINARY, "/auth/admin/users"))
        .form(&[("email", "new@acme.example"), ("role", "user"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/auth/settings/login"), "{}", location(&r));
    assert!(env.mails_to("new@acme.example").is_empty(), "nothing was done");

    // Re-authenticated: the console lists this tenant's users only.
    let r = reauth(&admin, &env, PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/auth/admin/users");
    let (status, page) = text(&admin, &env, "/auth/admin/users").await;
    assert_eq!(status, 200);
    for needle in [ADMIN, ALICE, OWNER, "href=\"/auth/admin/audit\"", "href=\"/auth/settings\"", "for=\"email\""] {
        assert!(page.contains(needle), "users page lacks {needle}");
    }
    assert!(!page.contains("globex"), "another tenant's users never show");
    let (_, ja) = text(&admin, &env, "/auth/admin/users?lang=ja").await;
    assert!(ja.contains("ユーザー管理") && ja.contains("操作ログ"), "Japanese users page (one term for the audit log)");
    let (_, ja) = text(&admin, &env, "/auth/admin/audit?lang=ja").await;
    assert!(ja.contains("イベント"), "Japanese audit page");
    let (_, en) = text(&admin, &env, "/auth/admin/audit?lang=en").await;
    assert!(en.contains("Audit log") && en.contains("for=\"event\""), "English audit page");

    // A form without its CSRF token does nothing.
    let r = admin
        .post(env.url(ORDINARY, "/auth/admin/users/action"))
        .form(&[("user", ALICE), ("action", "revoke")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Another tenant's user and nobody at all get the same answer.
    let elsewhere = act(&admin, &env, "gina@globex.example", "revoke", &[]).await;
    let nowhere = act(&admin, &env, "nobody@nowhere.example", "revoke", &[]).await;
    assert_eq!(elsewhere.status(), 404);
    assert_eq!(nowhere.status(), 404);
    assert_eq!(elsewhere.text().await.unwrap(), nowhere.text().await.unwrap());

    // The owner: an admin may unlock them or sign them out, nothing else.
    assert_eq!(act(&admin, &env, OWNER, "role", &[("role", "user")]).await.status(), 403);
    assert_eq!(act(&admin, &env, OWNER, "role", &[("role", "admin")]).await.status(), 403);
    assert_eq!(act(&admin, &env, OWNER, "email-change", &[("new_email", "x@acme.example")]).await.status(), 403);
    assert_eq!(act(&admin, &env, OWNER, "reset-2fa", &[]).await.status(), 403);
    assert_eq!(act(&admin, &env, OWNER, "unlock", &[]).await.status(), 303);
    assert_eq!(act(&admin, &env, OWNER, "revoke", &[]).await.status(), 303);
    // Nobody changes their own role, and nobody becomes owner.
    assert_eq!(act(&admin, &env, ADMIN, "role", &[("role", "user")]).await.status(), 403);
    assert_eq!(act(&admin, &env, ALICE, "role", &[("role", "owner")]).await.status(), 400);
    assert!(env.mails_to("x@acme.example").is_empty());

    // A bad new address is explained next to its field.
    let r = act(&admin, &env, ALICE, "email-change", &[("new_email", "not an address")]).await;
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("-error\" class=\"field-error\""), "error next to the field");
    assert!(body.contains("aria-describedby=\"new-email-"), "the error is tied to its input");

    // A plain user: refused everywhere, before and after re-entering the password.
    let alice = env.client("127.0.0.5");
    assert_eq!(login(&alice, &env, ORDINARY, ALICE, PASSWORD, &[]).await.status(), 303);
    let r = alice.get(env.url(ORDINARY, "/auth/admin/users")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(reauth(&alice, &env, PASSWORD).await.status(), 303);
    for path in ["/auth/admin/users", "/auth/admin/audit", "/auth/admin/audit?user=admin%40acme.example"] {
        assert_eq!(text(&alice, &env, path).await.0, 403, "{path}");
    }
    for action in ["unlock", "reset-2fa", "revoke"] {
        assert_eq!(act(&alice, &env, ADMIN, action, &[]).await.status(), 403, "{action}");
    }
    assert_eq!(act(&alice, &env, ALICE, "role", &[("role", "admin")]).await.status(), 403);
    assert_eq!(act(&alice, &env, ADMIN, "email-change", &[("new_email", "mine@acme.example")]).await.status(), 403);
    let token = csrf(&alice, &env).await;
    let r = alice
        .post(env.url(ORDINARY, "/auth/admin/users"))
        .form(&[("email", "friend@acme.example"), ("role", "admin"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(files_status(&admin, &env).await, 200, "the admin was never signed out");
    assert!(env.mails_to("mine@acme.example").is_empty() && env.mails_to("friend@acme.example").is_empty());
    env.cleanup().await;
}
on_both_databases!(gates_and_refusals);

/// Signs in a password user of a 2FA tenant and enrols the authenticator app.
async fn sign_in_with_new_totp(c: &reqwest::Client, env: &Env, email: &str) {
    assert_eq!(login(c, env, ORDINARY, email, PASSWORD, &[]).await.status(), 303);
    let page = c.get(env.url(ORDINARY, "/auth/2fa/totp?rd=/files")).send().await.unwrap().text().await.unwrap();
    let secret = base32_decode(between(&page, "word-break:break-all\">", "</code>"));
    let code = gateway::second_factor::code_at(&secret, unix_now());
    let token = csrf(c, env).await;
    let r = c
        .post(env.url(ORDINARY, "/auth/2fa/totp"))
        .form(&[("code", code.as_str()), ("rd", "/files"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // The second factor started a new session: forms now carry its token.
    let token = csrf(c, env).await;
    let r = c
        .post(env.url(ORDINARY, "/auth/recovery-code"))
        .form(&[("saved", "1"), ("rd", "/files"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(files_status(c, env).await, 200);
}

/// The body of the users page the action's 303 leads to.
async fn follow(c: &reqwest::Client, env: &Env, r: reqwest::Response) -> String {
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.starts_with("/auth/admin/users?done="), "{to}");
    let (status, body) = text(c, env, &to).await;
    assert_eq!(status, 200);
    body
}

async fn role_of(c: &reqwest::Client, env: &Env) -> String {
    let echo = Echo::from(c.get(env.url(ORDINARY, "/files")).send().await.unwrap()).await;
    echo.get("x-auth-role").unwrap_or_default().to_owned()
}

fn rows(page: &str) -> usize {
    page.matches("<tr><td>").count()
}

async fn user_actions_and_audit_log(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.tweak_config("  hash_concurrency: 2\n", "  hash_concurrency: 2\n  throttle_per_minute: 0\n");
    env.seed_tenant("acme", ADMIN, "admin");
    add_user(&env, ALICE, "acme", "user");
    add_user(&env, BOB, "acme", "user");
    env.start().await;

    // Alice sets up 2-step verification while the tenant asks for it; then the
    // switch goes off so the others sign in with a password alone.
    let alice = env.client(INTERNET);
    sign_in_with_new_totp(&alice, &env, ALICE).await;
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    let admin = env.client(INTERNET);
    assert_eq!(login(&admin, &env, ORDINARY, ADMIN, PASSWORD, &[]).await.status(), 303);
    eventually("the 2FA switch is off", || async { files_status(&admin, &env).await == 200 }).await;

    // Bob locks himself out.
    let bob = env.client("127.0.0.5");
    for _ in 0..10 {
        assert_eq!(login(&bob, &env, ORDINARY, BOB, "Wrong-pass1", &[]).await.status(), 401);
    }
    assert_eq!(login(&bob, &env, ORDINARY, BOB, PASSWORD, &[]).await.status(), 401);

    assert_eq!(reauth(&admin, &env, PASSWORD).await.status(), 303);
    let (_, page) = text(&admin, &env, "/auth/admin/users").await;
    assert!(page.contains(&format!("<tr><td>{BOB}</td><td>User</td><td>locked</td>")), "Bob shows as locked");
    assert!(page.contains(&format!("<tr><td>{ALICE}</td><td>User</td><td>active</td><td>set up</td><td>1</td>")));
    assert!(page.contains("value=\"unlock\""), "an unlock button for the locked user");

    // Unlock.
    let done = follow(&admin, &env, act(&admin, &env, BOB, "unlock", &[]).await).await;
    assert!(done.contains("The account is unlocked."), "status message");
    assert_eq!(login(&bob, &env, ORDINARY, BOB, PASSWORD, &[]).await.status(), 303);
    assert_eq!(role_of(&bob, &env).await, "user");

    // Reset 2FA: Alice's session ends and she is told by mail.
    let done = follow(&admin, &env, act(&admin, &env, ALICE, "reset-2fa", &[]).await).await;
    assert!(done.contains(&format!("<tr><td>{ALICE}</td><td>User</td><td>active</td><td>not set up</td><td>0</td>")));
    eventually("Alice's session ends", || async { files_status(&alice, &env).await == 401 }).await;
    env.wait_mail(ALICE, "2-step verification of your", 1).await;

    // Sign out everywhere.
    let bob2 = env.client("127.0.0.6");
    assert_eq!(login(&bob2, &env, ORDINARY, BOB, PASSWORD, &[]).await.status(), 303);
    follow(&admin, &env, act(&admin, &env, BOB, "revoke", &[]).await).await;
    eventually("Bob's sessions end", || async {
        files_status(&bob, &env).await == 401 && files_status(&bob2, &env).await == 401
    })
    .await;

    // Role: Bob becomes an admin at his next sign-in; the owner's role is out of reach.
    assert_eq!(login(&bob, &env, ORDINARY, BOB, PASSWORD, &[]).await.status(), 303);
    follow(&admin, &env, act(&admin, &env, BOB, "role", &[("role", "admin")]).await).await;
    eventually("Bob's session ends", || async { files_status(&bob, &env).await == 401 }).await;
    assert_eq!(login(&bob, &env, ORDINARY, BOB, PASSWORD, &[]).await.status(), 303);
    assert_eq!(role_of(&bob, &env).await, "admin");
    assert_eq!(act(&admin, &env, OWNER, "role", &[("role", "admin")]).await.status(), 403);

    // Email change: a link to the new address, which Bob confirms.
    follow(&admin, &env, act(&admin, &env, BOB, "email-change", &[("new_email", "Robert@Acme.example")]).await).await;
    let mail = env.wait_mail("robert@acme.example", "/auth/email/confirm?ticket=", 1).await;
    let link = link_path(&mail, "/auth/email/confirm?ticket=");
    let fresh = env.client("127.0.0.7");
    let page = fresh.get(env.url(ORDINARY, &link)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let token = csrf_from(&page.text().await.unwrap());
    let r = fresh
        .post(env.url(ORDINARY, &link))
        .form(&[("password", "Robert-Pass9"), ("password_confirm", "Robert-Pass9"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(login(&fresh, &env, ORDINARY, "robert@acme.example", "Robert-Pass9", &[]).await.status(), 303);
    let echo = Echo::from(fresh.get(env.url(ORDINARY, "/files")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-user"), Some("robert@acme.example"));
    assert_eq!(login(&bob2, &env, ORDINARY, BOB, PASSWORD, &[]).await.status(), 401);

    // The audit log, newest first.
    let (status, log) = text(&admin, &env, "/auth/admin/audit").await;
    assert_eq!(status, 200);
    // One event per action: the role change's signing out is part of it. The
    // revoke is told from the email change's own ending of sessions by its actor.
    let order: Vec<usize> = [
        "admin_email_change_link</td>",
        "admin_role:admin</td>",
        &format!("sessions_revoked:2</td><td>{ADMIN}</td>"),
        "second_factor_reset</td>",
        "unlock</td>",
    ]
    .iter()
    .map(|e| log.find(&format!("<td>{e}")).unwrap_or_else(|| panic!("{e} missing from:\n{log}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first: {order:?}");
    let role = log.find("<td>admin_role:admin</td>").unwrap_or_default();
    let next = &log[role..].split("<tr>").nth(1).unwrap_or_default();
    assert!(!next.contains("sessions_revoked"), "the role change writes one event");
    assert!(log.contains(&format!("<td>{ADMIN}</td><td>{BOB}</td><td>127.0.0.1</td><td>ordinary</td>")));

    // Filters: by user (actor or subject) and by the start of the event name.
    let (_, by_alice) = text(&admin, &env, "/auth/admin/audit?user=Alice%40acme.example").await;
    assert!(by_alice.contains("<td>second_factor_reset</td>") && !by_alice.contains("<td>unlock</td>"));
    assert!(by_alice.contains("value=\"alice@acme.example\""), "the filter stays in its field");
    let (_, by_bob) = text(&admin, &env, &format!("/auth/admin/audit?user={BOB}")).await;
    assert!(by_bob.contains("<td>unlock</td>") && !by_bob.contains("<td>second_factor_reset</td>"));
    let (_, logins) = text(&admin, &env, "/auth/admin/audit?event=login").await;
    assert!(logins.contains("<td>login_failure</td>") && logins.contains("<td>login_success</td>"));
    assert!(!logins.contains("<td>admin_"), "only events starting with login");
    let (_, literal) = text(&admin, &env, "/auth/admin/audit?event=admin%25").await;
    assert_eq!(rows(&literal), 0, "% is a character, not a wildcard");
    let (_, combined) = text(&admin, &env, &format!("/auth/admin/audit?user={BOB}&event=login_f")).await;
    assert_eq!(rows(&combined), 11, "Bob's ten wrong passwords and the right one while locked");

    // Pages of 50: wrong re-authentications add plenty of events (nine at a
    // time: the tenth in a row would lock the account, like at login).
    for _ in 0..5 {
        for _ in 0..9 {
            assert_eq!(reauth(&admin, &env, "Wrong-pass1").await.status(), 401);
        }
        assert_eq!(reauth(&admin, &env, PASSWORD).await.status(), 303);
    }
    let (_, first) = text(&admin, &env, "/auth/admin/audit").await;
    assert_eq!(rows(&first), 50);
    assert!(first.contains("rel=\"next\"") && !first.contains("rel=\"prev\""));
    let (status, second) = text(&admin, &env, "/auth/admin/audit?page=2").await;
    assert_eq!(status, 200);
    assert!(rows(&second) > 0 && second.contains("rel=\"prev\""));
    assert_ne!(first, second);
    assert!(first.contains("<td>reauth_failure</td>") && second.contains("<td>unlock</td>"));
    assert!(!first.contains("<td>unlock</td>"), "older events moved to page 2");
    let (_, filtered) = text(&admin, &env, "/auth/admin/audit?event=reauth_f").await;
    assert_eq!(rows(&filtered), 45);
    assert!(!filtered.contains("rel=\"next\""));
    env.cleanup().await;
}
on_both_databases!(user_actions_and_audit_log);

const CAROL: &str = "carol@acme.example";
const DAVE: &str = "dave@acme.example";
const ERIN: &str = "erin@acme.example";
const FRANK: &str = "frank@acme.example";
const INVITE_LINK: &str = "/auth/invite?ticket=";

/// Posts one of the console's invitation forms with `email`.
async fn on_invitation(c: &reqwest::Client, env: &Env, path: &str, email: &str) -> reqwest::Response {
    let token = csrf(c, env).await;
    let mut fields = vec![("email", email), ("csrf", token.as_str())];
    if path == "/auth/admin/users" {
        fields.push(("role", "user"));
    }
    c.post(env.url(ORDINARY, path)).form(&fields).send().await.unwrap()
}

async fn signed_in_admin(env: &Env) -> reqwest::Client {
    let admin = env.client(INTERNET);
    assert_eq!(login(&admin, env, ORDINARY, ADMIN, PASSWORD, &[]).await.status(), 303);
    assert_eq!(reauth(&admin, env, PASSWORD).await.status(), 303);
    admin
}

async fn invitations_from_the_console(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.seed_tenant("acme", ADMIN, "admin");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let admin = signed_in_admin(&env).await;

    // Carol opens her link: her address, the password twice, then a screen
    // that shows what will be registered; only its button registers her.
    let done = follow(&admin, &env, on_invitation(&admin, &env, "/auth/admin/users", CAROL).await).await;
    assert!(done.contains("The invitation is being sent."), "never 'sent' before the relay answered");
    let link = link_path(&env.wait_mail(CAROL, INVITE_LINK, 1).await, INVITE_LINK);
    let carol = env.client("127.0.0.5");
    let (status, page) = text(&carol, &env, &link).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("<dd id=\"invitee\">{CAROL}</dd>")), "the address being registered");
    let token = csrf_from(&page);
    let fields = [("step", "review"), ("password", PASSWORD), ("password_confirm", PASSWORD), ("csrf", &token)];
    let r = carol.post(env.url(ORDINARY, &link)).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let confirm = r.text().await.unwrap();
    assert!(confirm.contains(&format!("<dd id=\"invitee\">{CAROL}</dd>")) && confirm.contains("value=\"confirm\""));
    assert_eq!(login(&env.client("127.0.0.6"), &env, ORDINARY, CAROL, PASSWORD, &[]).await.status(), 401);
    let token = csrf_from(&confirm);
    let staged = confirm.split("name=\"staged\" value=\"").nth(1).and_then(|t| t.split('"').next()).unwrap_or("");
    let fields = [("step", "confirm"), ("staged", staged), ("csrf", &token)];
    let r = carol.post(env.url(ORDINARY, &link)).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("href=\"/auth/login\""));
    assert_eq!(login(&carol, &env, ORDINARY, CAROL, PASSWORD, &[]).await.status(), 303);

    // Dave's invitation will expire; Erin's is withdrawn and its link dies.
    on_invitation(&admin, &env, "/auth/admin/users", DAVE).await;
    let dave_old = link_path(&env.wait_mail(DAVE, INVITE_LINK, 1).await, INVITE_LINK);
    on_invitation(&admin, &env, "/auth/admin/users", ERIN).await;
    let erin_link = link_path(&env.wait_mail(ERIN, INVITE_LINK, 1).await, INVITE_LINK);
    let r = on_invitation(&admin, &env, "/auth/admin/invitations/withdraw", ERIN).await;
    let users = follow(&admin, &env, r).await;
    assert!(users.contains("The invitation was withdrawn.") && !users.contains(ERIN), "Erin is off the list");
    assert_eq!(text(&env.client("127.0.0.7"), &env, &erin_link).await.0, 410, "the withdrawn link is dead");
    let again = on_invitation(&admin, &env, "/auth/admin/invitations/withdraw", ERIN).await;
    assert_eq!(again.status(), 404, "nothing left to withdraw");

    // Fifteen days later Dave's link has expired, as his mail says it would;
    // the console says so and sends it again, which the mail told him to ask for.
    env.restart_with(&[("GATEWAY_CLOCK_OFFSET", "1296000")]).await;
    let admin = signed_in_admin(&env).await;
    let (_, users) = text(&admin, &env, "/auth/admin/users").await;
    assert!(users.contains(&format!("<tr><td>{DAVE}</td><td>User</td><td>invitation expired</td>")), "{users}");
    let (status, dead) = text(&env.client("127.0.0.8"), &env, &dave_old).await;
    assert_eq!(status, 410);
    assert!(dead.contains("Ask your organisation's administrator to send a new invitation."));
    let users = follow(&admin, &env, on_invitation(&admin, &env, "/auth/admin/invitations/resend", DAVE).await).await;
    assert!(users.contains(&format!("<tr><td>{DAVE}</td><td>User</td><td>invited</td>")), "{users}");
    let dave_new = link_path(&env.wait_mail(DAVE, INVITE_LINK, 2).await, INVITE_LINK);
    assert_ne!(dave_new, dave_old);
    assert_eq!(text(&env.client("127.0.0.8"), &env, &dave_new).await.0, 200, "the new link works");
    assert_eq!(text(&env.client("127.0.0.8"), &env, &dave_old).await.0, 410);

    // The relay is down: Frank's invitation shows as failed, with the button
    // to send it again, and the audit log records it.
    let closed = free_port();
    env.tweak_config(
        "mail:\n  transport: file\n  dir: mail\n",
        &format!("mail:\n  transport: smtp\n  smtp:\n    host: 127.0.0.1\n    port: {closed}\n    tls: none\n"),
    );
    env.restart_with(&[("GATEWAY_CLOCK_OFFSET", "1296000")]).await;
    let r = on_invitation(&admin, &env, "/auth/admin/users", FRANK).await;
    assert_eq!(location(&r), "/auth/admin/users?done=invited", "the answer does not wait for the relay");
    let failed = format!("<tr><td>{FRANK}</td><td>User</td><td>sending failed</td>");
    eventually("the failed mail shows", || async { text(&admin, &env, "/auth/admin/users").await.1.contains(&failed) })
        .await;
    let (_, users) = text(&admin, &env, "/auth/admin/users").await;
    let block = users.split("<details").find(|b| b.contains(&format!("<summary>{FRANK}</summary>"))).unwrap_or("");
    assert!(block.contains("action=\"/auth/admin/invitations/resend\""), "a button to send it again: {block}");
    let (_, log) = text(&admin, &env, "/auth/admin/audit?event=invitation_").await;
    for event in ["invitation_mail_failed", "invitation_withdrawn", "invitation_accepted", "invitation_sent"] {
        assert!(log.contains(&format!("<td>{event}</td>")), "{event} missing from:\n{log}");
    }
    assert!(log.contains(&format!("<td>invitation_mail_failed</td><td>{ADMIN}</td><td>{FRANK}</td>")));
    env.cleanup().await;
}
on_both_databases!(invitations_from_the_console);
