//! SPEC 11: "No answer (body or timing) tells a stranger or another tenant's
//! admin whether an e-mail address has an account." — the admin console after
//! the invitation: an address that has an account in another tenant is invited
//! "like any other", so the users list, the actions on its row, a second
//! invitation, sending it again, withdrawing it and the audit view must not
//! tell it from a fresh address either.

use crate::support::*;

const ADMIN: &str = "admin@acme.example";
/// Fresh: no account anywhere.
const FRESH: &str = "xavier@fresh.example";
/// A user of tenant beta; as long as FRESH, so lengths cannot tell.
const TAKEN: &str = "yvonne@beta.example";

/// What the admin sees of an answer, both probed addresses (and the CSRF token)
/// blanked and, where asked, digits too (times in the audit view).
#[derive(Debug, PartialEq)]
struct Seen {
    status: u16,
    location: String,
    body: String,
}

fn blanked(text: &str, token: &str) -> String {
    let mut text = text.to_owned();
    for who in [FRESH, TAKEN] {
        text = text.replace(who, "ADDRESS").replace(&who.replace('@', "%40"), "ADDRESS");
    }
    if token.is_empty() { text } else { text.replace(token, "TOKEN") }
}

async fn seen(r: reqwest::Response, token: &str) -> Seen {
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|l| l.to_str().unwrap_or("").to_owned()).unwrap_or_default();
    Seen { status, location, body: blanked(&r.text().await.unwrap(), token) }
}

async fn page(c: &reqwest::Client, env: &Env, path: &str) -> String {
    let r = c.get(env.url(ORDINARY, path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// Every table row and every "manage" block of the users page that names `who`,
/// with the address blanked.
fn rows_of(page: &str, who: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (open, close) in [("<tr>", "</tr>"), ("<details", "</details>")] {
        for piece in page.split(open).skip(1) {
            let piece = piece.split(close).next().unwrap_or_default();
            if piece.contains(who) {
                out.push(piece.replace(who, "ADDRESS"));
            }
        }
    }
    out
}

fn assert_rows_alike(page: &str, when: &str) {
    let fresh = rows_of(page, FRESH);
    let taken = rows_of(page, TAKEN);
    assert!(!fresh.is_empty(), "{when}: the fresh address has no row");
    assert_eq!(fresh, taken, "{when}: the rows differ");
}

async fn post(c: &reqwest::Client, env: &Env, path: &str, fields: &[(&str, &str)]) -> Seen {
    let token = csrf_from(&page(c, env, "/auth/admin/users").await);
    let mut form = fields.to_vec();
    form.push(("csrf", &token));
    // Bounded: an answer held up by a lock is a finding, not a hang.
    match c.post(env.url(ORDINARY, path)).form(&form).timeout(std::time::Duration::from_secs(3)).send().await {
        Ok(r) => seen(r, &token).await,
        Err(e) => Seen { status: 0, location: String::new(), body: format!("no answer: {}", e.is_timeout()) },
    }
}

async fn invite(c: &reqwest::Client, env: &Env, to: &str, role: &str) -> Seen {
    post(c, env, "/auth/admin/users", &[("email", to), ("role", role)]).await
}

async fn resend(c: &reqwest::Client, env: &Env, to: &str) -> Seen {
    post(c, env, "/auth/admin/invitations/resend", &[("email", to)]).await
}

async fn withdraw(c: &reqwest::Client, env: &Env, to: &str) -> Seen {
    post(c, env, "/auth/admin/invitations/withdraw", &[("email", to)]).await
}

/// On PostgreSQL, a connection holding the link table against writes (reads go on).
async fn held_links(env: &Env) -> Option<sqlx::PgConnection> {
    use sqlx::Connection;
    if !matches!(env.db, Db::Postgres) {
        return None;
    }
    let mut c = sqlx::PgConnection::connect(&env.database).await.unwrap();
    sqlx::query("BEGIN").execute(&mut c).await.unwrap();
    sqlx::query("LOCK TABLE link_tokens IN EXCLUSIVE MODE").execute(&mut c).await.unwrap();
    Some(c)
}

async fn invite_probing(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.seed_tenant("acme", ADMIN, "admin");
    env.seed_tenant("beta", TAKEN, "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let admin = env.client(INTERNET);
    assert_eq!(login(&admin, &env, ORDINARY, ADMIN, PASSWORD, &[]).await.status(), 303);
    sudo(&admin, &env, ORDINARY, PASSWORD).await;

    // Timing: what only a fresh invitation does (a user, a link) must not be in
    // the answer's time. On PostgreSQL the link table is held for writing: the
    // answers must come at once all the same (SQLite's lock is the whole file,
    // which the invitation row needs too).
    let held = held_links(&env).await;
    let start = std::time::Instant::now();
    let first = [invite(&admin, &env, FRESH, "user").await, invite(&admin, &env, TAKEN, "user").await];
    let took = start.elapsed();
    if let Some(mut c) = held {
        sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
        assert!(took < std::time::Duration::from_secs(2), "the invitations waited for the link table: {took:?}");
    }
    assert_eq!(first[0], first[1], "the invitation");
    assert_eq!(first[0].status, 303, "the invitation is accepted");
    assert_rows_alike(&page(&admin, &env, "/auth/admin/users").await, "after the invitation");

    // Every action on the row, with what its form (or a hand-made one) sends.
    type Case = (&'static str, &'static [(&'static str, &'static str)]);
    let cases: [Case; 6] = [
        ("unlock", &[]),
        ("reset-2fa", &[]),
        ("revoke", &[]),
        ("role", &[("role", "admin")]),
        ("role", &[("role", "owner")]),
        ("email-change", &[("new_email", "zed@acme.example")]),
    ];
    for (action, extra) in cases {
        let mut answers = Vec::new();
        for who in [FRESH, TAKEN] {
            let mut fields = vec![("user", who), ("action", action)];
            fields.extend_from_slice(extra);
            answers.push(post(&admin, &env, "/auth/admin/users/action", &fields).await);
        }
        assert_eq!(answers[0], answers[1], "{action} {extra:?}");
        assert_ne!(answers[0].status, 404, "{action}: a pending invitation is not 'no such user'");
    }
    assert!(env.mails_to("zed@acme.example").is_empty(), "no email change before registration");
    assert_rows_alike(&page(&admin, &env, "/auth/admin/users").await, "after the actions");

    // Invited again, with another role: the same answer, the same rows.
    let again = [invite(&admin, &env, FRESH, "admin").await, invite(&admin, &env, TAKEN, "admin").await];
    assert_eq!(again[0], again[1], "the second invitation");
    assert_eq!(again[0].status, 303, "the second invitation is accepted");
    let users = page(&admin, &env, "/auth/admin/users").await;
    assert_rows_alike(&users, "after the second invitation");
    assert!(rows_of(&users, FRESH).concat().contains("Administrator"), "the new role shows");

    // Sent again from the pending list (keeping the role): alike.
    let resent = [resend(&admin, &env, FRESH).await, resend(&admin, &env, TAKEN).await];
    assert_eq!(resent[0], resent[1], "sending again");
    assert_eq!(resent[0].status, 303, "sent again");
    assert_rows_alike(&page(&admin, &env, "/auth/admin/users").await, "after sending again");

    // Withdrawn: the same answer, at once even while the link table is held
    // (removing a fresh invitee's user and links waits in the queue), and
    // both rows gone; the fresh address's link is dead.
    let fresh_link = link_path(&env.wait_mail(FRESH, "/auth/invite?ticket=", 3).await, "/auth/invite?ticket=");
    let held = held_links(&env).await;
    let start = std::time::Instant::now();
    let withdrawn = [withdraw(&admin, &env, FRESH).await, withdraw(&admin, &env, TAKEN).await];
    let took = start.elapsed();
    if let Some(mut c) = held {
        sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
        assert!(took < std::time::Duration::from_secs(2), "the withdrawals waited for the link table: {took:?}");
    }
    assert_eq!(withdrawn[0], withdrawn[1], "the withdrawal");
    assert_eq!(withdrawn[0].status, 303, "withdrawn");
    let users = page(&admin, &env, "/auth/admin/users").await;
    assert!(rows_of(&users, FRESH).is_empty() && rows_of(&users, TAKEN).is_empty(), "both rows are gone");
    assert_eq!(env.client("127.0.0.8").get(env.url(ORDINARY, &fresh_link)).send().await.unwrap().status(), 410);
    let twice = [withdraw(&admin, &env, FRESH).await, withdraw(&admin, &env, TAKEN).await];
    assert_eq!(twice[0], twice[1], "nothing left to withdraw");
    assert_eq!(twice[0].status, 404);
    let again = [invite(&admin, &env, FRESH, "admin").await, invite(&admin, &env, TAKEN, "admin").await];
    assert_eq!(again[0], again[1], "invited once more");
    assert_rows_alike(&page(&admin, &env, "/auth/admin/users").await, "after inviting once more");

    // The audit view, searched for either address (times blanked).
    let digits = |s: String| s.chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).collect::<String>();
    let audit = |who: &str| format!("/auth/admin/audit?user={}", who.replace('@', "%40"));
    let fresh = digits(blanked(&page(&admin, &env, &audit(FRESH)).await, ""));
    let taken = digits(blanked(&page(&admin, &env, &audit(TAKEN)).await, ""));
    assert!(fresh.contains("invitation_sent"), "the audit view shows the invitation");
    assert!(fresh.contains("invitation_withdrawn"), "and the withdrawal");
    assert_eq!(fresh, taken, "the audit view");

    // The real invitee registers from the latest link: a user now, no longer pending.
    let mail = env.wait_mail(FRESH, "/auth/invite?ticket=", 4).await;
    let link = link_path(&mail, "/auth/invite?ticket=");
    let invitee = env.client("127.0.0.9");
    let token = csrf_from(&page(&invitee, &env, &link).await);
    let r = invitee
        .post(env.url(ORDINARY, &link))
        .form(&[("password", PASSWORD), ("password_confirm", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the invitee registers");
    let users = page(&admin, &env, "/auth/admin/users").await;
    let row = rows_of(&users, FRESH);
    assert_eq!(row.iter().filter(|r| r.contains("<td>")).count(), 1, "one row for the registered user: {row:?}");
    assert!(row.concat().contains("active"), "registered: {row:?}");
    assert!(row.concat().contains("Administrator"), "with the role of the last invitation: {row:?}");
    // The taken address stays a pending invitation, its account where it was.
    assert!(rows_of(&users, TAKEN).concat().contains("invited"));
    let yvonne = env.client("127.0.0.7");
    assert_eq!(login(&yvonne, &env, ORDINARY, TAKEN, PASSWORD, &[]).await.status(), 303);
    env.cleanup().await;
}
on_both_databases!(invite_probing);
