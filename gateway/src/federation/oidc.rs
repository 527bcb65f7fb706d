//! OpenID Connect: discovery (cached per issuer), and the ID token's checks.
//! A token signed with a key the cached set lacks makes the key set be
//! fetched again (at most every 30 s per issuer), so a provider's key
//! rotation is picked up without a restart. Only those fetches on a miss
//! count against the 30 s: a rotation soon after discovery is picked up too,
//! and a flood of tokens naming unknown keys costs the provider one request
//! per 30 s.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    ClaimsVerificationError, ClientId, IssuerUrl, JsonWebKeySetUrl, Nonce, SignatureVerificationError,
};

use super::http::{HttpClient, HttpError};
use super::{FedError, FederatedId, FlowSecrets, ProviderSpec, TokenProblem};

/// How long a discovery document is trusted before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches of one issuer's key set on a miss.
const KEYS_REFETCH: Duration = Duration::from_secs(30);
/// Clock difference tolerated on `exp`, `iat` and `auth_time`.
const SKEW: i64 = 60;
/// An ID token issued longer ago than this is not from the exchange just made.
const MAX_TOKEN_AGE: i64 = 600;

/// Asymmetric algorithms only: never `none`, never an HMAC keyed by the
/// client secret.
const ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// What the flows need of an issuer's discovery document.
pub struct Metadata {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    jwks_uri: String,
    jwks: CoreJsonWebKeySet,
    fetched: Instant,
}

/// Discovery documents by issuer.
#[derive(Default)]
pub struct Discovered {
    by_issuer: Mutex<HashMap<String, Arc<Metadata>>>,
    /// When each issuer's key set was last fetched again on a miss.
    refetched: Mutex<HashMap<String, Instant>>,
}

impl Discovered {
    fn cached(&self, issuer: &str) -> Option<Arc<Metadata>> {
        self.by_issuer.lock().ok()?.get(issuer).cloned()
    }

    fn keep(&self, issuer: &str, meta: Arc<Metadata>) {
        if let Ok(mut map) = self.by_issuer.lock() {
            map.insert(issuer.to_owned(), meta);
        }
    }

    /// Takes the issuer's one refetch of the current 30 s, if nobody has:
    /// checked and taken under one lock, so concurrent misses fetch once.
    fn claim_refetch(&self, issuer: &str) -> bool {
        let Ok(mut map) = self.refetched.lock() else { return false };
        let now = Instant::now();
        match map.get(issuer) {
            Some(last) if now.duration_since(*last) < KEYS_REFETCH => false,
            _ => {
                map.insert(issuer.to_owned(), now);
                true
            }
        }
    }

    /// The issuer's document, from the cache while it is fresh; a failure is
    /// not cached, so the next sign-in tries again.
    pub async fn get(&self, http: &HttpClient, issuer: &str, loopback: bool) -> Result<Arc<Metadata>, FedError> {
        // Kept apart by the rule its endpoints were checked under.
        let key = format!("{loopback}:{issuer}");
        if let Some(m) = self.cached(&key).filter(|m| m.fetched.elapsed() < DISCOVERY_TTL) {
            return Ok(m);
        }
        config::check_provider_url(issuer).map_err(|e| FedError::Http(HttpError::Insecure(e)))?;
        let issuer_url = IssuerUrl::new(issuer.to_owned()).map_err(|e| FedError::Discovery(e.to_string()))?;
        let call = |req| {
            let http = http.clone();
            async move { http.call(req, loopback).await }
        };
        // Checks that the document names this issuer, and fetches the key set.
        let doc = CoreProviderMetadata::discover_async(issuer_url, &call).await.map_err(discovery_error)?;
        let token_endpoint = doc
            .token_endpoint()
            .map(|u| u.url().to_string())
            .ok_or_else(|| FedError::Discovery("the document names no token endpoint".into()))?;
        let authorization_endpoint = doc.authorization_endpoint().url().to_string();
        let jwks_uri = doc.jwks_uri().url().to_string();
        for url in [&authorization_endpoint, &token_endpoint, &jwks_uri] {
            config::check_url_for(url, loopback).map_err(|e| FedError::Http(HttpError::Insecure(e)))?;
        }
        let meta = Arc::new(Metadata {
            authorization_endpoint,
            token_endpoint,
            jwks_uri,
            jwks: doc.jwks().clone(),
            fetched: Instant::now(),
        });
        self.keep(&key, meta.clone());
        Ok(meta)
    }

    /// The key set fetched again, unless it was fetched again on a miss
    /// within [`KEYS_REFETCH`].
    async fn refresh_keys(
        &self,
        http: &HttpClient,
        issuer: &str,
        meta: &Metadata,
        loopback: bool,
    ) -> Result<Option<Arc<Metadata>>, FedError> {
        if !self.claim_refetch(issuer) {
            return Ok(None);
        }
        let url = JsonWebKeySetUrl::new(meta.jwks_uri.clone()).map_err(|e| FedError::Discovery(e.to_string()))?;
        let call = |req| {
            let http = http.clone();
            async move { http.call(req, loopback).await }
        };
        let jwks = CoreJsonWebKeySet::fetch_async(&url, &call).await.map_err(discovery_error)?;
        let fresh = Arc::new(Metadata {
            authorization_endpoint: meta.authorization_endpoint.clone(),
            token_endpoint: meta.token_endpoint.clone(),
            jwks_uri: meta.jwks_uri.clone(),
            jwks,
            fetched: meta.fetched,
        });
        self.keep(&format!("{loopback}:{issuer}"), fresh.clone());
        Ok(Some(fresh))
    }
}

/// Our own client's errors are kept as such, so an insecure URL named by a
/// discovery document is reported as one.
fn discovery_error(e: openidconnect::DiscoveryError<HttpError>) -> FedError {
    match e {
        openidconnect::DiscoveryError::Request(inner) => FedError::Http(inner),
        other => FedError::Discovery(other.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn finish(
    http: &HttpClient,
    discovered: &Discovered,
    issuer: &str,
    spec: &ProviderSpec,
    redirect_uri: &str,
    code: &str,
    flow: &FlowSecrets,
    reauth_after: Option<i64>,
) -> Result<FederatedId, FedError> {
    let meta = discovered.get(http, issuer, spec.loopback).await?;
    let answer = super::exchange(http, &meta.token_endpoint, spec, redirect_uri, code, flow).await?;
    let raw = answer.id_token.ok_or(FedError::Token(TokenProblem::Missing, "no id_token in the answer".into()))?;
    let token = CoreIdToken::from_str(&raw).map_err(|e| FedError::Token(TokenProblem::Malformed, e.to_string()))?;
    match verify(&token, &meta.jwks, issuer, spec, flow, reauth_after) {
        Err(FedError::Token(TokenProblem::Signature, why)) => {
            match discovered.refresh_keys(http, issuer, &meta, spec.loopback).await? {
                Some(fresh) => verify(&token, &fresh.jwks, issuer, spec, flow, reauth_after),
                None => Err(FedError::Token(TokenProblem::Signature, why)),
            }
        }
        done => done,
    }
}

fn verify(
    token: &CoreIdToken,
    jwks: &CoreJsonWebKeySet,
    issuer: &str,
    spec: &ProviderSpec,
    flow: &FlowSecrets,
    reauth_after: Option<i64>,
) -> Result<FederatedId, FedError> {
    let issuer_url = IssuerUrl::new(issuer.to_owned()).map_err(|e| FedError::Discovery(e.to_string()))?;
    let verifier =
        CoreIdTokenVerifier::new_public_client(ClientId::new(spec.client_id.clone()), issuer_url, jwks.clone())
            .set_allowed_algs(ALGS)
            .set_time_fn(|| Utc::now() - TimeDelta::seconds(SKEW))
            .set_issue_time_verifier_fn(|iat| {
                let now = Utc::now();
                if iat > now + TimeDelta::seconds(SKEW) {
                    Err(format!("issued in the future ({iat})"))
                } else if iat < now - TimeDelta::seconds(MAX_TOKEN_AGE) {
                    Err(format!("issued too long ago ({iat})"))
                } else {
                    Ok(())
                }
            })
            .set_auth_time_verifier_fn(move |at| match (reauth_after, at) {
                (None, _) => Ok(()),
                (Some(after), Some(at)) if at.timestamp() >= after - SKEW => Ok(()),
                (Some(_), Some(at)) => Err(format!("the sign-in at the provider is not fresh ({at})")),
                (Some(_), None) => Err("the provider did not say when the person signed in (auth_time)".into()),
            });
    let nonce = Nonce::new(flow.nonce.clone());
    let claims = token.claims(&verifier, &nonce).map_err(refusal)?;
    Ok(FederatedId {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        auth_time: claims.auth_time().map(|t| t.timestamp()),
    })
}

fn refusal(e: ClaimsVerificationError) -> FedError {
    let problem = match &e {
        ClaimsVerificationError::Expired(why) if why.starts_with("issued") => TokenProblem::IssuedAt,
        ClaimsVerificationError::Expired(_) => TokenProblem::Expired,
        ClaimsVerificationError::InvalidAudience(_) => TokenProblem::Audience,
        ClaimsVerificationError::InvalidAuthTime(_) => TokenProblem::AuthTime,
        ClaimsVerificationError::InvalidIssuer(_) => TokenProblem::Issuer,
        ClaimsVerificationError::InvalidNonce(_) => TokenProblem::Nonce,
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::DisallowedAlg(_))
        | ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoSignature) => {
            TokenProblem::Algorithm
        }
        ClaimsVerificationError::SignatureVerification(_) => TokenProblem::Signature,
        _ => TokenProblem::Other,
    };
    FedError::Token(problem, e.to_string())
}
