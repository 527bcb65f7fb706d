//! A gateway without a proxy, for handler tests: a real `App` on a temporary
//! SQLite store with one tenant (`acme`, basic plan), a user and an owner
//! (no passwords), and sessions for them, and helpers that run a request
//! through `web::handle` as the proxy's adapter would. Pages render in English
//! (`ui.default_language: en`) unless a test asks otherwise.

use std::sync::Arc;

use policy::{Factor, HostKind, LineFact, Role};

use super::routes::ROUTES;
use crate::app::App;
use crate::policy_state::PolicyState;
use crate::store::{NewSession, NewUser, Store, now};
use crate::tokens;
use crate::web::{self, Body, Facts, Method, Reply, Request, csrf};

pub struct World {
    pub dir: tempfile::TempDir,
    pub app: App,
    pub tenant: i64,
    /// Cookie values of sessions: a plain user's and an owner's, both past the
    /// second factor and re-authenticated; an owner's without re-authentication.
    pub user: String,
    pub owner: String,
    pub owner_stale: String,
}

pub async fn world() -> World {
    world_with("").await
}

/// A world whose gateway.yaml has `extra` appended (e.g. `login.providers`).
pub async fn world_with(extra: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "listen: \"127.0.0.1:1\"\norigin: \"127.0.0.1:2\"\ndatabase: \"sqlite://{db}\"\n\
         session:\n  secure_cookies: false\nmail:\n  transport: file\n  dir: {dir}/mail\n\
         sms:\n  transport: file\n  dir: {dir}/sms\nmetrics:\n  listen: off\npolicy_file: null\nthreads: 1\nui:\n  default_language: en\n{extra}",
        db = dir.path().join("gateway.db").display(),
        dir = dir.path().display()
    );
    let path = dir.path().join("gateway.yaml");
    std::fs::write(&path, yaml).unwrap();
    let cfg = config::load_gateway(&path).unwrap();
    let store = Store::connect(&cfg.database).await.unwrap();
    store.migrate().await.unwrap();
    let tenant = store.create_tenant("acme", crate::store::Plan::Basic).await.unwrap();
    let mut cookies = Vec::new();
    for (email, role, sudo) in [
        ("user@acme.example", Role::User, true),
        ("owner@acme.example", Role::Owner, true),
        ("owner@acme.example", Role::Owner, false),
    ] {
        let user = match store.user_by_email(email).await.unwrap() {
            Some(u) => u.id,
            None => store.create_user(NewUser { tenant_id: tenant, email, role, password_hash: None }).await.unwrap(),
        };
        cookies.push(session_for(&store, user, sudo).await);
    }
    let policy = Arc::new(PolicyState::new());
    policy.set_db(store.load_tenants().await.unwrap());
    let app = App::new(cfg, store, policy).unwrap();
    let owner_stale = cookies.pop().unwrap();
    let owner = cookies.pop().unwrap();
    let user = cookies.pop().unwrap();
    World { dir, app, tenant, user, owner, owner_stale }
}

/// A session cookie value for a user: past the second factor and, with
/// `sudo`, re-authenticated.
async fn session_for(store: &Store, user_id: i64, sudo: bool) -> String {
    session_with(store, user_id, Some(Factor::Totp), sudo).await
}

/// A session cookie value for a user with this factor (None: between the
/// password and the second step), re-authenticated with `sudo`.
async fn session_with(store: &Store, user_id: i64, factor: Option<Factor>, sudo: bool) -> String {
    let token = tokens::random_token();
    let hash = tokens::hash_bytes(&tokens::decode_token(&token).unwrap());
    store
        .insert_session(NewSession {
            id_hash: &hash,
            user_id,
            host: HostKind::Ordinary,
            factor,
            line: None,
            client_ip: None,
            expires_at: now() + 3600,
            pending_factor: None,
            pending_remember: false,
        })
        .await
        .unwrap();
    if sudo {
        store.grant_sudo(&hash, now() + 600).await.unwrap();
    }
    token
}

impl World {
    /// A registered user (with a password hash placeholder) of `tenant`, and
    /// a re-authenticated session cookie for them; the policy snapshot is
    /// reloaded so a new tenant's users can pass the settings gate.
    pub async fn signed_in(&self, tenant: i64, email: &str, role: Role) -> String {
        let store = &self.app.store;
        let user = store
            .create_user(NewUser { tenant_id: tenant, email, role, password_hash: Some("$argon2id$placeholder") })
            .await
            .unwrap();
        self.app.policy.set_db(store.load_tenants().await.unwrap());
        session_for(store, user, true).await
    }

    /// The mails written by the file transport: recipient and decoded body.
    pub fn mails(&self) -> Vec<(String, String)> {
        let Ok(dir) = std::fs::read_dir(self.dir.path().join("mail")) else { return Vec::new() };
        let mut out = Vec::new();
        for entry in dir {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "eml") {
                let raw = std::fs::read_to_string(&path).unwrap();
                let to = raw
                    .lines()
                    .find_map(|l| l.strip_prefix("To: "))
                    .unwrap_or("")
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_owned();
                out.push((to, crate::mail::decode_message(&raw).1));
            }
        }
        out
    }

    pub fn accounts(&self) -> crate::accounts::Accounts<'_> {
        self.app.accounts()
    }
}

pub fn facts() -> Facts {
    Facts {
        host: HostKind::Ordinary,
        client_ip: Some([198, 51, 100, 7].into()),
        line: LineFact::Absent,
        consent_region: false,
    }
}

pub fn request(method: Method, path: &str, session: Option<&str>, csrf_field: Option<&str>) -> Request {
    let mut headers = http::HeaderMap::new();
    headers.insert("host", http::HeaderValue::from_static("storage.localhost"));
    if let Some(s) = session {
        headers.insert("cookie", http::HeaderValue::from_str(&format!("gw_session={s}")).unwrap());
    }
    let uri: http::Uri = path.parse().unwrap();
    match method {
        Method::Get => Request::new(http::Method::GET, uri, headers),
        Method::Post => {
            headers.insert("content-type", http::HeaderValue::from_static("application/x-www-form-urlencoded"));
            let mut req = Request::new(http::Method::POST, uri, headers);
            req.body = Body::Read(csrf_field.map(|t| format!("csrf={t}")).unwrap_or_default().into_bytes());
            req
        }
    }
}

/// The CSRF token the browser holding this session would have in its forms.
pub fn token(session: &str) -> String {
    csrf::token_for(&request(Method::Get, "/", Some(session), None), "gw_session").0
}

pub async fn call(w: &World, req: Request) -> Reply {
    web::handle(&w.app, ROUTES, req, facts()).await
}

pub fn location(r: &Reply) -> &str {
    r.header_value("location").unwrap_or("")
}

impl World {
    /// A new user of the world's tenant, signed in past the second factor and
    /// re-authenticated; returns the session's cookie value.
    pub async fn signed_in_as(&self, email: &str, role: Role) -> String {
        self.signed_in(self.tenant, email, role).await
    }

    /// A new session of `email` (a user of the world) on the ordinary
    /// hostname: `factor` None is a sign-in between password and second step.
    pub async fn session(&self, email: &str, factor: Option<Factor>, sudo: bool) -> String {
        let user = self.app.store.user_by_email(email).await.unwrap().unwrap();
        session_with(&self.app.store, user.id, factor, sudo).await
    }

    /// Mails written by the file transport to `to`, oldest first: (subject, body).
    pub fn mails_to(&self, to: &str) -> Vec<(String, String)> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail")) else { return Vec::new() };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("eml"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter(|raw| {
                raw.lines().any(|l| l.to_ascii_lowercase().starts_with("to:") && l.to_ascii_lowercase().contains(to))
            })
            .map(|raw| crate::mail::decode_message(&raw))
            .collect()
    }
}

/// A POST of `fields` with the CSRF token its browser's form would carry:
/// bound to the session, or without one to a fresh pre-session cookie.
pub fn post(path: &str, session: Option<&str>, fields: &[(&str, &str)]) -> Request {
    let mut req = request(Method::Post, path, session, None);
    if session.is_none() {
        let cookie = format!("{}={}", csrf::COOKIE, tokens::random_token());
        req.headers.insert("cookie", http::HeaderValue::from_str(&cookie).unwrap());
    }
    let token = csrf::token_for(&req, "gw_session").0;
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.append_pair("csrf", &token);
    for (k, v) in fields {
        body.append_pair(k, v);
    }
    req.body = Body::Read(body.finish().into_bytes());
    req
}

/// The session cookie's value a reply sets, if any.
pub fn session_set(r: &Reply) -> Option<String> {
    r.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| v.strip_prefix("gw_session=").map(|rest| rest.split(';').next().unwrap_or("").to_owned()))
        .filter(|v| !v.is_empty())
}
