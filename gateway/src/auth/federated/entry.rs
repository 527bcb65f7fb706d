//! Where a sign-in through a provider starts: a provider's button, the
//! directory button (which asks for the connection id), and the directory URL
//! mailed to the tenant's owner.

use super::super::views::federated::{DirectoryEntry, ProviderButton};
use super::super::{csrf_for, read_form, with_cookie};
use super::flow::{Begin, begin};

use crate::federation::ProviderSpec;
use crate::store::FlowPurpose;
use crate::web::rd::ReturnPath;
use crate::web::route::segment;
use crate::web::{Outcome, Reply, Visit, page};

/// The login page's buttons, in the configured order.
pub fn buttons(v: &Visit<'_>, rd: &ReturnPath) -> Vec<ProviderButton> {
    v.app
        .cfg
        .login
        .providers
        .iter()
        .map(|p| ProviderButton {
            href: format!("/auth/oidc/{}?rd={}", p.id, rd.encoded()),
            label: super::method_label(v, &p.id),
        })
        .collect()
}

/// The configured provider with this id.
pub fn provider(v: &Visit<'_>, id: &str) -> Option<ProviderSpec> {
    v.app.cfg.login.providers.iter().find(|p| p.id == id).map(ProviderSpec::from_config)
}

/// A tenant directory as a provider, its secret opened; `None` when the
/// stored secret does not open with this gateway's key.
pub fn directory_spec(v: &Visit<'_>, dir: &crate::store::DirectoryRow) -> Option<ProviderSpec> {
    let secret = v.app.totp_key.open_directory_secret(dir.tenant_id, &dir.sealed_secret);
    if secret.is_none() {
        tracing::error!(tenant = dir.tenant_id, "a directory's client secret does not open with this gateway's key");
    }
    secret.map(|s| ProviderSpec {
        loopback: v.app.cfg.login.directories_on_loopback,
        ..ProviderSpec::directory(&dir.issuer, &dir.client_id, &s)
    })
}

fn not_found(v: &Visit<'_>) -> Reply {
    Reply::html(404, crate::ui::pages::not_found(&v.ui()))
}

/// `GET /auth/oidc/{provider}`: sign in with a configured provider.
pub async fn start_provider(v: &Visit<'_>) -> Outcome {
    let Some(spec) = provider(v, segment(v.req.path())) else { return Ok(not_found(v)) };
    let rd = ReturnPath::from_query(&v.req, "/");
    let b = Begin {
        spec,
        tenant_id: None,
        purpose: FlowPurpose::Login,
        rd: Some(rd.into_string()),
        user_id: None,
        ticket_hash: None,
        session_hash: None,
    };
    begin(v, b).await
}

/// `GET /auth/ad/{connection_id}`: the URL the owner hands to their users.
pub async fn start_directory(v: &Visit<'_>) -> Outcome {
    if let Some(reply) = super::super::login::throttled(v).await {
        return Ok(reply);
    }
    let id = segment(v.req.path());
    match directory_by_id(v, id).await? {
        Some(b) => begin(v, b).await,
        None => Ok(not_found(v)),
    }
}

async fn directory_by_id(v: &Visit<'_>, connection_id: &str) -> Result<Option<Begin>, crate::store::StoreError> {
    if !crate::accounts::valid_connection_id(connection_id) {
        return Ok(None);
    }
    let Some(dir) = v.app.store.directory_by_connection(connection_id).await? else { return Ok(None) };
    let Some(spec) = directory_spec(v, &dir) else { return Ok(None) };
    let rd = ReturnPath::from_query(&v.req, "/");
    Ok(Some(Begin {
        spec,
        tenant_id: Some(dir.tenant_id),
        purpose: FlowPurpose::Login,
        rd: Some(rd.into_string()),
        user_id: None,
        ticket_hash: None,
        session_hash: None,
    }))
}

fn entry_page(v: &Visit<'_>, rd: &ReturnPath, error: Option<&str>, status: u16) -> Outcome {
    let (token, cookie) = csrf_for(v);
    let view = DirectoryEntry {
        ui: v.ui(),
        title: v.t("Sign in with your organisation's directory", "Active Directory でログイン"),
        csrf: &token,
        rd: rd.as_str(),
        error,
    };
    Ok(with_cookie(page(status, &view)?, cookie))
}

/// `GET /auth/ad`: the directory button asks which directory.
pub async fn directory_form(v: &Visit<'_>) -> Outcome {
    entry_page(v, &ReturnPath::from_query(&v.req, "/"), None, 200)
}

/// `POST /auth/ad`: the connection id typed in. A wrong one is refused; the
/// shared per-address throttle stops anyone walking the id space.
pub async fn directory_submit(v: &Visit<'_>) -> Outcome {
    if let Some(reply) = super::super::login::throttled(v).await {
        return Ok(reply);
    }
    let form = read_form(v)?;
    let rd = ReturnPath::from_form(&form, "/");
    let typed = form.get("connection_id").unwrap_or("").trim();
    match directory_by_id(v, typed).await? {
        Some(mut b) => {
            b.rd = Some(rd.into_string());
            begin(v, b).await
        }
        None => {
            let msg = v.t(
                "There is no directory with that connection ID. Check the ID your administrator gave you.",
                "その接続IDのディレクトリはありません。管理者から案内された接続IDをご確認ください。",
            );
            entry_page(v, &rd, Some(msg), 400)
        }
    }
}
