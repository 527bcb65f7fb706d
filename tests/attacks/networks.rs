//! SPEC section 11: a tenant's source network is never wider than the limit
//! (/16, /32) and never everyone's (0.0.0.0/0, ::/0, the IPv4-mapped range,
//! loopback, unspecified), whoever adds it and through whichever door; adding
//! one mails the owner. Otherwise an admin could make every address "on a
//! registered line" and `line-only` would mean nothing.

use crate::support::*;

/// What an admin (or the owner) might add, and a word of the refusal.
const REFUSED: &[(&str, &str)] = &[
    ("0.0.0.0/0", "every address"),
    ("::/0", "every address"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("::ffff:0.0.0.0/97", "IPv4-mapped"),
    ("127.0.0.0/8", "loopback"),
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.0/8", "wider than the allowed /16"),
    ("198.51.100.7/12", "wider than the allowed /16"),
    ("2001:db8::/16", "wider than the allowed /32"),
    ("0.0.0.0/32", "unspecified"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
];

async fn form_post(c: &reqwest::Client, env: &Env, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let page = c.get(env.url(ORDINARY, path)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    let mut all = fields.to_vec();
    all.push(("csrf", &csrf));
    c.post(env.url(ORDINARY, path)).form(&all).send().await.unwrap()
}

async fn wide_networks_are_refused_at_every_door(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example"]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    let out = env.cli(
        &["user", "add", "adm@acme.example", "--tenant", "acme", "--role", "admin", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success());
    let invite = env.ok(&["tenant", "invite-owner", "acme"]);
    let link =
        link_path(invite.lines().find(|l| l.contains("/auth/invite?ticket=")).expect("link"), "/auth/invite?ticket=");
    env.start().await;

    let boss = env.client(INTERNET);
    let page = boss.get(env.url(ORDINARY, &link)).send().await.unwrap().text().await.unwrap();
    let r = boss
        .post(env.url(ORDINARY, &link))
        .form(&[("password", PASSWORD), ("password_confirm", PASSWORD), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the owner sets a password");
    let adm = env.client(INTERNET);
    for (c, who) in [(&adm, "adm@acme.example"), (&boss, "boss@acme.example")] {
        assert_eq!(login(c, &env, ORDINARY, who, PASSWORD, &[]).await.status(), 303, "{who} signs in");
        sudo(c, &env, ORDINARY, PASSWORD).await;
    }

    // The settings page, as an admin and as the owner.
    for (c, who) in [(&adm, "admin"), (&boss, "owner")] {
        for (net, why) in REFUSED {
            let r = form_post(c, &env, "/auth/settings/lines", &[("action", "add_network"), ("value", net)]).await;
            assert_eq!(r.status(), 400, "{who} adds {net}");
            let body = r.text().await.unwrap();
            assert!(body.contains(why), "{who} adds {net}: the page says why ({why}):\n{body}");
        }
    }
    // The command line.
    for (net, why) in REFUSED {
        let out = env.cli(&["tenant", "networks", "add", "acme", net], None);
        assert!(!out.status.success(), "the CLI adds {net}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "the CLI adds {net}: {err}");
    }
    let out = env.cli(&["tenant", "networks", "add", "acme", "203.0.113.0/24", "0.0.0.0/0"], None);
    assert!(!out.status.success(), "one bad network refuses the whole command");

    // Nothing was stored: the page lists no network, and no mail went out.
    let page = boss.get(env.url(ORDINARY, "/auth/settings/lines")).send().await.unwrap().text().await.unwrap();
    for (net, _) in REFUSED {
        assert!(!page.contains(&format!("value=\"{net}\"")), "{net} is listed:\n{page}");
    }
    assert!(page.contains("name=\"action\" value=\"add_network\""), "the add form is there:\n{page}");
    assert!(!page.contains("remove_network"), "no network is registered:\n{page}");
    assert!(env.mails_to("boss@acme.example").iter().all(|(_, b)| !b.contains("/0")));

    // A network of the organisation's own, through the trusted proxy: works, and the owner hears of it.
    let r = form_post(&adm, &env, "/auth/settings/lines", &[("action", "add_network"), ("value", OFFICE_NET)]).await;
    assert_eq!(r.status(), 303, "a documentation-range /24 is accepted");
    let mail = env.wait_mail("boss@acme.example", OFFICE_NET, 1).await;
    assert!(mail.contains("adm@acme.example"), "the mail says by whom:\n{mail}");
    assert!(mail.contains(INTERNET), "the mail says from where:\n{mail}");
    let office = env.office_client();
    let r = login(&office, &env, LINE_HOST, "adm@acme.example", PASSWORD, &[]).await;
    assert_eq!(r.status(), 303, "the office signs in on the line-auth hostname");
    let cookie = set_cookie_pair(&r, "gw_session").expect("session cookie");
    eventually("the office network is on a registered line", || async {
        office.get(env.url(LINE_HOST, "/files")).send().await.map(|r| r.status() == 200).unwrap_or(false)
    })
    .await;

    // The same session from any unregistered address, loopback included, on the line-auth hostname: 403, nothing proxied.
    let before = env.origin_count();
    for c in [env.client(INTERNET), env.forwarded_client("192.0.2.55"), env.forwarded_client("::ffff:192.0.2.55")] {
        let r = c.get(env.url(LINE_HOST, "/files")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(r.status(), 403, "an unregistered address passed the line check");
    }
    assert_eq!(
        env.origin_count(),
        before,
        "nothing reached the origin: {:?}",
        env.origin_requests().last().map(|e| e.path.clone())
    );
    env.cleanup().await;
}
on_both_databases!(wide_networks_are_refused_at_every_door);

/// A network stored before the limits existed widens nothing: it is skipped
/// with a warning when the policy snapshot is built.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_wide_network_is_ignored_on_read() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.seed_tenant("acme", "adm@acme.example", "admin");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.ok(&["tenant", "networks", "add", "acme", OFFICE_NET]);
    let db = env.dir.path().join("gw.db");
    let tenant_id: i64 = {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        let id: (i64,) =
            sqlx::query_as("SELECT id FROM tenants WHERE name = 'acme'").fetch_one(&mut conn).await.unwrap();
        for net in ["0.0.0.0/0", "::/0", "127.0.0.0/8"] {
            sqlx::query("INSERT INTO tenant_networks (tenant_id, cidr, created_at) VALUES ($1, $2, 0)")
                .bind(id.0)
                .bind(net)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        id.0
    };
    assert!(tenant_id > 0);
    env.start().await;
    let office = env.office_client();
    let r = login(&office, &env, LINE_HOST, "adm@acme.example", PASSWORD, &[]).await;
    assert_eq!(r.status(), 303);
    let cookie = set_cookie_pair(&r, "gw_session").expect("session cookie");
    let before = env.origin_count();
    for c in [env.client(INTERNET), env.forwarded_client("192.0.2.55")] {
        let r = c.get(env.url(LINE_HOST, "/files")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(r.status(), 403, "a stored 0.0.0.0/0 let an unregistered address through");
    }
    assert_eq!(env.origin_count(), before);
    assert!(env.log().contains("source network ignored"), "the skip is logged:\n{}", env.log());
    env.cleanup().await;
}
