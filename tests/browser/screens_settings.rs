//! The settings pages that follow the manual, opened by the owner in English
//! and in Japanese, each saved as a screenshot: the menu in its three groups,
//! the email change (the address typed twice) and the confirm page its mail
//! opens, and the 2FA switch's confirm screen in both directions.

use std::path::{Path, PathBuf};

use sqlx::Connection;

use crate::harness::{self, Browser};
use crate::support::{Db, Env, ORDINARY, PASSWORD, link_path};

const BOSS: &str = "boss@acme.example";
const LANGS: [&str; 2] = ["en", "ja"];

/// `target/screenshots/`, as the harness keeps it (or under `CARGO_TARGET_DIR`).
fn screenshot_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("gateway/ lies in the workspace");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(|d| root.join(d)).unwrap_or_else(|| root.join("target"));
    target.join("screenshots")
}

/// Saves the page as it is now; the harness saves only a test's last page.
async fn shot(b: &Browser, name: &str) {
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    let path = dir.join(format!("settings_{name}.png"));
    b.screenshot(&path).await.unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
    eprintln!("screenshot: {}", path.display());
}

async fn sql(env: &Env, query: &str, bind: &str) {
    let db = env.dir.path().join("gw.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.expect("database");
    sqlx::query(sqlx::AssertSqlSafe(query)).bind(bind).execute(&mut conn).await.expect(query);
}

/// Tenant `acme` with 2FA off and its owner's password set in the database,
/// so the pages here depend on no other flow (invitation, 2-step enrolment).
async fn owner_gateway() -> Env {
    let mut env = Env::new(Db::Sqlite).await.expect("SQLite needs no server");
    env.ok(&["tenant", "create", "acme", "--owner", BOSS]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    let hash = gateway::password::hash_blocking(PASSWORD).expect("hash");
    sql(&env, &format!("UPDATE users SET password_hash = $1 WHERE email = '{BOSS}'"), &hash).await;
    env.start().await;
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_pages_in_both_languages() {
    if !harness::available() {
        return;
    }
    let env = owner_gateway().await;
    let b = Browser::open("settings_pages_in_both_languages", "en-US").await;
    b.goto(&env.url(ORDINARY, "/auth/settings")).await;
    b.wait_path("/auth/login?rd=").await;
    b.fill("#email", BOSS).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/auth/login'] button[type=submit]").await;
    b.wait_path("/auth/settings/login").await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/auth/settings/login'] button[type=submit]").await;
    b.wait_path_where("the settings menu", |p| p == "/auth/settings").await;

    // The menu: the manual's three groups and the way back to the storage, all of it in view.
    b.set_window_rect(0, 0, 1280, 1200).await.expect("resize");
    for lang in LANGS {
        b.goto(&env.url(ORDINARY, &format!("/auth/settings?lang={lang}"))).await;
        let groups: Vec<String> = {
            let mut out = Vec::new();
            for h in b.find_all(thirtyfour::By::Css("main section h2")).await.expect("groups") {
                out.push(h.text().await.expect("heading"));
            }
            out
        };
        let want = match lang {
            "en" => ["Your sign-in details", "Sign-in settings of your organisation", "Your contract"],
            _ => ["認証情報の変更", "認証情報の設定", "契約情報"],
        };
        assert_eq!(groups, want, "{lang}");
        b.el("main a[href='/']").await;
        shot(&b, &format!("menu_{lang}")).await;
    }
    b.set_window_rect(0, 0, 1280, 900).await.expect("resize");

    // The email change: the address twice; two different ones are refused at the second field.
    for lang in LANGS {
        b.goto(&env.url(ORDINARY, &format!("/auth/email/change?lang={lang}"))).await;
        b.fill("#new_email", "chief@acme.example").await;
        b.fill("#new_email_confirm", "chef@acme.example").await;
        b.fill("#current_password", PASSWORD).await;
        b.click("form[action='/auth/email/change'] button[type=submit]").await;
        b.el("#new_email_confirm-error").await;
        shot(&b, &format!("email_change_{lang}")).await;
    }
    b.goto(&env.url(ORDINARY, "/auth/email/change?lang=en")).await;
    b.fill("#new_email", "chief@acme.example").await;
    b.fill("#new_email_confirm", "chief@acme.example").await;
    b.fill("#current_password", PASSWORD).await;
    b.click("form[action='/auth/email/change'] button[type=submit]").await;
    assert!(b.text("main").await.contains("We sent a confirmation link to chief@acme.example"));
    // The mailed link's page names the new address.
    let mail = env.wait_mail("chief@acme.example", "/auth/email/confirm?ticket=", 1).await;
    let confirm = link_path(&mail, "/auth/email/confirm?ticket=");
    for lang in LANGS {
        b.goto(&env.url(ORDINARY, &format!("{confirm}&lang={lang}"))).await;
        assert!(b.text("main strong").await.contains("chief@acme.example"));
        shot(&b, &format!("email_confirm_{lang}")).await;
    }

    // The 2FA switch, off → on: a confirm screen with both settings, no risk to tick.
    for lang in LANGS {
        b.goto(&env.url(ORDINARY, &format!("/auth/settings/2fa?lang={lang}"))).await;
        b.click("input[name=state][value=on]").await;
        b.click("form[action='/auth/settings/2fa'] button[type=submit]").await;
        b.el("input[name=step][value=apply]").await;
        assert!(b.find(thirtyfour::By::Css("input[name=risk_accepted]")).await.is_err());
        shot(&b, &format!("two_factor_on_{lang}")).await;
    }
    // On → off needs the switch on, which this session passes only with a
    // second factor: the database says it had one, and the CLI turns 2FA on.
    sql(&env, "UPDATE sessions SET second_factor = $1", "totp").await;
    // A hand edit of the database is announced, as an operator would: every
    // instance then reloads whole and reads the session again.
    sql(&env, "INSERT INTO change_events (at, kind, target) VALUES (0, 'all', $1)", "").await;
    env.ok(&["tenant", "set-2fa", "acme", "on"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        b.goto(&env.url(ORDINARY, "/auth/settings/2fa?lang=en")).await;
        if b.find(thirtyfour::By::Css("input[name=state][value=on][checked]")).await.is_ok() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the CLI's switch did not reach the page");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for lang in LANGS {
        b.goto(&env.url(ORDINARY, &format!("/auth/settings/2fa?lang={lang}"))).await;
        b.click("input[name=state][value=off]").await;
        b.click("form[action='/auth/settings/2fa'] button[type=submit]").await;
        b.el("input[name=risk_accepted]").await;
        shot(&b, &format!("two_factor_off_{lang}")).await;
    }
    b.click("input[name=risk_accepted]").await;
    b.click("form[action='/auth/settings/2fa'] button[type=submit]").await;
    b.wait_path("/auth/settings/2fa?done=off").await;
    assert!(b.text("p.ok").await.contains("2段階認証を無効にしました"));
    b.close().await;
}
