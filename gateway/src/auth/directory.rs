//! `/auth/settings/directory`: the owner's Active Directory connection
//! (SPEC section 9). The operation is `Accounts::save_directory`; this page
//! shows the connection id and sign-in URLs once they exist.

use super::sudo::Gated;
use super::views::methods::{DirectoryPage, DirectoryShown};
use super::{Visit, csrf_for, read_form, to_login, with_cookie};
use crate::accounts::{DirectoryForm, DirectorySaved, Mailed, directory_url};
use crate::web::{Outcome, Reply, page};

/// The page with what was typed (or what is stored) and the field errors.
async fn directory_page(
    v: &Visit<'_>,
    a: &Gated,
    typed: Option<(&str, &str)>,
    errors: [Option<&'static str>; 3],
    status: u16,
) -> Outcome {
    let stored = v.app.store.directory(a.cached.rec.tenant_id).await?;
    let note = match v.req.query("done").as_deref() {
        Some("created") => Some(v.t(
            "The connection is created. Its ID and sign-in URLs were mailed to you as well.",
            "接続を作成しました。接続IDとログイン用URLはメールでもお送りしました。",
        )),
        Some("created-unmailed") => Some(v.t(
            "The connection is created, but the mail with its ID and URLs could not be sent. They are shown below.",
            "接続を作成しましたが、接続IDとURLのメールを送信できませんでした。下記をご確認ください。",
        )),
        Some("updated") => Some(v.t("The connection is saved.", "接続を保存しました。")),
        _ => None,
    };
    let (issuer, client_id) = match (typed, &stored) {
        (Some(t), _) => (t.0.to_owned(), t.1.to_owned()),
        (None, Some(d)) => (d.issuer.clone(), d.client_id.clone()),
        (None, None) => (String::new(), String::new()),
    };
    let existing = stored.map(|d| DirectoryShown {
        ordinary_url: directory_url(&v.app.cfg, &d.connection_id, false),
        line_auth_url: directory_url(&v.app.cfg, &d.connection_id, true),
        connection_id: d.connection_id,
    });
    let (token, cookie) = csrf_for(v);
    let view = DirectoryPage {
        ui: v.ui(),
        title: v.t("Active Directory connection", "Active Directory 接続"),
        csrf: &token,
        note,
        existing,
        issuer: &issuer,
        client_id: &client_id,
        errors,
    };
    Ok(with_cookie(page(status, &view)?, cookie))
}

pub async fn form(v: &Visit<'_>, a: Gated) -> Outcome {
    directory_page(v, &a, None, [None, None, None], 200).await
}

pub async fn submit(v: &Visit<'_>, a: Gated) -> Outcome {
    let form = read_form(v)?;
    let Some(owner) = v.app.store.user_by_id(a.cached.rec.user_id).await? else { return Ok(to_login(v)) };
    let typed = DirectoryForm {
        issuer: form.get("issuer").unwrap_or(""),
        client_id: form.get("client_id").unwrap_or(""),
        secret: form.get("client_secret").unwrap_or(""),
    };
    let by = v.actor(Some(&owner.email));
    let saved = v.accounts().save_directory(&by, &owner, &typed, &v.app.totp_key).await?;
    let again = Some((typed.issuer, typed.client_id));
    let done = match saved {
        DirectorySaved::Created { mailed: Mailed::Sent, .. } => "created",
        DirectorySaved::Created { mailed: Mailed::Failed, .. } => "created-unmailed",
        DirectorySaved::Updated { .. } => "updated",
        DirectorySaved::BadIssuer => {
            let e = v.t(
                "Enter the directory's issuer URL, starting with https:// (no query or fragment).",
                "ディレクトリの発行者URLを https:// で始まる形式で入力してください（? や # は使えません）。",
            );
            return directory_page(v, &a, again, [Some(e), None, None], 400).await;
        }
        DirectorySaved::NoClientId => {
            let e = v.t(
                "Enter the client ID the directory gave you.",
                "ディレクトリで発行されたクライアントIDを入力してください。",
            );
            return directory_page(v, &a, again, [None, Some(e), None], 400).await;
        }
        DirectorySaved::NoSecret => {
            let e = v.t(
                "Enter the client secret the directory gave you.",
                "ディレクトリで発行されたクライアントシークレットを入力してください。",
            );
            return directory_page(v, &a, again, [None, None, Some(e)], 400).await;
        }
    };
    Ok(Reply::redirect(303, format!("/auth/settings/directory?done={done}")))
}

#[cfg(test)]
mod tests;
