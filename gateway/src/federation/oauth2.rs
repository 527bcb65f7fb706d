//! Plain OAuth 2.0, for a service that is not OpenID Connect: the code, then
//! the userinfo URL with the access token; the account is the configured
//! `subject_field` of that answer, and the issuer stands for the
//! authorization URL's origin.

use super::http::{HttpClient, HttpError};
use super::{FedError, FederatedId, FlowSecrets, ProviderSpec};

pub struct Urls<'a> {
    pub authorize_url: &'a str,
    pub token_url: &'a str,
    pub userinfo_url: &'a str,
    pub subject_field: &'a str,
}

/// `scheme://authority` of a URL.
fn origin(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split(['/', '?', '#']).next().unwrap_or("")),
        None => url.to_owned(),
    }
}

pub async fn finish(
    http: &HttpClient,
    urls: &Urls<'_>,
    spec: &ProviderSpec,
    redirect_uri: &str,
    code: &str,
    flow: &FlowSecrets,
) -> Result<FederatedId, FedError> {
    let answer = super::exchange(http, urls.token_url, spec, redirect_uri, code, flow).await?;
    let mut bearer = http::HeaderValue::from_str(&format!("Bearer {}", answer.access_token))
        .map_err(|_| FedError::TokenAnswer("the access token cannot be sent in a header".into()))?;
    bearer.set_sensitive(true);
    let req = http::Request::builder()
        .method(http::Method::GET)
        .uri(urls.userinfo_url)
        .header(http::header::AUTHORIZATION, bearer)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| HttpError::Request(e.to_string()))?;
    let resp = http.call(req, spec.loopback).await?;
    if !resp.status().is_success() {
        return Err(FedError::Userinfo(format!("status {}", resp.status().as_u16())));
    }
    let info: serde_json::Value =
        serde_json::from_slice(resp.body()).map_err(|e| FedError::Userinfo(format!("not JSON: {e}")))?;
    let subject = match info.get(urls.subject_field) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return Err(FedError::Userinfo(format!("no usable {:?} in the answer", urls.subject_field))),
    };
    let email = info.get("email").and_then(|e| e.as_str()).map(str::to_owned);
    Ok(FederatedId { issuer: origin(urls.authorize_url), subject, email, auth_time: None })
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_of_a_url() {
        assert_eq!(super::origin("https://fb.example/v19/dialog?x=1"), "https://fb.example");
        assert_eq!(super::origin("http://127.0.0.1:9/auth"), "http://127.0.0.1:9");
    }
}
