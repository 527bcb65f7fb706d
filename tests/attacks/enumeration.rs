//! SPEC 11: "No answer (body or timing) tells a stranger or another tenant's
//! admin whether an e-mail address has an account."
//!
//! Timing is made deterministic by holding the database's write lock: a door
//! whose answer depends on writing something for a known address (a reset link,
//! an invitation) then stalls for that address only. Bodies, statuses and
//! headers are compared with the address (and the CSRF token) blanked out.

use std::time::{Duration, Instant};

use crate::support::*;

const ALICE: &str = "alice@acme.example";
// As long as ALICE: the answer echoes the address, and Content-Length must not tell.
const NOBODY: &str = "bobby@acme.example";
/// Far below the stall a held lock causes (sqlite's busy timeout is 10 s), far
/// above an answer on a busy two-core machine.
const PROMPT: Duration = Duration::from_secs(1);

/// Holds the write lock on the tables a door would write for a known address.
enum Lock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Lock {
    async fn take(env: &Env, tables: &[&str]) -> Lock {
        use sqlx::Connection;
        match env.db {
            Db::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&env.database).await.unwrap();
                sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await.unwrap();
                Lock::Sqlite(c)
            }
            Db::Postgres => {
                let mut c = sqlx::PgConnection::connect(&env.database).await.unwrap();
                sqlx::query("BEGIN").execute(&mut c).await.unwrap();
                for t in tables {
                    let sql = format!("LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE");
                    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
                }
                Lock::Postgres(c)
            }
        }
    }

    async fn release(self) {
        match self {
            Lock::Sqlite(mut c) => drop(sqlx::query("ROLLBACK").execute(&mut c).await),
            Lock::Postgres(mut c) => drop(sqlx::query("ROLLBACK").execute(&mut c).await),
        }
    }
}

/// What a stranger sees of an answer: status, headers (but the date) and body,
/// with `blank` (the address typed, the CSRF token) replaced.
struct Seen {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    took: Duration,
}

async fn seen(send: reqwest::RequestBuilder, blank: &[&str]) -> Seen {
    let start = Instant::now();
    let r = send.timeout(Duration::from_secs(3)).send().await;
    let took = start.elapsed();
    let Ok(r) = r else { return Seen { status: 0, headers: vec![], body: "no answer in 3 s".into(), took } };
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .filter(|(k, _)| *k != "date")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let mut body = r.text().await.unwrap_or_default();
    for b in blank {
        body = body.replace(b, "BLANK");
    }
    Seen { status, headers, body, took }
}

fn assert_alike(door: &str, known: &Seen, unknown: &Seen) {
    assert!(known.took < PROMPT, "{door}: the known address took {:?} (unknown: {:?})", known.took, unknown.took);
    assert!(unknown.took < PROMPT, "{door}: the unknown address took {:?}", unknown.took);
    assert_eq!(known.status, unknown.status, "{door}: status");
    assert_eq!(known.headers, unknown.headers, "{door}: headers");
    assert_eq!(known.body, unknown.body, "{door}: body");
}

async fn csrf(c: &reqwest::Client, env: &Env, path: &str) -> String {
    csrf_from(&c.get(env.url(ORDINARY, path)).send().await.unwrap().text().await.unwrap())
}

/// A stranger's forgot-password request.
async fn forgot(env: &Env) {
    let c = env.client(INTERNET);
    let token = csrf(&c, env, "/auth/password/forgot").await;
    let url = env.url(ORDINARY, "/auth/password/forgot");
    let lock = Lock::take(env, &["link_tokens", "audit_log"]).await;
    let known = seen(c.post(&url).form(&[("email", ALICE), ("csrf", &token)]), &[ALICE, &token]).await;
    let unknown = seen(c.post(&url).form(&[("email", NOBODY), ("csrf", &token)]), &[NOBODY, &token]).await;
    lock.release().await;
    assert_alike("forgot password", &known, &unknown);
    assert_eq!(known.status, 200);
    // The work was done after all, once the database was free again.
    env.wait_mail(ALICE, "/auth/password/reset?ticket=", 1).await;
    assert!(env.mails_to(NOBODY).is_empty());
}

const BOSS: &str = "boss@acme.example";
/// Has an account, in another tenant than the admin's.
const CAROL: &str = "carol@beta.example";
/// Fresh addresses, as long as CAROL.
const FRANK: &str = "frank@beta.example";
const GRACE: &str = "grace@beta.example";

/// acme's owner, signed in and re-authenticated for the console.
async fn owner(env: &Env, invite_line: &str) -> reqwest::Client {
    let c = env.client(INTERNET);
    let link = link_path(invite_line, "/auth/invite?ticket=");
    let token = csrf(&c, env, &link).await;
    let r = c
        .post(env.url(ORDINARY, &link))
        .form(&[("password", PASSWORD), ("password_confirm", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the owner registers");
    assert_eq!(login(&c, env, ORDINARY, BOSS, PASSWORD, &[]).await.status(), 303);
    sudo(&c, env, ORDINARY, PASSWORD).await;
    c
}

/// What acme's admin sees when acting on an address that has an account in
/// another tenant, against a fresh address: the same, door by door.
async fn admin_doors(env: &Env, boss: &reqwest::Client) {
    type Door = (&'static str, &'static str, fn(&str) -> Vec<(&'static str, String)>);
    let doors: [Door; 3] = [
        ("admin invitation", "/auth/admin/users", |to| vec![("email", to.to_owned()), ("role", "user".to_owned())]),
        ("admin email change for a user", "/auth/admin/users/action", |to| {
            vec![("user", ALICE.to_owned()), ("action", "email-change".to_owned()), ("new_email", to.to_owned())]
        }),
        ("owner's own email change", "/auth/email/change", |to| {
            vec![
                ("new_email", to.to_owned()),
                ("new_email_confirm", to.to_owned()),
                ("current_password", PASSWORD.to_owned()),
            ]
        }),
    ];
    for (door, path, fields) in doors {
        let mut answers = Vec::new();
        for to in [CAROL, if door == "admin invitation" { FRANK } else { GRACE }] {
            let token = csrf(boss, env, "/auth/admin/users").await;
            let mut form = fields(to);
            form.push(("csrf", token.clone()));
            answers.push(seen(boss.post(env.url(ORDINARY, path)).form(&form), &[to, &token]).await);
        }
        assert_alike(door, &answers[0], &answers[1]);
        assert!(answers[0].status < 400, "{door}: accepted ({})", answers[0].status);
    }
    // The fresh address was invited; the taken one only heard of it, and its
    // account stayed where it was.
    env.wait_mail(FRANK, "/auth/invite?ticket=", 1).await;
    env.wait_mail(CAROL, "another organisation", 1).await;
    assert!(env.mails_to(CAROL).iter().all(|(_, b)| !b.contains("/auth/invite?ticket=")), "no invitation to CAROL");
    let carol = env.client("127.0.0.7");
    assert_eq!(login(&carol, env, ORDINARY, CAROL, PASSWORD, &[]).await.status(), 303);
    let echo = Echo::from(carol.get(env.url(ORDINARY, "/files")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-tenant"), Some("beta"), "CAROL was not moved");
    // The admin's own users may be reported: they are on the page anyway.
    let token = csrf(boss, env, "/auth/admin/users").await;
    let r = boss
        .post(env.url(ORDINARY, "/auth/admin/users"))
        .form(&[("email", ALICE), ("role", "user"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "an address of the admin's own tenant");
}

async fn enumeration(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.tweak_config("  hash_concurrency: 2\n", "  hash_concurrency: 2\n  throttle_per_minute: 0\n");
    let out = env.ok(&["tenant", "create", "acme", "--owner", BOSS, "--plan", "basic"]);
    let invite = out.lines().find(|l| l.contains("/auth/invite?ticket=")).unwrap().trim().to_owned();
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    let added = env.cli(
        &["user", "add", ALICE, "--tenant", "acme", "--role", "user", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(added.status.success(), "user add: {}", String::from_utf8_lossy(&added.stderr));
    env.seed_tenant("beta", CAROL, "user");
    env.ok(&["tenant", "set-2fa", "beta", "off"]);
    env.start().await;
    forgot(&env).await;
    let boss = owner(&env, &invite).await;
    admin_doors(&env, &boss).await;
    env.cleanup().await;
}
on_both_databases!(enumeration);

/// The mail relay accepts connections and never says a word: the known address
/// must still answer like the unknown one (the mail is not sent in the answer's
/// time, nor by a task that the answer waits for).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_with_a_silent_mail_relay() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = relay.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connections.clone();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = relay.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            open.push(socket);
        }
    });
    env.tweak_config(
        "mail:\n  transport: file\n  dir: mail\n",
        &format!("mail:\n  transport: smtp\n  smtp:\n    host: 127.0.0.1\n    port: {port}\n    tls: none\n"),
    );
    env.tweak_config("  hash_concurrency: 2\n", "  hash_concurrency: 2\n  throttle_per_minute: 0\n");
    env.seed_tenant("acme", ALICE, "user");
    env.start().await;
    let c = env.client(INTERNET);
    let url = env.url(ORDINARY, "/auth/password/forgot");
    for round in 0..3 {
        let token = csrf(&c, &env, "/auth/password/forgot").await;
        let known = seen(c.post(&url).form(&[("email", ALICE), ("csrf", &token)]), &[ALICE, &token]).await;
        let unknown = seen(c.post(&url).form(&[("email", NOBODY), ("csrf", &token)]), &[NOBODY, &token]).await;
        assert_alike(&format!("forgot password, silent relay, round {round}"), &known, &unknown);
    }
    eventually("the reset mails reach the (silent) relay", || async {
        connections.load(std::sync::atomic::Ordering::SeqCst) > 0
    })
    .await;
    held.abort();
    env.cleanup().await;
}
