//! What the federated sign-in tests share (end-to-end and browser): a
//! gateway with the `google` (OpenID Connect) and `legacy` (OAuth 2.0)
//! buttons at one real test provider, a second provider standing in for a
//! tenant's directory, and walks through their pages.

#![allow(dead_code)]

pub use crate::oidc::{TestProvider, sign_in_at_provider};
use crate::support::*;

pub const PUBLIC_CLIENT: (&str, &str) = ("gateway", "gw-public-secret");
pub const DIRECTORY_CLIENT: (&str, &str) = ("gateway-dir", "gw-directory-secret");

pub struct Fed {
    pub env: Env,
    pub public: TestProvider,
    pub directory: TestProvider,
}

pub fn callbacks(env: &Env) -> Vec<String> {
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
            "login:\n  hash_concurrency: 2\n  directories_on_loopback: true\n  providers:\n\
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

/// Where a sign-in start sends the browser: a 303 (after a link), or a page
/// that goes on by itself (after a form, whose answer may not redirect off
/// the site under the pages' `form-action 'self'`).
pub async fn to_provider(start: reqwest::Response) -> String {
    match start.status().as_u16() {
        303 => location(&start),
        200 => {
            let page = start.text().await.unwrap();
            assert!(page.contains("http-equiv=\"refresh\""), "{page}");
            let marker = "id=\"continue\" class=\"button\" href=\"";
            let at = page.find(marker).unwrap_or_else(|| panic!("no way on: {page}")) + marker.len();
            page[at..].split('"').next().unwrap().replace("&#38;", "&").replace("&amp;", "&")
        }
        other => panic!("a sign-in start answered {other}: {}", start.text().await.unwrap_or_default()),
    }
}

/// The `Location` of a redirect.
pub fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// Follows a start answer (303 to the provider) through the provider's login
/// as `login`, and returns the callback URL the provider sends back, not yet
/// requested.
pub async fn through_provider(start: reqwest::Response, login: &str) -> String {
    let at_provider = to_provider(start).await;
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

pub fn has_session(r: &reqwest::Response) -> bool {
    set_cookie_pair(r, "gw_session").is_some_and(|c| c.len() > "gw_session=".len())
}

/// Re-authenticates a federated user for the settings at their provider.
pub async fn fed_sudo(c: &reqwest::Client, env: &Env, login: &str) {
    let gate = c.get(env.url(ORDINARY, "/auth/settings/login")).send().await.unwrap().text().await.unwrap();
    let r = c
        .post(env.url(ORDINARY, "/auth/settings/login"))
        .form(&[("csrf", csrf_from(&gate).as_str()), ("rd", "/auth/settings")])
        .send()
        .await
        .unwrap();
    let back = through_provider(r, login).await;
    assert_eq!(c.get(back).send().await.unwrap().status(), 303, "re-authenticated");
}
