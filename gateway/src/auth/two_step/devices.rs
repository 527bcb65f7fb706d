//! The signed-in user's remembered browsers, and the way to change the
//! registered phone or app.

use super::super::sudo::Gated;
use super::super::views::two_step::{DeviceRow, Devices};
use super::super::{Visit, csrf_for, read_form, with_cookie};
use crate::web::{Outcome, page};

pub async fn devices_page(v: &Visit<'_>, a: Gated) -> Outcome {
    devices(v, &a, None).await
}

async fn devices(v: &Visit<'_>, a: &Gated, note: Option<&str>) -> Outcome {
    let user_id = a.cached.rec.user_id;
    let rows = v
        .app
        .store
        .devices(user_id)
        .await?
        .into_iter()
        .map(|d| DeviceRow {
            id: d.id,
            label: d.label.unwrap_or_else(|| "-".to_owned()),
            last_used: crate::ui::html::date(d.last_used_at),
        })
        .collect();
    let enrolment = v.app.store.enrolment(user_id).await?;
    let (token, cookie) = csrf_for(v);
    let view = Devices {
        ui: v.ui(),
        title: v.t("Remembered browsers", "記憶済みのブラウザ"),
        csrf: &token,
        rows,
        note,
        phone: enrolment.sms_phone.is_some(),
        app: enrolment.totp_secret.is_some(),
    };
    Ok(with_cookie(page(200, &view)?, cookie))
}

pub async fn devices_revoke(v: &Visit<'_>, a: Gated) -> Outcome {
    let r = &a.cached.rec;
    let form = read_form(v)?;
    let id = form.get("id").and_then(|i| i.parse::<i64>().ok()).unwrap_or(-1);
    let by = v.actor(Some(&r.email));
    let removed = v.accounts().forget_browser(&by, r.user_id, r.tenant_id, &r.email, id).await?;
    let note = if removed {
        v.t("The browser is forgotten.", "ブラウザの記憶を解除しました。")
    } else {
        v.t("Nothing to forget.", "解除する項目がありません。")
    };
    devices(v, &a, Some(note)).await
}
