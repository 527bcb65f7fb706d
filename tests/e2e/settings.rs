//! The settings menu: who sees what (SPEC section 6), re-authentication, the
//! route switch with its self-lockout warning and break-glass, the 2FA switch,
//! lines and networks, and tenants managed in the policy file.

use crate::on_both_databases;
use crate::support::*;

const PAGES: [&str; 6] = [
    "/auth/password/change",
    "/auth/email/change",
    "/auth/settings/route",
    "/auth/settings/2fa",
    "/auth/settings/lines",
    "/auth/admin/users",
];

async fn status(c: &reqwest::Client, env: &Env, path: &str) -> u16 {
    c.get(env.url(ORDINARY, path)).send().await.unwrap().status().as_u16()
}

async fn post(c: &reqwest::Client, env: &Env, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let page = c.get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    let mut all = fields.to_vec();
    all.push(("csrf", &csrf));
    c.post(env.url(ORDINARY, path)).form(&all).send().await.unwrap()
}

async fn permission_table(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    for (tenant, plan) in [("basic1", "basic"), ("trial1", "trial")] {
        env.ok(&["tenant", "create", tenant, "--owner", &format!("owner@{tenant}.example"), "--plan", plan]);
        env.ok(&["tenant", "set-2fa", tenant, "off"]);
        for role in ["admin", "user"] {
            let out = env.cli(
                &[
                    "user",
                    "add",
                    &format!("{role}@{tenant}.example"),
                    "--tenant",
                    tenant,
                    "--role",
                    role,
                    "--password-stdin",
                ],
                Some(&format!("{PASSWORD}\n")),
            );
            assert!(out.status.success());
        }
    }
    env.start().await;
    // (owner, admin, user) × (basic, trial): which pages open (200) and which are refused (403).
    let expect = |who: &str, plan: &str| -> [u16; 6] {
        match (who, plan) {
            ("owner", "basic") => [200, 200, 200, 200, 200, 200],
            ("owner", "trial") => [200, 403, 200, 200, 200, 200],
            ("admin", _) => [200, 403, 403, 403, 200, 200],
            _ => [200, 403, 403, 403, 403, 403],
        }
    };
    for (tenant, plan) in [("basic1", "basic"), ("trial1", "trial")] {
        for who in ["admin", "user"] {
            let c = env.client(INTERNET);
            let email = format!("{who}@{tenant}.example");
            assert_eq!(login(&c, &env, ORDINARY, &email, PASSWORD, &[]).await.status(), 303);
            // Without a fresh re-authentication nothing opens.
            for page in PAGES {
                let r = c.get(env.url(ORDINARY, page)).send().await.unwrap();
                assert_eq!(r.status(), 303, "{email} {page} without re-auth");
                assert!(r.headers()["location"].to_str().unwrap().starts_with("/auth/settings/login"));
            }
            sudo(&c, &env, ORDINARY, PASSWORD).await;
            let got: Vec<u16> = futures_statuses(&c, &env).await;
            assert_eq!(got, expect(who, plan), "{email}");
            // Refused pages refuse their POSTs too.
            if who != "owner" {
                assert_eq!(
                    post(&c, &env, "/auth/settings/route", &[("route", "line-only"), ("step", "apply")]).await.status(),
                    403
                );
                for step in ["confirm", "apply"] {
                    let r = post(&c, &env, "/auth/settings/2fa", &[("state", "on"), ("step", step)]).await;
                    assert_eq!(r.status(), 403, "{email} 2FA switch {step}");
                }
            }
            if who == "user" {
                assert_eq!(
                    post(&c, &env, "/auth/settings/lines", &[("action", "add_line"), ("value", "CAF0000000009")])
                        .await
                        .status(),
                    403
                );
            }
        }
    }
    // The owners: set a password through their invitation, then the same checks.
    for (tenant, plan) in [("basic1", "basic"), ("trial1", "trial")] {
        let owner = format!("owner@{tenant}.example");
        let c = env.client(INTERNET);
        let link = owner_password(&env, tenant).await;
        set_password_via(&c, &env, &link).await;
        assert_eq!(login(&c, &env, ORDINARY, &owner, PASSWORD, &[]).await.status(), 303);
        sudo(&c, &env, ORDINARY, PASSWORD).await;
        assert_eq!(futures_statuses(&c, &env).await, expect("owner", plan), "{owner}");
        let menu = c.get(env.url(ORDINARY, "/auth/settings")).send().await.unwrap().text().await.unwrap();
        assert_eq!(menu.contains("/auth/email/change"), plan == "basic", "the menu shows only what is allowed");
    }
    env.cleanup().await;
}
on_both_databases!(permission_table);

async fn futures_statuses(c: &reqwest::Client, env: &Env) -> Vec<u16> {
    let mut out = Vec::new();
    for p in PAGES {
        out.push(status(c, env, p).await);
    }
    out
}

/// A fresh invitation link for the tenant's owner (the one printed at creation is
/// replaced, which also shows that a newer link voids the older).
async fn owner_password(env: &Env, tenant: &str) -> String {
    let out = env.ok(&["tenant", "invite-owner", tenant]);
    let line = out.lines().find(|l| l.contains("/auth/invite?ticket=")).expect("link");
    link_path(line, "/auth/invite?ticket=")
}

async fn set_password_via(c: &reqwest::Client, env: &Env, link: &str) {
    let page = c.get(env.url(ORDINARY, link)).send().await.unwrap().text().await.unwrap();
    let r = c
        .post(env.url(ORDINARY, link))
        .form(&[("password", PASSWORD), ("password_confirm", PASSWORD), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn route_switch_and_break_glass(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example"]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.ok(&["tenant", "networks", "add", "acme", OFFICE_NET]);
    let out = env.cli(
        &["user", "add", "ann@acme.example", "--tenant", "acme", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success());
    env.start().await;
    let boss = env.client(INTERNET);
    let link = owner_password(&env, "acme").await;
    set_password_via(&boss, &env, &link).await;
    assert_eq!(login(&boss, &env, ORDINARY, "boss@acme.example", PASSWORD, &[]).await.status(), 303);
    let ann = env.client(INTERNET);
    assert_eq!(login(&ann, &env, ORDINARY, "ann@acme.example", PASSWORD, &[]).await.status(), 303);
    assert_eq!(ann.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200);

    sudo(&boss, &env, ORDINARY, PASSWORD).await;
    let r = post(&boss, &env, "/auth/settings/route", &[("route", "line-only"), ("step", "confirm")]).await;
    assert_eq!(r.status(), 200);
    let confirm = r.text().await.unwrap();
    assert!(confirm.contains("You will lose access to storage yourself"), "self-lockout warning:\n{confirm}");
    assert!(confirm.contains(INTERNET), "the warning names the address");
    assert!(confirm.contains("2 user(s)"), "the users the change cuts off are counted:\n{confirm}");
    let r = post(&boss, &env, "/auth/settings/route", &[("route", "line-only"), ("step", "apply")]).await;
    assert_eq!(r.status(), 200);

    // Storage is closed from the internet at once, for everyone.
    assert_eq!(ann.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 403);
    assert_eq!(boss.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 403);
    // Break-glass opens the route page only.
    assert_eq!(boss.get(env.url(ORDINARY, "/auth/settings/2fa")).send().await.unwrap().status(), 403);
    // From a registered network the owner sees the 2FA switch off and locked.
    let boss_office = env.office_client();
    assert_eq!(login(&boss_office, &env, ORDINARY, "boss@acme.example", PASSWORD, &[]).await.status(), 303);
    sudo(&boss_office, &env, ORDINARY, PASSWORD).await;
    let page = boss_office.get(env.url(ORDINARY, "/auth/settings/2fa")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Off (locked)"), "{page}");
    // Break-glass: the owner still reaches the settings from the internet; a non-owner does not.
    let menu = boss.get(env.url(ORDINARY, "/auth/settings")).send().await.unwrap();
    assert_eq!(menu.status(), 200);
    assert!(menu.text().await.unwrap().contains("/auth/settings/route"));
    assert_eq!(ann.get(env.url(ORDINARY, "/auth/settings")).send().await.unwrap().status(), 403);
    // A new sign-in from the internet: the password alone does not pass the
    // break-glass gate; the code mailed to the owner does (SPEC section 11).
    let boss = env.client(INTERNET);
    assert_eq!(login(&boss, &env, ORDINARY, "boss@acme.example", PASSWORD, &[]).await.status(), 303);
    let page = boss.get(env.url(ORDINARY, "/auth/settings/login?rd=/auth/settings")).send().await.unwrap();
    let csrf = csrf_from(&page.text().await.unwrap());
    let r = boss
        .post(env.url(ORDINARY, "/auth/settings/login"))
        .form(&[("password", PASSWORD), ("rd", "/auth/settings"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a code is asked after the password");
    assert_eq!(boss.get(env.url(ORDINARY, "/auth/settings/route")).send().await.unwrap().status(), 303);
    let mail = env.wait_mail("boss@acme.example", "Confirmation code", 1).await;
    let code = between(&mail, "Confirmation code: ", "\n").trim().to_owned();
    let r =
        post(&boss, &env, "/auth/settings/login", &[("step", "code"), ("code", &code), ("rd", "/auth/settings")]).await;
    assert_eq!(r.status(), 303, "the mailed code opens the gate");
    env.wait_mail("boss@acme.example", "opened the settings from outside", 1).await;
    // From the registered network the confirm screen has no self-lockout warning.
    let office = env.office_client();
    assert_eq!(login(&office, &env, ORDINARY, "ann@acme.example", PASSWORD, &[]).await.status(), 303);
    assert_eq!(office.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200);
    // Switch back from the internet.
    let r = post(&boss, &env, "/auth/settings/route", &[("route", "line-and-internet"), ("step", "apply")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(boss.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200);
    let audit = env.ok(&["audit", "--tenant", "acme"]);
    assert!(
        audit.contains("route_set:line-only") && audit.contains("route_set:line-and-internet:break_glass"),
        "{audit}"
    );
    env.cleanup().await;
}
on_both_databases!(route_switch_and_break_glass);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_switch_and_lines() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example"]);
    env.ok(&["tenant", "lines", "add", "acme", "CAF0000000001"]);
    env.ok(&["tenant", "networks", "add", "acme", "10.0.0.0/16"]);
    let out = env.cli(
        &["user", "add", "adm@acme.example", "--tenant", "acme", "--role", "admin", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success());
    env.start().await;
    set_password_via(&env.client(INTERNET), &env, &owner_password(&env, "acme").await).await;

    // The owner works from the registered line, where the line is the second factor.
    let mut line = reqwest::header::HeaderMap::new();
    line.insert("x-line-id", "CAF0000000001".parse().unwrap());
    let boss = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(LINE_HOST, env.addr())
        .local_address(CARRIER.parse::<std::net::IpAddr>().ok())
        .default_headers(line)
        .build()
        .unwrap();
    assert_eq!(login(&boss, &env, LINE_HOST, "boss@acme.example", PASSWORD, &[]).await.status(), 303);
    sudo(&boss, &env, LINE_HOST, PASSWORD).await;
    let page = boss.get(env.url(LINE_HOST, "/auth/settings/2fa")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    // A confirm screen in both directions: current and new setting.
    let r = boss
        .post(env.url(LINE_HOST, "/auth/settings/2fa"))
        .form(&[("state", "off"), ("step", "confirm"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let confirm = r.text().await.unwrap();
    assert!(confirm.contains("risk_accepted"), "turning off asks for the risk to be read:\n{confirm}");
    assert!(confirm.contains("On</td>") && confirm.contains("<strong>Off</strong>"), "{confirm}");
    assert!(confirm.contains("use that service"), "federated users are told apart:\n{confirm}");
    let r = boss
        .post(env.url(LINE_HOST, "/auth/settings/2fa"))
        .form(&[("state", "off"), ("step", "apply"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "off without reading the risk");
    let r = boss
        .post(env.url(LINE_HOST, "/auth/settings/2fa"))
        .form(&[("state", "off"), ("step", "apply"), ("risk_accepted", "1"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let out =
        env.ok(&["policy", "explain", "--host", ORDINARY, "--ip", INTERNET, "--user", "adm@acme.example", "--json"]);
    assert!(out.contains("two_factor_off"), "{out}");
    let r = boss
        .post(env.url(LINE_HOST, "/auth/settings/2fa"))
        .form(&[("state", "on"), ("step", "confirm"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let confirm = r.text().await.unwrap();
    assert!(confirm.contains("<strong>On</strong>") && !confirm.contains("risk_accepted"), "{confirm}");
    let r = boss
        .post(env.url(LINE_HOST, "/auth/settings/2fa"))
        .form(&[("state", "on"), ("step", "apply"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);

    // Lines: the format is named; duplicates and overlaps are explained.
    let adm = env.client(INTERNET);
    eventually("the CLI's 2FA switch reaches the gateway", || async {
        login(&adm, &env, ORDINARY, "adm@acme.example", PASSWORD, &[]).await;
        adm.get(env.url(ORDINARY, "/files")).send().await.map(|r| r.status() == 200).unwrap_or(false)
    })
    .await;
    sudo(&adm, &env, ORDINARY, PASSWORD).await;
    let r = post(&adm, &env, "/auth/settings/lines", &[("action", "add_line"), ("value", "CAF12")]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("13 characters"));
    let r = post(&adm, &env, "/auth/settings/lines", &[("action", "add_line"), ("value", "caf0000000001")]).await;
    assert!(r.text().await.unwrap().contains("already registered"));
    assert_eq!(
        post(&adm, &env, "/auth/settings/lines", &[("action", "add_line"), ("value", "cop1234abcd")]).await.status(),
        303
    );
    let r = post(&adm, &env, "/auth/settings/lines", &[("action", "add_network"), ("value", "10.0.1.0/24")]).await;
    assert!(r.text().await.unwrap().contains("already covered by the registered network 10.0.0.0/16"));
    assert_eq!(
        post(&adm, &env, "/auth/settings/lines", &[("action", "add_network"), ("value", "2001:db8::/48")])
            .await
            .status(),
        303
    );
    assert_eq!(
        post(&adm, &env, "/auth/settings/lines", &[("action", "remove_network"), ("value", "10.0.0.0/16")])
            .await
            .status(),
        303
    );
    let page = adm.get(env.url(ORDINARY, "/auth/settings/lines")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("COP1234ABCD") && page.contains("2001:db8::/48") && !page.contains("10.0.0.0/16"));
    // The change is policy at once.
    let out = env.ok(&[
        "policy",
        "explain",
        "--host",
        LINE_HOST,
        "--ip",
        CARRIER,
        "--line",
        "COP1234ABCD",
        "--user",
        "adm@acme.example",
        "--json",
    ]);
    assert!(out.contains("\"allow\""), "{out}");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_in_the_policy_file_are_read_only() {
    let Some(mut env) = Env::with_policy(
        Db::Sqlite,
        "tenants:\n  acme:\n    route: line-and-internet\n    two_factor: false\n    lines: [CAF0000000001]\n",
    )
    .await
    else {
        return;
    };
    env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example"]);
    let out = env.cli(&["tenant", "set-route", "acme", "line-only"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("managed by the operator"));
    env.start().await;
    let boss = env.client(INTERNET);
    set_password_via(&boss, &env, &owner_password(&env, "acme").await).await;
    assert_eq!(login(&boss, &env, ORDINARY, "boss@acme.example", PASSWORD, &[]).await.status(), 303);
    sudo(&boss, &env, ORDINARY, PASSWORD).await;
    for page in ["/auth/settings/route", "/auth/settings/2fa", "/auth/settings/lines"] {
        let text = boss.get(env.url(ORDINARY, page)).send().await.unwrap().text().await.unwrap();
        assert!(text.contains("managed by the service operator"), "{page}");
    }
    assert_eq!(
        post(&boss, &env, "/auth/settings/route", &[("route", "line-only"), ("step", "apply")]).await.status(),
        409
    );
    assert_eq!(
        post(&boss, &env, "/auth/settings/lines", &[("action", "add_line"), ("value", "CAF0000000002")]).await.status(),
        409
    );
    env.cleanup().await;
}

/// The command line goes through the same operations as the pages: the same
/// refusals, the same audit events, the owner told of a new network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_follows_the_pages_rules() {
    let Some(env) = Env::new(Db::Sqlite).await else { return };
    env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example"]);
    env.ok(&["tenant", "networks", "add", "acme", "10.0.0.0/16"]);
    let mail = env.wait_mail("boss@acme.example", "10.0.0.0/16", 1).await;
    assert!(mail.contains("command line"), "by whom and from where:\n{mail}");
    // Inside a registered network: refused, as on the page.
    let out = env.cli(&["tenant", "networks", "add", "acme", "10.0.1.0/24"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already covered by the registered network 10.0.0.0/16"), "{err}");
    let out = env.ok(&["tenant", "networks", "add", "acme", "10.0.0.0/16"]);
    assert!(out.contains("0 network(s) added, 1 already registered"), "{out}");
    env.ok(&["tenant", "lines", "add", "acme", "CAF0000000001", "cop1234abcd"]);
    env.ok(&["tenant", "lines", "remove", "acme", "COP1234ABCD"]);
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.ok(&["tenant", "set-route", "acme", "line-only"]);
    let audit = env.ok(&["audit", "--tenant", "acme"]);
    for event in ["network_added", "line_added", "line_removed", "2fa_off", "route_set:line-only"] {
        assert!(audit.contains(event), "{event}:\n{audit}");
    }
    assert!(audit.contains("CAF0000000001, COP1234ABCD"), "the lines are the subject:\n{audit}");
    assert_eq!(audit.matches("network_added").count(), 1, "nothing new, no event:\n{audit}");
}
