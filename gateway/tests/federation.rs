//! The protocol client (`gateway::federation`) against the real OpenID
//! provider the tests start (`tests/oidc/provider.js`, npm `oidc-provider`):
//! a "public" provider and a "directory" one, each with its own client. What
//! the provider cannot be made to do wrong (an insecure or mismatched
//! discovery document, a redirect, an oversized answer) is served by a
//! small fake server on a loopback port instead.
//!
//! Without Node or `tests/oidc/node_modules` the provider tests print that
//! they were skipped, unless `CI` is set, in which case they fail.

#[path = "../../tests/e2e/support.rs"]
mod support;

#[path = "../../tests/support/oidc.rs"]
mod oidc;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gateway::federation::{FedError, FederatedId, Federation, FlowSecrets, Protocol, ProviderSpec};
use gateway::tokens::random_token;
use oidc::{TestProvider, sign_in_at_provider};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where the provider sends the browser back; never requested by these tests.
const REDIRECT: &str = "http://gateway.localhost:9/auth/oidc/callback";
const PUBLIC: (&str, &str) = ("gateway", "gw-public-secret");
const DIRECTORY: (&str, &str) = ("gateway-dir", "gw-directory-secret");

struct Providers {
    public: TestProvider,
    directory: TestProvider,
}

fn start() -> Option<Providers> {
    let uris = [REDIRECT.to_owned()];
    let public = TestProvider::start(&[(PUBLIC.0, PUBLIC.1, &uris)])?;
    let directory = TestProvider::start(&[(DIRECTORY.0, DIRECTORY.1, &uris)])?;
    Some(Providers { public, directory })
}

fn oidc_spec(p: &TestProvider) -> ProviderSpec {
    ProviderSpec {
        id: "google".into(),
        protocol: Protocol::Oidc { issuer: p.issuer() },
        client_id: PUBLIC.0.into(),
        client_secret: Some(PUBLIC.1.into()),
        scopes: vec!["openid".into(), "email".into()],
        loopback: true,
    }
}

fn oauth2_spec(p: &TestProvider, subject_field: &str) -> ProviderSpec {
    let issuer = p.issuer();
    ProviderSpec {
        id: "legacy".into(),
        protocol: Protocol::OAuth2 {
            authorize_url: format!("{issuer}/auth"),
            token_url: format!("{issuer}/token"),
            userinfo_url: format!("{issuer}/me"),
            subject_field: subject_field.into(),
        },
        client_id: PUBLIC.0.into(),
        client_secret: Some(PUBLIC.1.into()),
        scopes: vec!["openid".into(), "email".into()],
        loopback: true,
    }
}

fn fresh_flow() -> FlowSecrets {
    FlowSecrets { state: random_token(), nonce: random_token(), pkce_verifier: random_token() }
}

/// A browser at the provider: its own cookies, redirects not followed.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("provider client")
}

fn param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// Sends `browser` through the provider as `login` and returns the code the
/// provider hands back, after checking it came back to us with our state.
async fn sign_in(
    fed: &Federation,
    spec: &ProviderSpec,
    flow: &FlowSecrets,
    browser: &reqwest::Client,
    login: &str,
    reauth: bool,
) -> String {
    let url = fed.authorize_url(spec, REDIRECT, flow, reauth).await.expect("authorization URL");
    let back = sign_in_at_provider(browser, &url, login).await;
    assert!(back.starts_with(REDIRECT), "the provider sent the browser to {back}");
    assert_eq!(param(&back, "state").as_deref(), Some(flow.state.as_str()), "{back}");
    param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"))
}

/// A whole sign-in: authorization URL, the provider's pages, the code exchanged.
async fn sign_in_and_finish(fed: &Federation, spec: &ProviderSpec, login: &str) -> Result<FederatedId, FedError> {
    let flow = fresh_flow();
    let code = sign_in(fed, spec, &flow, &browser(), login, false).await;
    fed.finish(spec, REDIRECT, &code, &flow, None).await
}

fn code_of(r: Result<FederatedId, FedError>) -> &'static str {
    match r {
        Ok(id) => panic!("accepted: {id:?}"),
        Err(e) => e.code(),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_sign_in_names_the_account_at_each_provider() {
    let Some(p) = start() else { return };
    let fed = Federation::new().expect("federation");
    let spec = oidc_spec(&p.public);
    let flow = fresh_flow();

    let url = fed.authorize_url(&spec, REDIRECT, &flow, false).await.expect("authorization URL");
    assert!(url.starts_with(&format!("{}/", p.public.issuer())), "{url}");
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "client_id").as_deref(), Some(PUBLIC.0));
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(REDIRECT));
    assert_eq!(param(&url, "scope").as_deref(), Some("openid email"));
    assert_eq!(param(&url, "nonce").as_deref(), Some(flow.nonce.as_str()));
    assert_eq!(param(&url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param(&url, "code_challenge"), Some(flow.pkce_challenge()));
    assert!(!url.contains(&flow.pkce_verifier), "the verifier stays with us");
    assert_eq!(param(&url, "prompt"), None);

    let code = sign_in(&fed, &spec, &flow, &browser(), "alice", false).await;
    let id = fed.finish(&spec, REDIRECT, &code, &flow, None).await.expect("signed in");
    assert_eq!(id.subject, "alice");
    assert_eq!(id.issuer, p.public.issuer());
    assert_eq!(id.email.as_deref(), Some("alice@provider.test"));
    assert!(id.auth_time.is_some_and(|t| (t - now()).abs() < 120), "{id:?}");

    // A code is good once.
    assert_eq!(code_of(fed.finish(&spec, REDIRECT, &code, &flow, None).await), "exchange");
    // A code nobody was given.
    assert_eq!(code_of(fed.finish(&spec, REDIRECT, "not-a-code", &flow, None).await), "exchange");
    // A code with another flow's PKCE verifier: the provider refuses it.
    let flow = fresh_flow();
    let code = sign_in(&fed, &spec, &flow, &browser(), "alice", false).await;
    let other = FlowSecrets { pkce_verifier: random_token(), state: flow.state.clone(), nonce: flow.nonce.clone() };
    assert_eq!(code_of(fed.finish(&spec, REDIRECT, &code, &other, None).await), "exchange");
    // A token with the nonce of another flow: we refuse it.
    let flow = fresh_flow();
    let code = sign_in(&fed, &spec, &flow, &browser(), "alice", false).await;
    let other =
        FlowSecrets { nonce: random_token(), state: flow.state.clone(), pkce_verifier: flow.pkce_verifier.clone() };
    assert_eq!(code_of(fed.finish(&spec, REDIRECT, &code, &other, None).await), "nonce");

    // The directory: its own issuer, client and scopes; the e-mail claim as the
    // provider reports it.
    p.directory.set_account("bob", "bob@corp.example");
    // A directory is an owner's entry: off loopback unless the gateway's
    // configuration allows it (tests).
    let dir = ProviderSpec::directory(&p.directory.issuer(), DIRECTORY.0, DIRECTORY.1);
    let refused = fed.authorize_url(&dir, REDIRECT, &fresh_flow(), false).await.err().map(|e| e.code());
    assert_eq!(refused, Some("insecure_url"), "a directory on loopback is refused by default");
    let dir = ProviderSpec { loopback: true, ..dir };
    let flow = fresh_flow();
    let url = fed.authorize_url(&dir, REDIRECT, &flow, false).await.expect("authorization URL");
    assert_eq!(param(&url, "scope").as_deref(), Some("openid email profile"));
    let code = sign_in(&fed, &dir, &flow, &browser(), "bob", false).await;
    let id = fed.finish(&dir, REDIRECT, &code, &flow, None).await.expect("signed in at the directory");
    assert_eq!((id.issuer.as_str(), id.subject.as_str()), (p.directory.issuer().as_str(), "bob"));
    assert_eq!(id.email.as_deref(), Some("bob@corp.example"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_sign_in_takes_the_account_from_userinfo() {
    let Some(p) = start() else { return };
    let fed = Federation::new().expect("federation");
    let spec = oauth2_spec(&p.public, "sub");
    let flow = fresh_flow();
    let url = fed.authorize_url(&spec, REDIRECT, &flow, false).await.expect("authorization URL");
    assert!(url.starts_with(&format!("{}/auth?", p.public.issuer())), "{url}");
    assert_eq!(param(&url, "nonce"), None, "plain OAuth 2.0 has no nonce");
    assert_eq!(param(&url, "code_challenge"), Some(flow.pkce_challenge()));

    let code = sign_in(&fed, &spec, &flow, &browser(), "carol", false).await;
    let id = fed.finish(&spec, REDIRECT, &code, &flow, None).await.expect("signed in");
    assert_eq!(id.subject, "carol");
    assert_eq!(id.issuer, p.public.issuer(), "the authorization URL's origin");
    assert_eq!(id.email.as_deref(), Some("carol@provider.test"));

    assert_eq!(code_of(fed.finish(&spec, REDIRECT, "not-a-code", &flow, None).await), "exchange");
    // The configured field is not in the answer: nobody is named.
    let spec = oauth2_spec(&p.public, "employee_id");
    assert_eq!(code_of(sign_in_and_finish(&fed, &spec, "carol").await), "userinfo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_defect_of_the_id_token_is_refused_by_its_check() {
    let Some(p) = start() else { return };
    let fed = Federation::new().expect("federation");
    let spec = oidc_spec(&p.public);
    sign_in_and_finish(&fed, &spec, "dave").await.expect("a good token first");
    for (mode, check) in [
        ("wrong_aud", "audience"),
        ("wrong_iss", "issuer"),
        ("wrong_nonce", "nonce"),
        ("expired", "expired"),
        ("alg_none", "algorithm"),
        ("hs256", "algorithm"),
    ] {
        p.public.mischief(mode);
        assert_eq!(code_of(sign_in_and_finish(&fed, &spec, "dave").await), check, "{mode}");
    }
    // The refusals were the defects': the same client takes a good token again.
    p.public.mischief("none");
    let id = sign_in_and_finish(&fed, &spec, "dave").await.expect("good again");
    assert_eq!(id.subject, "dave");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_at_most_once_per_30_seconds() {
    let Some(p) = start() else { return };
    let fed = Federation::new().expect("federation");
    let spec = oidc_spec(&p.public);
    // Discovery caches the key set with the first key.
    sign_in_and_finish(&fed, &spec, "erin").await.expect("the first key");
    // A new key right after discovery: fetched on the miss, accepted.
    p.public.mischief("rotate");
    let id = sign_in_and_finish(&fed, &spec, "erin").await.expect("the rotated key is fetched");
    assert_eq!(id.subject, "erin");
    // Another one within 30 s: the key set is not fetched again.
    p.public.mischief("rotate");
    assert_eq!(code_of(sign_in_and_finish(&fed, &spec, "erin").await), "signature");
    // The token was good: a client with nothing cached takes it.
    let fresh = Federation::new().expect("federation");
    sign_in_and_finish(&fresh, &spec, "erin").await.expect("a fresh client fetches the new key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthentication_wants_a_fresh_sign_in_at_the_provider() {
    let Some(p) = start() else { return };
    let fed = Federation::new().expect("federation");
    let spec = oidc_spec(&p.public);
    let at_provider = browser();
    let flow = fresh_flow();
    let code = sign_in(&fed, &spec, &flow, &at_provider, "frank", false).await;
    let first = fed.finish(&spec, REDIRECT, &code, &flow, None).await.expect("signed in");
    let signed_in_at = first.auth_time.expect("auth_time");

    // The settings gate opened more than a minute after that sign-in; the
    // provider's session signs the browser straight through, with the old time.
    let gate = signed_in_at + 61;
    let flow = fresh_flow();
    let code = sign_in(&fed, &spec, &flow, &at_provider, "frank", false).await;
    assert_eq!(code_of(fed.finish(&spec, REDIRECT, &code, &flow, Some(gate)).await), "auth_time");

    // Asked to sign in again, the person does, and it counts.
    let gate = now();
    let flow = fresh_flow();
    let url = fed.authorize_url(&spec, REDIRECT, &flow, true).await.expect("authorization URL");
    assert_eq!(param(&url, "prompt").as_deref(), Some("login"));
    assert_eq!(param(&url, "max_age").as_deref(), Some("0"));
    let code = sign_in(&fed, &spec, &flow, &at_provider, "frank", true).await;
    let id = fed.finish(&spec, REDIRECT, &code, &flow, Some(gate)).await.expect("a fresh sign-in");
    assert_eq!(id.subject, "frank");
    assert!(id.auth_time.is_some_and(|t| t >= gate - 60), "{id:?}");

    // A provider that does not say when the person signed in: enough for a
    // sign-in, not for a reauthentication.
    p.public.mischief("no_auth_time");
    let flow = fresh_flow();
    let code = sign_in(&fed, &spec, &flow, &at_provider, "frank", true).await;
    assert_eq!(code_of(fed.finish(&spec, REDIRECT, &code, &flow, Some(gate)).await), "auth_time");
    let id = sign_in_and_finish(&fed, &spec, "frank").await.expect("a plain sign-in");
    assert_eq!(id.auth_time, None, "the claim was left out");
}

// ---------------------------------------------------------------------------
// What the real provider cannot be made to do wrong
// ---------------------------------------------------------------------------

type Answer = (u16, String, String);

/// A loopback listener on a port of the tests' range. Another process on the
/// machine may take a port between `free_port` finding it and the bind here,
/// so a few are tried.
async fn listen() -> (tokio::net::TcpListener, u16) {
    for _ in 0..20 {
        let port = support::free_port();
        if let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            return (listener, port);
        }
    }
    panic!("no loopback port could be bound")
}

/// A loopback HTTP server answering the `n`th request (0-based) for `path`
/// with `(status, extra header lines, body)`; returns its origin.
async fn fake_server(answer: impl Fn(&str, usize) -> Answer + Send + Sync + 'static) -> String {
    let (listener, port) = listen().await;
    let answer = Arc::new(answer);
    let count = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let answer = answer.clone();
            let n = count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                let head = String::from_utf8_lossy(&buf);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, headers, body) = answer(&path, n);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// A discovery document for `issuer` with these endpoints.
fn discovery(issuer: &str, authorize: &str, jwks: &str) -> String {
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": authorize,
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": jwks,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })
    .to_string()
}

/// A server whose discovery document `doc(origin)` names; the key set is empty.
async fn serving(doc: impl Fn(&str) -> String + Send + Sync + 'static) -> String {
    let origin = Arc::new(std::sync::OnceLock::<String>::new());
    let seen = origin.clone();
    let url = fake_server(move |path, _| match path {
        "/.well-known/openid-configuration" => (200, String::new(), doc(seen.get().map_or("", |s| s.as_str()))),
        "/jwks" => (200, String::new(), r#"{"keys":[]}"#.into()),
        _ => (404, String::new(), "{}".into()),
    })
    .await;
    let _ = origin.set(url.clone());
    url
}

fn spec_at(issuer: &str) -> ProviderSpec {
    ProviderSpec {
        id: "google".into(),
        protocol: Protocol::Oidc { issuer: issuer.into() },
        client_id: "gw".into(),
        client_secret: None,
        scopes: vec!["openid".into()],
        loopback: true,
    }
}

async fn authorize_error(fed: &Federation, spec: &ProviderSpec) -> &'static str {
    match fed.authorize_url(spec, REDIRECT, &fresh_flow(), false).await {
        Ok(url) => panic!("accepted: {url}"),
        Err(e) => e.code(),
    }
}

#[tokio::test]
async fn plain_http_is_refused_unless_on_loopback() {
    let fed = Federation::new().expect("federation");
    let flow = fresh_flow();
    let spec = spec_at("http://idp.example");
    assert_eq!(authorize_error(&fed, &spec).await, "insecure_url");
    assert_eq!(code_of(fed.finish(&spec, REDIRECT, "c", &flow, None).await), "insecure_url");
    let spec = ProviderSpec {
        protocol: Protocol::OAuth2 {
            authorize_url: "http://idp.example/auth".into(),
            token_url: "https://idp.example/token".into(),
            userinfo_url: "https://idp.example/me".into(),
            subject_field: "id".into(),
        },
        ..spec_at("unused")
    };
    assert_eq!(authorize_error(&fed, &spec).await, "insecure_url");
    let spec = ProviderSpec {
        protocol: Protocol::OAuth2 {
            authorize_url: "https://idp.example/auth".into(),
            token_url: "http://idp.example/token".into(),
            userinfo_url: "https://idp.example/me".into(),
            subject_field: "id".into(),
        },
        ..spec_at("unused")
    };
    assert_eq!(code_of(fed.finish(&spec, REDIRECT, "c", &flow, None).await), "insecure_url");

    // A loopback issuer whose document sends the browser, or us, elsewhere over
    // plain http.
    let issuer = serving(|o| discovery(o, "http://idp.example/auth", &format!("{o}/jwks"))).await;
    assert_eq!(authorize_error(&fed, &spec_at(&issuer)).await, "insecure_url");
    let issuer = serving(|o| discovery(o, &format!("{o}/auth"), "http://idp.example/jwks")).await;
    assert_eq!(authorize_error(&fed, &spec_at(&issuer)).await, "insecure_url");
    // The same document with loopback endpoints is taken.
    let issuer = serving(|o| discovery(o, &format!("{o}/auth"), &format!("{o}/jwks"))).await;
    let url = fed.authorize_url(&spec_at(&issuer), REDIRECT, &flow, false).await.expect("a good document");
    assert!(url.starts_with(&format!("{issuer}/auth?")), "{url}");
}

#[tokio::test]
async fn discovery_names_the_issuer_and_failures_are_not_cached() {
    let fed = Federation::new().expect("federation");
    // A document that names another issuer.
    let issuer = serving(|o| discovery("http://127.0.0.1:1", &format!("{o}/auth"), &format!("{o}/jwks"))).await;
    assert_eq!(authorize_error(&fed, &spec_at(&issuer)).await, "discovery");

    // A provider that fails once, then answers: the failure is not kept.
    let origin = Arc::new(std::sync::OnceLock::<String>::new());
    let seen = origin.clone();
    let issuer = fake_server(move |path, n| {
        let o = seen.get().cloned().unwrap_or_default();
        match (path, n) {
            (_, 0) => (503, String::new(), "{}".into()),
            ("/.well-known/openid-configuration", _) => {
                (200, String::new(), discovery(&o, &format!("{o}/auth"), &format!("{o}/jwks")))
            }
            _ => (200, String::new(), r#"{"keys":[]}"#.into()),
        }
    })
    .await;
    let _ = origin.set(issuer.clone());
    assert_eq!(authorize_error(&fed, &spec_at(&issuer)).await, "discovery");
    fed.authorize_url(&spec_at(&issuer), REDIRECT, &fresh_flow(), false).await.expect("tried again");
}

#[tokio::test]
async fn redirects_are_not_followed_and_answers_are_capped() {
    let fed = Federation::new().expect("federation");
    // The document has moved, to a place that would be acceptable: not followed.
    let target = serving(|o| discovery(o, &format!("{o}/auth"), &format!("{o}/jwks"))).await;
    let issuer =
        fake_server(move |_, _| (302, format!("location: {target}/.well-known/openid-configuration\r\n"), "{}".into()))
            .await;
    assert_eq!(authorize_error(&fed, &spec_at(&issuer)).await, "discovery");
    // More than 1 MiB.
    let issuer = serving(|o| {
        let mut doc: serde_json::Value =
            serde_json::from_str(&discovery(o, &format!("{o}/auth"), &format!("{o}/jwks"))).unwrap_or_default();
        doc["padding"] = serde_json::Value::String("x".repeat(1024 * 1024 + 1));
        doc.to_string()
    })
    .await;
    assert_eq!(authorize_error(&fed, &spec_at(&issuer)).await, "unreachable");
}

#[tokio::test]
async fn a_provider_that_does_not_answer_is_given_up_after_10_seconds() {
    let (listener, port) = listen().await;
    // Accepts, reads nothing, answers nothing.
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            open.push(sock);
        }
    });
    let fed = Federation::new().expect("federation");
    let started = std::time::Instant::now();
    assert_eq!(authorize_error(&fed, &spec_at(&format!("http://127.0.0.1:{port}"))).await, "unreachable");
    let waited = started.elapsed().as_secs_f64();
    assert!((9.5..15.0).contains(&waited), "gave up after {waited} s");
    held.abort();
}

/// A directory's hostname that resolves to the gateway's own or internal
/// addresses is never connected to, whatever the URL looks like: the
/// resolver for owner-entered addresses drops them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_name_resolving_inside_is_not_called() {
    let name = std::process::Command::new("hostname")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let inside = std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), 443))
        .map(|mut a| a.any(|a| a.ip().is_loopback()))
        .unwrap_or(false);
    if name.is_empty() || !inside {
        eprintln!("SKIPPED: this machine's name {name:?} does not resolve to loopback");
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listener");
    let port = listener.local_addr().expect("port").port();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let fed = Federation::new().expect("federation");
    let spec = ProviderSpec::directory(&format!("https://{name}:{port}/adfs"), "gw", "s");
    let r = fed.authorize_url(&spec, REDIRECT, &fresh_flow(), false).await;
    assert!(r.is_err(), "refused");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing connected to the gateway's own address");
    // The same name for an operator's provider is reached (and fails the TLS handshake).
    let operator = ProviderSpec { loopback: true, ..spec };
    let _ = fed.authorize_url(&operator, REDIRECT, &fresh_flow(), false).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(calls.load(Ordering::SeqCst) > 0, "the check is what stopped the first call");
}
