//! `login.providers`: the identity providers offered as sign-in buttons
//! (SPEC section 9). Each value is checked while it is read, so a bad one is
//! reported at its own line and column; what needs the whole entry (the
//! fields a kind requires, duplicate ids) is checked after.

use std::fmt;

use serde::Deserialize;
use serde::de::Deserializer;

use crate::scalar::parse_str;
use crate::secret::Secret;

/// One provider; the order of the list is the order of the buttons.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginProvider {
    /// `[a-z0-9-]`, used in URLs and told to the origin in `X-Auth-Method`.
    #[serde(deserialize_with = "provider_id")]
    pub id: String,
    pub kind: ProviderKind,
    /// `oidc`: where discovery starts (`/.well-known/openid-configuration`).
    #[serde(default, deserialize_with = "optional_provider_url")]
    pub issuer: Option<String>,
    /// `oauth2`: the provider's endpoints.
    #[serde(default, deserialize_with = "optional_provider_url")]
    pub authorize_url: Option<String>,
    #[serde(default, deserialize_with = "optional_provider_url")]
    pub token_url: Option<String>,
    #[serde(default, deserialize_with = "optional_provider_url")]
    pub userinfo_url: Option<String>,
    /// `oauth2`: the field of the userinfo answer that is the stable account id.
    #[serde(default)]
    pub subject_field: Option<String>,
    #[serde(deserialize_with = "client_id")]
    pub client_id: String,
    /// Absent for a public client (PKCE alone).
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// Default: `openid email` for `oidc`, none for `oauth2`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    pub label: ProviderLabel,
}

impl fmt::Debug for LoginProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginProvider")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("userinfo_url", &self.userinfo_url)
            .field("subject_field", &self.subject_field)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scopes", &self.scopes)
            .field("label", &self.label)
            .finish()
    }
}

impl LoginProvider {
    /// The scopes to ask for.
    pub fn scopes(&self) -> Vec<String> {
        match (&self.scopes, self.kind) {
            (Some(s), _) => s.clone(),
            (None, ProviderKind::Oidc) => vec!["openid".into(), "email".into()],
            (None, ProviderKind::Oauth2) => Vec::new(),
        }
    }

    /// What this entry lacks for its kind, if anything.
    pub fn missing(&self) -> Option<String> {
        let need: &[(&str, bool)] = match self.kind {
            ProviderKind::Oidc => &[("issuer", self.issuer.is_some())],
            ProviderKind::Oauth2 => &[
                ("authorize_url", self.authorize_url.is_some()),
                ("token_url", self.token_url.is_some()),
                ("userinfo_url", self.userinfo_url.is_some()),
                ("subject_field", self.subject_field.as_deref().is_some_and(|s| !s.trim().is_empty())),
            ],
        };
        let missing: Vec<&str> = need.iter().filter(|(_, has)| !has).map(|(k, _)| *k).collect();
        (!missing.is_empty()).then(|| missing.join(", "))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenID Connect: discovery from `issuer`, ID tokens.
    Oidc,
    /// Plain OAuth 2.0: the code, then `userinfo_url`.
    Oauth2,
}

/// A button's text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderLabel {
    #[serde(deserialize_with = "label_text")]
    pub en: String,
    #[serde(deserialize_with = "label_text")]
    pub ja: String,
}

/// Names the gateway uses itself: a provider may not take them.
const RESERVED: &[&str] = &["password", "ad", "federated", "callback"];

pub fn check_provider_id(id: &str) -> Result<String, String> {
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!("provider id {id:?} must be 1 to 32 of a-z, 0-9 and -"));
    }
    if RESERVED.contains(&id) {
        return Err(format!("provider id {id:?} is reserved ({}); choose another", RESERVED.join(", ")));
    }
    Ok(id.to_owned())
}

/// `https://`, or `http://` to a loopback address (tests); no user info, no fragment.
pub fn check_provider_url(url: &str) -> Result<String, String> {
    check_url_for(url, true)
}

/// As [`check_provider_url`]; without `loopback`, also no loopback, private,
/// link-local or unspecified address literal, over https or not: what a
/// tenant's owner types (a directory) must not make the gateway call itself
/// or its neighbours.
pub fn check_url_for(url: &str, loopback: bool) -> Result<String, String> {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) if s == "https" || s == "http" => (s, r),
        _ => return Err(format!("{url:?} is not an https:// URL")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("{url:?} has no plain host (user info is not allowed)"));
    }
    if url.contains('#') {
        return Err(format!("{url:?} has a fragment"));
    }
    if !loopback && (is_loopback_authority(authority) || is_internal_literal(authority)) {
        return Err(format!("{url:?} names a loopback or internal address"));
    }
    if scheme == "http" && !(loopback && is_loopback_authority(authority)) {
        return Err(format!(
            "{url:?} is plain http: provider URLs must be https:// (http only to a loopback address, for tests)"
        ));
    }
    Ok(url.to_owned())
}

fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    }
}

fn is_loopback_authority(authority: &str) -> bool {
    let host = host_of(authority);
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_internal_literal(authority: &str) -> bool {
    host_of(authority).parse::<std::net::IpAddr>().is_ok_and(is_internal_ip)
}

/// Loopback, private, link-local, unspecified, "this network", unique-local
/// IPv6 and IPv4-mapped addresses: where an owner-entered URL must not lead.
pub fn is_internal_ip(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(ip) => {
            ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_loopback() || ip.octets()[0] == 0
        }
        std::net::IpAddr::V6(ip) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip.to_ipv4_mapped().is_some()
        }
    }
}

fn provider_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    parse_str(d, "a provider id (a-z, 0-9, -)", check_provider_id)
}

fn optional_provider_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Url(String);
    impl<'de> Deserialize<'de> for Url {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            parse_str(d, "an https:// URL", check_provider_url).map(Url)
        }
    }
    Ok(Option::<Url>::deserialize(d)?.map(|u| u.0))
}

fn client_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    parse_str(d, "the client id the provider issued", |s| {
        if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Err(format!("client_id {s:?} must be non-empty, without spaces"))
        } else {
            Ok(s.to_owned())
        }
    })
}

fn label_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    parse_str(d, "the button's text", |s| {
        if s.trim().is_empty() { Err("a label may not be empty".to_owned()) } else { Ok(s.to_owned()) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(check_provider_id("google").is_ok());
        assert!(check_provider_id("carrier-biz-2").is_ok());
        for bad in ["", "Google", "a_b", "a/b", "ad", "password", "callback", "federated", &"x".repeat(33)] {
            assert!(check_provider_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn owner_entered_urls_stay_outside() {
        assert!(check_url_for("https://adfs.example.co.jp/adfs", false).is_ok());
        for bad in [
            "http://127.0.0.1:9100",
            "https://127.0.0.1/",
            "https://localhost/",
            "https://10.0.0.5/adfs",
            "https://169.254.169.254/latest",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://0.0.0.0/",
            "http://adfs.example.co.jp/adfs",
        ] {
            assert!(check_url_for(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        for ok in [
            "https://accounts.example",
            "https://login.example/t/v2.0",
            "http://127.0.0.1:9400",
            "http://localhost/x",
            "http://[::1]:80",
        ] {
            assert!(check_provider_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://accounts.example",
            "ftp://x",
            "accounts.example",
            "https://u:p@x.example",
            "https://x.example/#f",
            "http://127.0.0.1.evil.example",
            "https://",
        ] {
            assert!(check_provider_url(bad).is_err(), "{bad}");
        }
    }
}
