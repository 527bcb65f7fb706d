//! Federated sign-in end to end: the real gateway and two real OpenID
//! providers (npm `oidc-provider`, started by the test): a public one
//! configured as the `google` button (and, as plain OAuth 2.0, `legacy`), and
//! one standing in for a tenant's own directory.

use crate::fed::*;
use crate::on_both_databases;
use crate::support::*;

async fn registration_and_sign_in_through_a_provider(db: Db) {
    let Some(mut fed) = fed_env(db).await else { return };
    let out = fed.env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example", "--plan", "basic"]);
    fed.env.ok(&["tenant", "lines", "add", "acme", "CAF0000000001"]);
    fed.env.start().await;
    let env = &fed.env;

    // The login page shows the buttons in the configured order, then the directory.
    let page = env.client(INTERNET).get(env.url(ORDINARY, "/auth/login")).send().await.unwrap().text().await.unwrap();
    let (g, l, ad) = (page.find("Sign in with Google"), page.find("Sign in with Legacy"), page.find("/auth/ad?rd="));
    assert!(g.is_some() && l.is_some() && ad.is_some(), "{page}");
    assert!(g < l && l < ad, "buttons out of order");

    // The owner registers with the provider account "boss-at-google"; the
    // tenant's 2FA switch is on, and does not apply to a federated user.
    let boss = register_owner_with(&fed, &out, "google", "boss-at-google").await;
    let echo = Echo::from(boss.get(env.url(ORDINARY, "/files/a")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-user"), Some("boss@acme.example"));
    assert_eq!(echo.get("x-auth-method"), Some("google"));

    // A fresh browser signs in with the button and lands where it was going.
    let c = env.client(INTERNET);
    let r = google_sign_in(&c, env, ORDINARY, "boss-at-google", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/files/report.pdf");
    let echo = Echo::from(c.get(env.url(ORDINARY, "/files/a")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-method"), Some("google"));
    assert!(echo.get("cookie").is_none_or(|c| !c.contains("gateway_fed")), "the flow cookie stays ours");
    // The password form knows no password for them.
    assert_eq!(login(&env.client(INTERNET), env, ORDINARY, "boss@acme.example", "", &[]).await.status(), 401);

    // The line-auth hostname: the line check applies as for everyone.
    let line = env.client(CARRIER);
    let r = google_sign_in(&line, env, LINE_HOST, "boss-at-google", &[("x-line-id", "CAF0000000001")]).await;
    assert_eq!(r.status(), 303, "signed in on a registered line");
    let echo =
        Echo::from(line.get(env.url(LINE_HOST, "/files/a")).header("x-line-id", "CAF0000000001").send().await.unwrap())
            .await;
    assert_eq!(echo.get("x-auth-method"), Some("google"));
    assert_eq!(echo.get("x-auth-line"), Some("CAF0000000001"));
    let off_line = env.client(CARRIER);
    let r = google_sign_in(&off_line, env, LINE_HOST, "boss-at-google", &[("x-line-id", "CAF0000000009")]).await;
    assert_eq!(r.status(), 403, "an unregistered line is refused");
    assert!(!has_session(&r));

    // `policy explain` says what the proxy said.
    let v: serde_json::Value = serde_json::from_str(&env.ok(&[
        "policy",
        "explain",
        "--host",
        ORDINARY,
        "--ip",
        INTERNET,
        "--path",
        "/files/a",
        "--user",
        "boss@acme.example",
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["outcome"], "allow");
    assert_eq!(v["identity"]["method"], "google");

    // Every step is in the audit log, with a hash of the subject, never the subject.
    let audit = env.ok(&["audit", "--tenant", "acme"]);
    assert!(audit.contains("login_method_bound:google:"), "{audit}");
    assert!(audit.contains("federated_login:google:"), "{audit}");
    assert!(!audit.contains("boss-at-google"), "the raw subject is never logged");
    fed.env.cleanup().await;
}
on_both_databases!(registration_and_sign_in_through_a_provider);

/// An account nobody registered gets a page that says so and whom to ask,
/// whatever address the provider reports for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbound_accounts_and_the_email_claim() {
    let Some(mut fed) = fed_env(Db::Sqlite).await else { return };
    let out = fed.env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example", "--plan", "basic"]);
    fed.env.start().await;
    let _boss = register_owner_with(&fed, &out, "google", "boss-at-google").await;
    let env = &fed.env;

    // Mallory's provider account claims the owner's address.
    fed.public.set_account("mallory", "boss@acme.example");
    let c = env.client(INTERNET);
    let r = google_sign_in(&c, env, ORDINARY, "mallory", &[]).await;
    assert_eq!(r.status(), 403);
    assert!(!has_session(&r));
    let page = r.text().await.unwrap();
    assert!(page.contains("not registered") && page.contains("administrator"), "{page}");
    assert!(!page.contains("boss@acme.example"), "nothing about other accounts");
    assert_eq!(c.get(env.url(ORDINARY, "/files/a")).send().await.unwrap().status(), 401, "still signed out");

    // Through the OAuth 2.0 button (subject from the userinfo answer): an
    // account nobody registered is refused the same way.
    let r = c.get(env.url(ORDINARY, "/auth/oidc/legacy")).send().await.unwrap();
    let callback = through_provider(r, "nobody-here").await;
    let r = c.get(callback).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(!has_session(&r));
    let audit = env.ok(&["audit", "--tenant", "acme"]);
    assert!(!audit.contains("mallory"), "{audit}");
    fed.env.cleanup().await;
}

/// `state` works once, for 10 minutes, in the browser that started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_is_single_use_fresh_and_bound_to_the_browser() {
    let Some(mut fed) = fed_env(Db::Sqlite).await else { return };
    fed.env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example", "--plan", "basic"]);
    fed.env.start().await;

    // Unknown state.
    let c = fed.env.client(INTERNET);
    let r = c.get(fed.env.url(ORDINARY, "/auth/oidc/callback?code=x&state=AAAA")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = c.get(fed.env.url(ORDINARY, "/auth/oidc/callback")).send().await.unwrap();
    assert_eq!(r.status(), 400);

    // Another browser presents the callback: refused, and the state is spent.
    let start = c.get(fed.env.url(ORDINARY, "/auth/oidc/google")).send().await.unwrap();
    let callback = through_provider(start, "boss-at-google").await;
    let thief = fed.env.client("127.0.0.9");
    let r = thief.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(!has_session(&r));
    let r = c.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 400, "a state works once, whoever used it");

    // Used twice by the right browser: the first gets as far as the account
    // (nobody's: 403), the second is refused before that.
    let start = c.get(fed.env.url(ORDINARY, "/auth/oidc/google")).send().await.unwrap();
    let callback = through_provider(start, "boss-at-google").await;
    assert_eq!(c.get(&callback).send().await.unwrap().status(), 403);
    assert_eq!(c.get(&callback).send().await.unwrap().status(), 400);
    let again = fed.env.client(INTERNET);
    assert_eq!(again.get(&callback).send().await.unwrap().status(), 400);

    // Expired: 11 minutes pass between the start and the callback.
    let late = fed.env.client(INTERNET);
    let start = late.get(fed.env.url(ORDINARY, "/auth/oidc/google")).send().await.unwrap();
    let callback = through_provider(start, "boss-at-google").await;
    fed.env.restart_with(&[("GATEWAY_CLOCK_OFFSET", "660")]).await;
    let r = late.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(!has_session(&r));
    fed.env.cleanup().await;
}

/// A provider answer that fails a check signs nobody in; a key rotated at the
/// provider is picked up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_and_rotated_keys_accepted() {
    let Some(mut fed) = fed_env(Db::Sqlite).await else { return };
    fed.env.start().await;
    // A good answer for an account nobody registered is 403; a bad one 502.
    let c = fed.env.client(INTERNET);
    assert_eq!(google_sign_in(&c, &fed.env, ORDINARY, "someone", &[]).await.status(), 403);
    for (mode, check) in [
        ("wrong_aud", "audience"),
        ("wrong_iss", "issuer"),
        ("wrong_nonce", "nonce"),
        ("expired", "expired"),
        ("alg_none", "algorithm"),
    ] {
        fed.public.mischief(mode);
        let c = fed.env.client(INTERNET);
        let r = google_sign_in(&c, &fed.env, ORDINARY, "someone", &[]).await;
        assert_eq!(r.status(), 502, "{mode}");
        assert!(!has_session(&r), "{mode}");
        // Refused by the check meant to catch it, not by some other one.
        let log = fed.env.log();
        assert!(log.contains(&format!("the ID token was refused: {check}")), "{mode}: {log}");
    }
    // The key set was fetched at the first sign-in; a token naming a new key
    // makes it be fetched again.
    fed.public.mischief("rotate");
    let c = fed.env.client(INTERNET);
    let r = google_sign_in(&c, &fed.env, ORDINARY, "someone", &[]).await;
    assert_eq!(r.status(), 403, "a rotated key is fetched and accepted");
    fed.env.cleanup().await;
}

/// The settings gate of a federated user signs in at the provider again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_users_reauthenticate_at_their_provider() {
    let Some(mut fed) = fed_env(Db::Sqlite).await else { return };
    let out = fed.env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example", "--plan", "basic"]);
    fed.env.start().await;
    let boss = register_owner_with(&fed, &out, "google", "boss-at-google").await;
    let env = &fed.env;
    let r = boss.get(env.url(ORDINARY, "/auth/settings")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let gate = boss.get(env.url(ORDINARY, &location(&r))).send().await.unwrap().text().await.unwrap();
    assert!(gate.contains("Continue with") && gate.contains("Sign in with Google"), "{gate}");
    assert!(!gate.contains("type=\"password\""), "no password to ask for");
    let r = boss
        .post(env.url(ORDINARY, "/auth/settings/login"))
        .form(&[("csrf", csrf_from(&gate).as_str()), ("rd", "/auth/settings")])
        .send()
        .await
        .unwrap();
    let at_provider = to_provider(r).await;
    assert!(at_provider.contains("prompt=login"), "{at_provider}");
    // Someone else's provider account does not open the settings.
    let wrong = sign_in_at_provider(&provider_client(), &at_provider, "mallory").await;
    assert_eq!(boss.get(wrong).send().await.unwrap().status(), 403);
    assert_eq!(boss.get(env.url(ORDINARY, "/auth/settings")).send().await.unwrap().status(), 303);

    let gate = boss.get(env.url(ORDINARY, "/auth/settings/login")).send().await.unwrap().text().await.unwrap();
    let r = boss
        .post(env.url(ORDINARY, "/auth/settings/login"))
        .form(&[("csrf", csrf_from(&gate).as_str()), ("rd", "/auth/settings")])
        .send()
        .await
        .unwrap();
    let back = through_provider(r, "boss-at-google").await;
    let r = boss.get(back).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/auth/settings");
    assert_eq!(boss.get(env.url(ORDINARY, "/auth/settings")).send().await.unwrap().status(), 200);
    fed.env.cleanup().await;
}

/// A tenant's own directory: the owner connects it, users register and sign
/// in through it with the connection id, a wrong id is refused.
async fn directory_sign_in(db: Db) {
    let Some(mut fed) = fed_env(db).await else { return };
    let out = fed.env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example", "--plan", "basic"]);
    fed.env.ok(&["tenant", "lines", "add", "acme", "CAF0000000002"]);
    fed.env.start().await;
    let boss = register_owner_with(&fed, &out, "google", "boss-at-google").await;
    let env = &fed.env;
    fed_sudo(&boss, env, "boss-at-google").await;

    let page = boss.get(env.url(ORDINARY, "/auth/settings/directory")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = csrf_from(&page.text().await.unwrap());
    let issuer = fed.directory.issuer();
    let r = boss
        .post(env.url(ORDINARY, "/auth/settings/directory"))
        .form(&[
            ("issuer", issuer.as_str()),
            ("client_id", DIRECTORY_CLIENT.0),
            ("client_secret", DIRECTORY_CLIENT.1),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
    let mail = env.wait_mail("boss@acme.example", "/auth/ad/adfs-", 1).await;
    let at = mail.find("adfs-").unwrap();
    let id: String = mail[at..].chars().take(23).collect();
    assert!(id[5..].chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
    assert!(mail.contains(&env.url(ORDINARY, &format!("/auth/ad/{id}"))), "{mail}");
    assert!(mail.contains(&env.url(LINE_HOST, &format!("/auth/ad/{id}"))), "{mail}");
    assert!(!mail.contains(DIRECTORY_CLIENT.1), "the secret is never mailed");

    // Bob is invited and registers through the directory: the id is asked.
    let page = boss.get(env.url(ORDINARY, "/auth/admin/users")).send().await.unwrap().text().await.unwrap();
    let r = boss
        .post(env.url(ORDINARY, "/auth/admin/users"))
        .form(&[("email", "bob@acme.example"), ("role", "user"), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mail = env.wait_mail("bob@acme.example", "/auth/invite?ticket=", 1).await;
    let link = link_path(&mail, "/auth/invite?ticket=");
    let bob = env.client("127.0.0.5");
    let page = bob.get(env.url(ORDINARY, &link)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("value=\"ad\""), "the directory is offered once the tenant has one");
    let csrf = csrf_from(&page);
    let wrong = bob
        .post(env.url(ORDINARY, &link))
        .form(&[("method", "ad"), ("connection_id", "adfs-000000000000000000"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400, "a wrong connection id is refused");
    let page = bob.get(env.url(ORDINARY, &link)).send().await.unwrap().text().await.unwrap();
    let r = bob
        .post(env.url(ORDINARY, &link))
        .form(&[("method", "ad"), ("connection_id", id.as_str()), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    let at_directory = to_provider(r).await;
    assert!(at_directory.starts_with(&issuer), "to the tenant's directory: {at_directory}");
    let back = sign_in_at_provider(&provider_client(), &at_directory, "bob-in-ad").await;
    assert_eq!(bob.get(back).send().await.unwrap().status(), 303);
    let echo = Echo::from(bob.get(env.url(ORDINARY, "/files/b")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-user"), Some("bob@acme.example"));
    assert_eq!(echo.get("x-auth-method"), Some("ad"));

    // Later: the mailed URL, and the login page's button with the id typed in.
    let c = env.client("127.0.0.6");
    let back =
        through_provider(c.get(env.url(ORDINARY, &format!("/auth/ad/{id}"))).send().await.unwrap(), "bob-in-ad").await;
    assert_eq!(c.get(back).send().await.unwrap().status(), 303);
    let c = env.client("127.0.0.7");
    let page = c.get(env.url(ORDINARY, "/auth/ad")).send().await.unwrap().text().await.unwrap();
    let r = c
        .post(env.url(ORDINARY, "/auth/ad"))
        .form(&[("connection_id", id.as_str()), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    let back = through_provider(r, "bob-in-ad").await;
    assert_eq!(c.get(back).send().await.unwrap().status(), 303);
    // On the line-auth hostname, from a registered line, with the same URL.
    let line = env.client(CARRIER);
    let start = line
        .get(env.url(LINE_HOST, &format!("/auth/ad/{id}")))
        .header("x-line-id", "CAF0000000002")
        .send()
        .await
        .unwrap();
    let back = through_provider(start, "bob-in-ad").await;
    assert_eq!(line.get(back).header("x-line-id", "CAF0000000002").send().await.unwrap().status(), 303);
    let r = line.get(env.url(LINE_HOST, "/files/b")).header("x-line-id", "CAF0000000002").send().await.unwrap();
    let echo = Echo::from(r).await;
    assert_eq!((echo.get("x-auth-method"), echo.get("x-auth-line")), (Some("ad"), Some("CAF0000000002")));
    // The directory account does not sign in through the public provider's button.
    let c = env.client("127.0.0.8");
    assert_eq!(google_sign_in(&c, env, ORDINARY, "bob-in-ad", &[]).await.status(), 403);
    fed.env.cleanup().await;
}
on_both_databases!(directory_sign_in);

/// Changing the login method: the owner's own setting, and an admin's
/// emailed link, each finished at the provider; the old credentials go;
/// two accounts of one provider are not swapped directly.
async fn login_method_changes(db: Db) {
    let Some(mut fed) = fed_env(db).await else { return };
    let out = fed.env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example", "--plan", "basic"]);
    fed.env.ok(&["tenant", "set-2fa", "acme", "off"]);
    fed.env.start().await;
    let env = &fed.env;
    let link = out.lines().find(|l| l.contains("/auth/invite?ticket=")).unwrap().trim().to_owned();
    let boss = env.client(INTERNET);
    let page = boss.get(env.url(ORDINARY, &link_path(&link, "/auth/invite?ticket="))).send().await.unwrap();
    let csrf = csrf_from(&page.text().await.unwrap());
    let r = boss
        .post(env.url(ORDINARY, &link_path(&link, "/auth/invite?ticket=")))
        .form(&[("method", "password"), ("password", PASSWORD), ("password_confirm", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(login(&boss, env, ORDINARY, "boss@acme.example", PASSWORD, &[]).await.status(), 303);

    // The owner moves to Google from the settings.
    sudo(&boss, env, ORDINARY, PASSWORD).await;
    let page = boss.get(env.url(ORDINARY, "/auth/settings/login-method")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let r = boss
        .post(env.url(ORDINARY, "/auth/settings/login-method"))
        .form(&[("method", "google"), ("csrf", &csrf_from(&page.text().await.unwrap()))])
        .send()
        .await
        .unwrap();
    let back = through_provider(r, "boss-at-google").await;
    assert_eq!(boss.get(back).send().await.unwrap().status(), 303, "switched and signed in");
    let echo = Echo::from(boss.get(env.url(ORDINARY, "/files/a")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-method"), Some("google"));
    assert_eq!(
        login(&env.client(INTERNET), env, ORDINARY, "boss@acme.example", PASSWORD, &[]).await.status(),
        401,
        "the password is gone"
    );
    env.wait_mail("boss@acme.example", "Google", 1).await;

    // Bob registers with a password; the owner mails him a login-method link.
    fed_sudo(&boss, env, "boss-at-google").await;
    let page = boss.get(env.url(ORDINARY, "/auth/admin/users")).send().await.unwrap().text().await.unwrap();
    let r = boss
        .post(env.url(ORDINARY, "/auth/admin/users"))
        .form(&[("email", "bob@acme.example"), ("role", "user"), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mail = env.wait_mail("bob@acme.example", "/auth/invite?ticket=", 1).await;
    let invite = link_path(&mail, "/auth/invite?ticket=");
    let bob = env.client("127.0.0.5");
    let page = bob.get(env.url(ORDINARY, &invite)).send().await.unwrap().text().await.unwrap();
    let r = bob
        .post(env.url(ORDINARY, &invite))
        .form(&[
            ("method", "password"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("csrf", &csrf_from(&page)),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let send_link = async || {
        let page = boss.get(env.url(ORDINARY, "/auth/admin/users")).send().await.unwrap().text().await.unwrap();
        let r = boss
            .post(env.url(ORDINARY, "/auth/admin/users/action"))
            .form(&[("user", "bob@acme.example"), ("action", "login-method"), ("csrf", &csrf_from(&page))])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
    };
    send_link().await;
    let mail = env.wait_mail("bob@acme.example", "/auth/login-method?ticket=", 1).await;
    let link = link_path(&mail, "/auth/login-method?ticket=");
    let page = bob.get(env.url(ORDINARY, &link)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("sign out"), "advice to sign out of the provider first");
    let r = bob
        .post(env.url(ORDINARY, &link))
        .form(&[("method", "legacy"), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    let back = through_provider(r, "bob-legacy").await;
    assert_eq!(bob.get(back).send().await.unwrap().status(), 303);
    let echo = Echo::from(bob.get(env.url(ORDINARY, "/files/b")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-method"), Some("legacy"));
    assert_eq!(login(&env.client("127.0.0.5"), env, ORDINARY, "bob@acme.example", PASSWORD, &[]).await.status(), 401);
    assert_eq!(bob.get(env.url(ORDINARY, &link)).send().await.unwrap().status(), 410, "the link is used up");

    // Another account of the same provider: refused, switch through another method.
    send_link().await;
    let mail = env.wait_mail("bob@acme.example", "/auth/login-method?ticket=", 2).await;
    let link = link_path(&mail, "/auth/login-method?ticket=");
    let page = bob.get(env.url(ORDINARY, &link)).send().await.unwrap().text().await.unwrap();
    let r = bob
        .post(env.url(ORDINARY, &link))
        .form(&[("method", "legacy"), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "refused before any trip to the provider");
    assert!(r.text().await.unwrap().contains("another sign-in method"));
    let c = env.client("127.0.0.6");
    let r = c.get(env.url(ORDINARY, "/auth/oidc/legacy")).send().await.unwrap();
    let back = through_provider(r, "bob-legacy").await;
    assert_eq!(c.get(back).send().await.unwrap().status(), 303, "still the first account");
    // The owner, now on Google, changes their address without any password:
    // the settings gate was the provider's sign-in.
    fed_sudo(&boss, env, "boss-at-google").await;
    let page = boss.get(env.url(ORDINARY, "/auth/email/change")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("current_password"), "no password to ask for");
    let r = boss
        .post(env.url(ORDINARY, "/auth/email/change"))
        .form(&[
            ("new_email", "chief@acme.example"),
            ("new_email_confirm", "chief@acme.example"),
            ("csrf", &csrf_from(&page)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mail = env.wait_mail("chief@acme.example", "/auth/email/confirm?ticket=", 1).await;
    let confirm = link_path(&mail, "/auth/email/confirm?ticket=");
    let page = boss.get(env.url(ORDINARY, &confirm)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("name=\"password\""), "no password to set");
    let r = boss.post(env.url(ORDINARY, &confirm)).form(&[("csrf", csrf_from(&page))]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let c = env.client("127.0.0.9");
    let back =
        through_provider(c.get(env.url(ORDINARY, "/auth/oidc/google")).send().await.unwrap(), "boss-at-google").await;
    assert_eq!(c.get(back).send().await.unwrap().status(), 303, "the same provider account, the new address");
    let echo = Echo::from(c.get(env.url(ORDINARY, "/files/c")).send().await.unwrap()).await;
    assert_eq!(echo.get("x-auth-user"), Some("chief@acme.example"));

    let audit = env.ok(&["audit", "--tenant", "acme"]);
    assert!(audit.contains("login_method_changed:google:"), "{audit}");
    assert!(audit.contains("login_method_changed:legacy:"), "{audit}");
    assert!(audit.contains("login_method_refused:legacy:same_provider_other_account"), "{audit}");
    fed.env.cleanup().await;
}
on_both_databases!(login_method_changes);

/// Break-glass for an owner who signs in through a provider: under
/// `line-only`, from the internet, the provider's sign-in alone does not
/// open the settings; the mailed code must follow, as for a password owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_for_a_federated_owner_needs_the_mailed_code() {
    let Some(mut fed) = fed_env(Db::Sqlite).await else { return };
    let out = fed.env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example", "--plan", "basic"]);
    fed.env.ok(&["tenant", "lines", "add", "acme", "CAF0000000001"]);
    fed.env.start().await;
    let boss = register_owner_with(&fed, &out, "google", "boss-at-google").await;
    let env = &fed.env;
    env.ok(&["tenant", "set-route", "acme", "line-only"]);
    eventually("line-only in force", || async {
        boss.get(env.url(ORDINARY, "/files/a")).send().await.unwrap().status() == 403
    })
    .await;

    let gate = boss.get(env.url(ORDINARY, "/auth/settings/login?rd=/auth/settings")).send().await.unwrap();
    assert_eq!(gate.status(), 200, "the owner reaches the re-authentication (break-glass)");
    let r = boss
        .post(env.url(ORDINARY, "/auth/settings/login"))
        .form(&[("csrf", csrf_from(&gate.text().await.unwrap()).as_str()), ("rd", "/auth/settings")])
        .send()
        .await
        .unwrap();
    let back = through_provider(r, "boss-at-google").await;
    let r = boss.get(back).send().await.unwrap();
    assert_eq!(r.status(), 200, "the provider's sign-in alone: a code page, not the settings");
    assert!(r.text().await.unwrap().contains("name=\"step\" value=\"code\""));
    let route = boss.get(env.url(ORDINARY, "/auth/settings/route")).send().await.unwrap();
    assert_eq!(route.status(), 303, "the route page stays closed");

    let mail = env.wait_mail("boss@acme.example", "Confirmation code", 1).await;
    let code: String =
        mail.split(|c: char| !c.is_ascii_digit()).find(|t| t.len() == 6).expect("a code in the mail").to_owned();
    let r =
        post_form(&boss, env, "/auth/settings/login", &[("step", "code"), ("code", &code), ("rd", "/auth/settings")])
            .await;
    assert_eq!(r.status(), 303, "the mailed code opens the gate");
    assert_eq!(boss.get(env.url(ORDINARY, "/auth/settings/route")).send().await.unwrap().status(), 200);
    fed.env.cleanup().await;
}

/// In a region that asks consent before line information is used, a
/// federated user consents once like anyone, and the session that follows
/// carries their provider, not a password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_consent_for_a_federated_user() {
    let Some(mut fed) = fed_env(Db::Sqlite).await else { return };
    let out = fed.env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example", "--plan", "basic"]);
    fed.env.ok(&["tenant", "lines", "add", "acme", "COP12345678"]);
    fed.env.start().await;
    let _boss = register_owner_with(&fed, &out, "google", "boss-at-google").await;
    let env = &fed.env;
    let carrier = env.client(CARRIER);
    let headers = [("x-line-id", "COP12345678"), ("x-line-region", "west")];
    let r = google_sign_in(&carrier, env, LINE_HOST, "boss-at-google", &headers).await;
    assert_eq!(r.status(), 200, "the consent screen");
    let page = r.text().await.unwrap();
    assert!(page.contains("COP12345678") && page.contains("name=\"agree\""), "{page}");
    let r = carrier
        .post(env.url(LINE_HOST, "/auth/line-consent"))
        .headers(headers.iter().map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap())).collect())
        .form(&[("agree", "1"), ("rd", "/files"), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = carrier.get(env.url(LINE_HOST, "/files")).header("x-line-id", "COP12345678").send().await.unwrap();
    let echo = Echo::from(r).await;
    assert_eq!(echo.get("x-auth-method"), Some("google"));
    assert_eq!(echo.get("x-auth-line"), Some("COP12345678"));
    fed.env.cleanup().await;
}

/// A stranger cannot make the gateway store flows or call providers without
/// limit: every start counts toward the per-address sign-in throttle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_starts_are_throttled_per_address() {
    let Some(mut fed) = fed_env(Db::Sqlite).await else { return };
    fed.env.start().await;
    let c = fed.env.client("127.0.0.11");
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(c.get(fed.env.url(ORDINARY, "/auth/oidc/google")).send().await.unwrap().status().as_u16());
    }
    assert!(statuses.iter().take(20).all(|s| *s == 303), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    // Another address is not held up by it.
    let other = fed.env.client("127.0.0.12");
    assert_eq!(other.get(fed.env.url(ORDINARY, "/auth/oidc/google")).send().await.unwrap().status(), 303);
    fed.env.cleanup().await;
}
