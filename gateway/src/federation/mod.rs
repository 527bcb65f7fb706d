//! PLACEHOLDER with the interface of the protocol client (h/fedproto replaces it).
#![allow(dead_code, unused_variables)]

#[derive(Clone)]
pub struct ProviderSpec {
    pub id: String,
    pub protocol: Protocol,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
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
        }
    }

    pub fn directory(issuer: &str, client_id: &str, client_secret: &str) -> ProviderSpec {
        ProviderSpec {
            id: "ad".into(),
            protocol: Protocol::Oidc { issuer: issuer.into() },
            client_id: client_id.into(),
            client_secret: Some(client_secret.into()),
            scopes: vec!["openid".into()],
        }
    }
}

pub struct FlowSecrets {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

#[derive(Debug, Clone)]
pub struct FederatedId {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub auth_time: Option<i64>,
}

#[derive(Clone)]
pub struct Federation;

#[derive(Debug, thiserror::Error)]
pub enum FedError {
    #[error("not built yet")]
    Missing,
}

impl FedError {
    pub fn code(&self) -> &'static str {
        "missing"
    }
}

impl Federation {
    pub fn new() -> Result<Federation, FedError> {
        Ok(Federation)
    }

    pub async fn authorize_url(
        &self,
        spec: &ProviderSpec,
        redirect_uri: &str,
        flow: &FlowSecrets,
        reauth: bool,
    ) -> Result<String, FedError> {
        Err(FedError::Missing)
    }

    pub async fn finish(
        &self,
        spec: &ProviderSpec,
        redirect_uri: &str,
        code: &str,
        flow: &FlowSecrets,
        reauth_after: Option<i64>,
    ) -> Result<FederatedId, FedError> {
        Err(FedError::Missing)
    }
}
