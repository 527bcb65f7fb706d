//! The tenant's directory connection (SPEC section 9): the owner gives the
//! issuer, client id and secret; the gateway makes the connection id once
//! and mails the owner what to hand to their users. The secret is stored
//! sealed to the tenant, never as typed.

use rand::Rng;
use rand::distr::Alphanumeric;

use super::{Accounts, Actor, Mailed, Result};
use crate::mail::Notice;
use crate::second_factor::TotpKey;
use crate::store::{StoreError, UserRow};

/// What the owner typed; `secret` empty keeps the stored one on an edit.
pub struct DirectoryForm<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub secret: &'a str,
}

/// What saving the directory came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectorySaved {
    Created {
        connection_id: String,
        mailed: Mailed,
    },
    Updated {
        connection_id: String,
    },
    /// Not `https://` (nor a loopback address): the reason, for the page.
    BadIssuer,
    NoClientId,
    /// A new directory needs its secret.
    NoSecret,
}

/// A new connection id: `adfs-` and 18 letters and digits.
pub fn new_connection_id() -> String {
    let tail: String = rand::rng().sample_iter(&Alphanumeric).take(18).map(char::from).collect();
    format!("adfs-{tail}")
}

/// An issuer the gateway may talk to: `https://`, or `http://` to a loopback
/// address (tests), with a host, and no user info, query or fragment (an
/// OpenID issuer has none, and discovery appends to it).
pub fn valid_issuer(issuer: &str) -> bool {
    !issuer.is_empty()
        && !issuer.contains(['?', ' ', '\t', '\n', '\r'])
        && issuer.len() <= 2048
        && config::check_provider_url(issuer).is_ok()
}

/// The URL a directory's users sign in at, on one hostname.
pub fn directory_url(cfg: &config::GatewayConfig, connection_id: &str, line_auth: bool) -> String {
    format!("{}/auth/ad/{connection_id}", cfg.public_url(line_auth))
}

impl Accounts<'_> {
    /// Creates or changes the owner's tenant directory. Editing keeps the
    /// connection id; creating mails the owner the id and both sign-in URLs.
    pub async fn save_directory(
        &self,
        by: &Actor<'_>,
        owner: &UserRow,
        form: &DirectoryForm<'_>,
        key: &TotpKey,
    ) -> Result<DirectorySaved> {
        let (issuer, client_id) = (form.issuer.trim(), form.client_id.trim());
        if !valid_issuer(issuer) {
            return Ok(DirectorySaved::BadIssuer);
        }
        if client_id.is_empty() || client_id.len() > 512 {
            return Ok(DirectorySaved::NoClientId);
        }
        let tenant_id = owner.tenant_id;
        let existing = self.store.directory(tenant_id).await?;
        let sealed = match (&existing, form.secret) {
            (Some(dir), "") => dir.sealed_secret.clone(),
            (None, "") => return Ok(DirectorySaved::NoSecret),
            (_, secret) => key.seal_directory_secret(tenant_id, secret),
        };
        // A fresh id that another tenant happens to hold is drawn again.
        let mut attempts = 0;
        let (connection_id, created) = loop {
            match self.store.save_directory(tenant_id, &new_connection_id(), issuer, client_id, &sealed).await {
                Ok(saved) => break saved,
                Err(StoreError::Conflict(_)) if attempts < 3 => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        };
        if !created {
            self.audit(by, Some(tenant_id), Some(&owner.email), "directory_updated").await;
            return Ok(DirectorySaved::Updated { connection_id });
        }
        self.audit(by, Some(tenant_id), Some(&owner.email), "directory_created").await;
        let (ordinary_url, line_auth_url) =
            (directory_url(self.cfg, &connection_id, false), directory_url(self.cfg, &connection_id, true));
        let notice = Notice::DirectoryCreated {
            connection_id: &connection_id,
            ordinary_url: &ordinary_url,
            line_auth_url: &line_auth_url,
        };
        let mailed = self.mail(by, &owner.email, &notice).await;
        Ok(DirectorySaved::Created { connection_id, mailed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_ids_have_the_documented_shape() {
        let a = new_connection_id();
        assert!(super::super::valid_connection_id(&a), "{a}");
        assert_ne!(a, new_connection_id());
    }

    #[test]
    fn issuers_are_https_or_loopback() {
        for ok in [
            "https://adfs.example.co.jp/adfs",
            "https://login.example/tenant/v2.0",
            "http://127.0.0.1:9400",
            "http://localhost:8080/x",
        ] {
            assert!(valid_issuer(ok), "{ok}");
        }
        for bad in [
            "",
            "http://adfs.example.co.jp/adfs",
            "ftp://adfs.example",
            "adfs.example",
            "https://",
            "https://u:p@adfs.example",
            "https://adfs.example/#x",
            "https://adfs.example/?a=b",
            "https://adfs.example/ x",
            "javascript:alert(1)",
        ] {
            assert!(!valid_issuer(bad), "{bad}");
        }
    }
}
