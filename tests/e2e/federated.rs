//! Federated sign-in end to end: the real gateway and two real OpenID
//! providers (npm `oidc-provider`, started by the test): a public one
//! configured as the `google` button (and, as plain OAuth 2.0, `legacy`), and
//! one standing in for a tenant's own directory.

use crate::oidc::{TestProvider, sign_in_at_provider};
use crate::on_both_databases;
use crate::support::*;

const PUBLIC_CLIENT: (&str, &str) = ("gateway", "gw-public-secret");
const DIRECTORY_CLIENT: (&str, &str) = ("gateway-dir", "gw-directory-secret");

pub struct Fed {
    pub env: Env,
    pub public: TestProvider,
    pub directory: TestProvider,
}

fn callbacks(env: &Env) -> Vec<String> {
    vec![env.url(ORDINARY, "/auth/oidc/callback"), env.url(LINE_HOST, "/auth/oidc/callback")]
}

/// A gateway with the `google` (OpenID Connect) and `legacy` (OAuth 2.0)
/// buttons, both at the public test provider; None when Node is missing
/// outside CI.
pub async fn fed_env(db: Db) -> Option<Fed> {
    let env = Env::new(db).await?;
    let uris = callbacks(&env);
    let public = TestProvider::start(&[(PUBLIC_CLIENT.0, PUBLIC_CLIENT.1, &uris)])?;
    let directory = TestProvider::start(&[(DIRECTORY_CLIENT.0, DIRECTORY_CLIENT.1, &uris)])?;
    let issuer = public.issuer();
    env.tweak_config(
        "login:\n  hash_concurrency: 2\n",
        &format!(
            "login:\n  hash_concurrency: 2\n  providers:\n\
             \x20   - id: google\n      kind: oidc\n      issuer: \"{issuer}\"\n\
             \x20     client_id: \"{}\"\n      client_secret: \"{}\"\n\
             \x20     label: {{ en: \"Sign in with Google\", ja: \"Googleでログイン\" }}\n\
             \x20   - id: legacy\n      kind: oauth2\n\
             \x20     authorize_url: \"{issuer}/auth\"\n      token_url: \"{issuer}/token\"\n\
             \x20     userinfo_url: \"{issuer}/me\"\n      subject_field: sub\n\
             \x20     scopes: [openid]\n\
             \x20     client_id: \"{}\"\n      client_secret: \"{}\"\n\
             \x20     label: {{ en: \"Sign in with Legacy\", ja: \"Legacyでログイン\" }}\n",
            PUBLIC_CLIENT.0, PUBLIC_CLIENT.1, PUBLIC_CLIENT.0, PUBLIC_CLIENT.1
        ),
    );
    Some(Fed { env, public, directory })
}

/// A client for the provider's own pages: its own cookies, no redirects followed.
pub fn provider_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("provider client")
}

/// The `Location` of a redirect.
pub fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// Follows a start answer (303 to the provider) through the provider's login
/// as `login`, and returns the callback URL the provider sends back, not yet
/// requested.
pub async fn through_provider(start: reqwest::Response, login: &str) -> String {
    assert_eq!(start.status(), 303, "a sign-in start redirects to the provider");
    let at_provider = location(&start);
    assert!(at_provider.starts_with("http://127.0.0.1:"), "{at_provider}");
    sign_in_at_provider(&provider_client(), &at_provider, login).await
}

/// Signs `c` in with the `google` button on `host` as the provider account `login`.
pub async fn google_sign_in(
    c: &reqwest::Client,
    env: &Env,
    host: &str,
    login: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut start = c.get(env.url(host, "/auth/oidc/google?rd=/files/report.pdf"));
    for (k, v) in headers {
        start = start.header(*k, *v);
    }
    let callback = through_provider(start.send().await.unwrap(), login).await;
    let mut back = c.get(callback);
    for (k, v) in headers {
        back = back.header(*k, *v);
    }
    back.send().await.unwrap()
}

/// Registers the tenant's owner from the invitation the CLI printed, with the
/// provider account `login` at `method` (a provider id).
pub async fn register_owner_with(fed: &Fed, cli_out: &str, method: &str, login: &str) -> reqwest::Client {
    let env = &fed.env;
    let link = cli_out.lines().find(|l| l.contains("/auth/invite?ticket=")).unwrap().trim().to_owned();
    let link = link_path(&link, "/auth/invite?ticket=");
    let boss = env.client(INTERNET);
    let page = boss.get(env.url(ORDINARY, &link)).send().await.unwrap().text().await.unwrap();
    let r = boss
        .post(env.url(ORDINARY, &link))
        .form(&[("method", method), ("csrf", &csrf_from(&page))])
        .send()
        .await
        .unwrap();
    let callback = through_provider(r, login).await;
    let r = boss.get(callback).send().await.unwrap();
    assert_eq!(r.status(), 303, "registration ends signed in: {}", r.text().await.unwrap_or_default());
    boss
}

fn has_session(r: &reqwest::Response) -> bool {
    set_cookie_pair(r, "gw_session").is_some_and(|c| c.len() > "gw_session=".len())
}

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
    assert_eq!(c.get(env.url(ORDINARY, "/files/a")).send().await.unwrap().status(), 302, "still signed out");

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
    // The key set was fetched at the first sign-in; 30 s later a new key is
    // looked up when a token names it.
    tokio::time::sleep(std::time::Duration::from_secs(31)).await;
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
    let at_provider = location(&r);
    assert!(at_provider.contains("prompt=login"), "{at_provider}");
    // Someone else's provider account does not open the settings.
    let wrong = through_provider(r, "mallory").await;
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
