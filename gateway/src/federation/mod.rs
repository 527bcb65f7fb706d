//! The client side of OpenID Connect and plain OAuth 2.0 (SPEC section 9):
//! where to send the browser, and what the provider's answer proves. It knows
//! no page, no session and no database: `auth::federated` decides what the
//! proven identity is used for.
//!
//! The ID token is checked by the `openidconnect` crate (signature from the
//! provider's key set, algorithm, `iss`, `aud`, `exp`, `iat`, `nonce`,
//! `auth_time`); the requests around it are plain HTTP through [`http`].

mod http;
mod oauth2;
mod oidc;

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub use self::http::HttpError;

/// One identity provider as the flows see it: a configured provider or a
/// tenant's directory.
#[derive(Clone)]
pub struct ProviderSpec {
    /// A `login.providers` id, or `ad` for a tenant directory.
    pub id: String,
    pub protocol: Protocol,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
    /// May live on a loopback address over http: configured providers (the
    /// operator's choice, for tests), and directories only when
    /// `login.directories_on_loopback` says so.
    pub loopback: bool,
}

impl fmt::Debug for ProviderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSpec")
            .field("id", &self.id)
            .field("protocol", &self.protocol)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub enum Protocol {
    Oidc { issuer: String },
    OAuth2 { authorize_url: String, token_url: String, userinfo_url: String, subject_field: String },
}

impl ProviderSpec {
    pub fn from_config(p: &config::LoginProvider) -> ProviderSpec {
        let protocol = match p.kind {
            config::ProviderKind::Oidc => Protocol::Oidc { issuer: p.issuer.clone().unwrap_or_default() },
            config::ProviderKind::Oauth2 => Protocol::OAuth2 {
                authorize_url: p.authorize_url.clone().unwrap_or_default(),
                token_url: p.token_url.clone().unwrap_or_default(),
                userinfo_url: p.userinfo_url.clone().unwrap_or_default(),
                subject_field: p.subject_field.clone().unwrap_or_default(),
            },
        };
        ProviderSpec {
            id: p.id.clone(),
            protocol,
            client_id: p.client_id.clone(),
            client_secret: p.client_secret.as_ref().map(|s| s.expose().to_owned()),
            scopes: p.scopes(),
            loopback: true,
        }
    }

    /// A tenant's directory: always OpenID Connect.
    pub fn directory(issuer: &str, client_id: &str, client_secret: &str) -> ProviderSpec {
        ProviderSpec {
            id: "ad".into(),
            protocol: Protocol::Oidc { issuer: issuer.into() },
            client_id: client_id.into(),
            client_secret: Some(client_secret.into()).filter(|s: &String| !s.is_empty()),
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            loopback: false,
        }
    }
}

/// What the flow keeps between the redirect and the callback.
pub struct FlowSecrets {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl FlowSecrets {
    /// RFC 7636's S256 challenge of the verifier.
    pub fn pkce_challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.pkce_verifier.as_bytes()))
    }
}

/// Who signed in at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedId {
    pub issuer: String,
    pub subject: String,
    /// Reported by the provider; never used to find anyone.
    pub email: Option<String>,
    pub auth_time: Option<i64>,
}

/// Why a provider's answer was not accepted, or the provider not reached.
#[derive(Debug, thiserror::Error)]
pub enum FedError {
    #[error("provider discovery failed: {0}")]
    Discovery(String),
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error("the provider refused the code: status {0}")]
    Exchange(u16),
    #[error("the provider's token answer is malformed: {0}")]
    TokenAnswer(String),
    #[error("the ID token was refused: {0}")]
    Token(TokenProblem, String),
    #[error("the userinfo answer was refused: {0}")]
    Userinfo(String),
}

/// Which check an ID token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Missing,
    Malformed,
    Signature,
    Algorithm,
    Issuer,
    Audience,
    Expired,
    IssuedAt,
    Nonce,
    AuthTime,
    Other,
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TokenProblem {
    pub fn code(self) -> &'static str {
        match self {
            TokenProblem::Missing => "no_id_token",
            TokenProblem::Malformed => "malformed_token",
            TokenProblem::Signature => "signature",
            TokenProblem::Algorithm => "algorithm",
            TokenProblem::Issuer => "issuer",
            TokenProblem::Audience => "audience",
            TokenProblem::Expired => "expired",
            TokenProblem::IssuedAt => "issued_at",
            TokenProblem::Nonce => "nonce",
            TokenProblem::AuthTime => "auth_time",
            TokenProblem::Other => "claims",
        }
    }
}

impl FedError {
    /// A stable short label for the audit log and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            FedError::Discovery(_) => "discovery",
            FedError::Http(HttpError::Insecure(_)) => "insecure_url",
            FedError::Http(_) => "unreachable",
            FedError::Exchange(_) => "exchange",
            FedError::TokenAnswer(_) => "token_answer",
            FedError::Token(p, _) => p.code(),
            FedError::Userinfo(_) => "userinfo",
        }
    }
}

/// The protocol client; cheap to clone.
#[derive(Clone)]
pub struct Federation {
    http: self::http::HttpClient,
    discovered: Arc<oidc::Discovered>,
}

impl Federation {
    pub fn new() -> Result<Federation, FedError> {
        Ok(Federation { http: self::http::HttpClient::new()?, discovered: Arc::new(oidc::Discovered::default()) })
    }

    /// Where to send the browser: authorization code with PKCE (S256),
    /// `state`, and for OpenID Connect `nonce`. `reauth` asks the provider to
    /// sign the person in again (`prompt=login`, `max_age=0`).
    pub async fn authorize_url(
        &self,
        spec: &ProviderSpec,
        redirect_uri: &str,
        flow: &FlowSecrets,
        reauth: bool,
    ) -> Result<String, FedError> {
        let (endpoint, nonce) = match &spec.protocol {
            Protocol::Oidc { issuer } => {
                let meta = self.discovered.get(&self.http, issuer, spec.loopback).await?;
                (meta.authorization_endpoint.clone(), Some(flow.nonce.as_str()))
            }
            Protocol::OAuth2 { authorize_url, .. } => {
                // Config checked it; a spec built elsewhere is held to the same rule.
                config::check_provider_url(authorize_url).map_err(|e| FedError::Http(HttpError::Insecure(e)))?;
                (authorize_url.clone(), None)
            }
        };
        let challenge = flow.pkce_challenge();
        let scope = spec.scopes.join(" ");
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("response_type", "code")
            .append_pair("client_id", &spec.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", &flow.state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if !scope.is_empty() {
            q.append_pair("scope", &scope);
        }
        if let Some(n) = nonce {
            q.append_pair("nonce", n);
        }
        if reauth {
            q.append_pair("prompt", "login").append_pair("max_age", "0");
        }
        let sep = if endpoint.contains('?') { '&' } else { '?' };
        Ok(format!("{endpoint}{sep}{}", q.finish()))
    }

    /// Exchanges the code and checks what comes back. `reauth_after` (Unix
    /// seconds): the sign-in at the provider must be at least that recent.
    pub async fn finish(
        &self,
        spec: &ProviderSpec,
        redirect_uri: &str,
        code: &str,
        flow: &FlowSecrets,
        reauth_after: Option<i64>,
    ) -> Result<FederatedId, FedError> {
        match &spec.protocol {
            Protocol::Oidc { issuer } => {
                oidc::finish(&self.http, &self.discovered, issuer, spec, redirect_uri, code, flow, reauth_after).await
            }
            Protocol::OAuth2 { authorize_url, token_url, userinfo_url, subject_field } => {
                let urls = oauth2::Urls { authorize_url, token_url, userinfo_url, subject_field };
                oauth2::finish(&self.http, &urls, spec, redirect_uri, code, flow).await
            }
        }
    }
}

/// The token endpoint's answer (RFC 6749 section 5.1), as far as it is used.
#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    id_token: Option<String>,
}

/// The code exchange both protocols share: client authentication by HTTP
/// Basic (RFC 6749 section 2.3.1) when there is a secret, the PKCE verifier.
async fn exchange(
    http: &self::http::HttpClient,
    token_url: &str,
    spec: &ProviderSpec,
    redirect_uri: &str,
    code: &str,
    flow: &FlowSecrets,
) -> Result<TokenAnswer, FedError> {
    // The serializer is not `Send`: it is done with before the request.
    let body = {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_verifier", &flow.pkce_verifier);
        if spec.client_secret.is_none() {
            form.append_pair("client_id", &spec.client_id);
        }
        form.finish()
    };
    let mut req = ::http::Request::builder()
        .method(::http::Method::POST)
        .uri(token_url)
        .header(::http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(::http::header::ACCEPT, "application/json");
    if let Some(secret) = &spec.client_secret {
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(&spec.client_id), enc(secret)));
        let mut value = ::http::HeaderValue::from_str(&format!("Basic {basic}"))
            .map_err(|e| FedError::TokenAnswer(e.to_string()))?;
        value.set_sensitive(true);
        req = req.header(::http::header::AUTHORIZATION, value);
    }
    let req = req.body(body.into_bytes()).map_err(|e| HttpError::Request(e.to_string()))?;
    let resp = http.call(req, spec.loopback).await?;
    if !resp.status().is_success() {
        return Err(FedError::Exchange(resp.status().as_u16()));
    }
    serde_json::from_slice(resp.body()).map_err(|e| FedError::TokenAnswer(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> FlowSecrets {
        // RFC 7636 appendix B.
        FlowSecrets {
            state: "st".into(),
            nonce: "no".into(),
            pkce_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
        }
    }

    #[test]
    fn pkce_challenge_is_rfc_7636_s256() {
        assert_eq!(flow().pkce_challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn the_client_secret_stays_out_of_debug() {
        let spec = ProviderSpec::directory("https://login.example/t/v2.0", "gw", "s3cret-value");
        let shown = format!("{spec:?}");
        assert!(!shown.contains("s3cret-value"), "{shown}");
        assert!(shown.contains("***") && shown.contains("gw"), "{shown}");
        assert_eq!(spec.id, "ad");
        assert_eq!(spec.scopes, ["openid", "email", "profile"]);
        // An empty directory secret is a public client, not an empty password.
        assert!(ProviderSpec::directory("https://login.example", "gw", "").client_secret.is_none());
    }

    #[tokio::test]
    async fn oauth2_authorization_url_carries_state_pkce_and_reauth() {
        let spec = ProviderSpec {
            id: "fb".into(),
            protocol: Protocol::OAuth2 {
                authorize_url: "https://fb.example/dialog?v=19".into(),
                token_url: "https://fb.example/token".into(),
                userinfo_url: "https://fb.example/me".into(),
                subject_field: "id".into(),
            },
            client_id: "gw".into(),
            client_secret: Some("s3cret".into()),
            scopes: vec!["email".into(), "public_profile".into()],
            loopback: true,
        };
        let fed = Federation::new().expect("federation");
        let url = fed.authorize_url(&spec, "https://gw.example/cb", &flow(), true).await.expect("url");
        let (base, query) = url.split_once("?v=19&").expect("the URL's own query is kept");
        assert_eq!(base, "https://fb.example/dialog");
        let q: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("state"), Some("st"));
        assert_eq!(get("code_challenge"), Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert_eq!(get("scope"), Some("email public_profile"));
        assert_eq!((get("prompt"), get("max_age")), (Some("login"), Some("0")));
        assert_eq!(get("nonce"), None);
        assert!(!url.contains("s3cret") && !url.contains("dBjftJeZ"), "{url}");
    }

    #[test]
    fn error_codes_are_stable_labels() {
        assert_eq!(FedError::Http(HttpError::Insecure("x".into())).code(), "insecure_url");
        assert_eq!(FedError::Http(HttpError::Timeout).code(), "unreachable");
        assert_eq!(FedError::Token(TokenProblem::Nonce, "detail".into()).code(), "nonce");
        // The detail (which may quote the token's claims) is not in the message.
        assert_eq!(
            FedError::Token(TokenProblem::Nonce, "detail".into()).to_string(),
            "the ID token was refused: nonce"
        );
    }
}
