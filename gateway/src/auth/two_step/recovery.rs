//! The recovery code: signing in with it, and saving the new one that an
//! enrolment or a used code brings.

use policy::Factor;

use super::super::start::{NewLogin, end_current, start};
use super::super::views::two_step::{Recovery, SaveRecovery};
use super::super::{Visit, csrf_for, read_form, with_cookie};
use super::done::complete;
use super::{Pending, code_entry, locked_now, wrong_code};
use crate::accounts::{Checked, Proof, Purpose};
use crate::web::rd::ReturnPath;
use crate::web::{Outcome, Reply, page};

fn recovery_page(v: &Visit<'_>, status: u16, csrf: &str, rd: &ReturnPath, error: Option<&str>) -> Outcome {
    page(
        status,
        &Recovery {
            ui: v.ui(), title: v.t("Use your recovery code", "リカバリーコードの使用"), csrf, rd, error
        },
    )
}

pub async fn recovery_form(v: &Visit<'_>, _: Pending) -> Outcome {
    let rd = ReturnPath::from_query(&v.req, "/");
    let (token, cookie) = csrf_for(v);
    Ok(with_cookie(recovery_page(v, 200, &token, &rd, None)?, cookie))
}

pub async fn recovery_submit(v: &Visit<'_>, p: Pending) -> Outcome {
    let (form, rd) = code_entry(v, &p).await?;
    let (token, _) = csrf_for(v);
    let user = p.user(v).await?;
    let code = form.get("code").unwrap_or("");
    let by = v.actor(Some(&user.email));
    match v.accounts().check_second_factor(&by, &v.app.totp_key, &user, Proof::Recovery(code), Purpose::SignIn).await? {
        Checked::Right { .. } => hold_until_saved(v, &p, Factor::Recovery, form.get("remember").is_some(), &rd).await,
        Checked::Locked => locked_now(v).await,
        Checked::Wrong { locked } => {
            let msg = v.t(
                "That recovery code is not correct or was already used.",
                "リカバリーコードが正しくないか、すでに使用済みです。",
            );
            wrong_code(v, &p, locked, recovery_page(v, 400, &token, &rd, Some(msg))).await
        }
        Checked::Dead | Checked::NotEnrolled => Ok(Reply::redirect(303, rd.on("/auth/2fa"))),
    }
}

/// A new session whose factor waits for the new recovery code to be saved.
pub(super) async fn hold_until_saved(
    v: &Visit<'_>,
    p: &Pending,
    factor: Factor,
    remember: bool,
    rd: &ReturnPath,
) -> Outcome {
    let r = &p.cached.rec;
    let login = NewLogin {
        user_id: r.user_id,
        tenant_id: r.tenant_id,
        email: &r.email,
        role: r.role,
        factor: None,
        line: None,
        pending_factor: Some(factor),
        pending_remember: remember,
        provider: None,
    };
    let cookie = start(v, login).await?;
    end_current(v).await;
    Ok(Reply::redirect(303, rd.on("/auth/recovery-code")).header("set-cookie", cookie))
}

/// Shows a freshly made recovery code (its hash replaces the old one).
pub async fn recovery_code(v: &Visit<'_>, p: Pending) -> Outcome {
    let rd = ReturnPath::from_query(&v.req, "/");
    if p.cached.rec.pending_factor.is_none() {
        return Ok(Reply::redirect(303, rd.on("/auth/2fa")));
    }
    let user = p.user(v).await?;
    let code = v.accounts().new_recovery_code(&user).await?;
    let (token, cookie) = csrf_for(v);
    let view = SaveRecovery {
        ui: v.ui(),
        title: v.t("Save your recovery code", "リカバリーコードを保存してください"),
        csrf: &token,
        rd: &rd,
        code: &code,
    };
    Ok(with_cookie(page(200, &view)?, cookie))
}

pub async fn recovery_code_saved(v: &Visit<'_>, p: Pending) -> Outcome {
    let form = read_form(v)?;
    let rd = ReturnPath::from_form(&form, "/");
    let Some(factor) = p.cached.rec.pending_factor else {
        return Ok(Reply::redirect(303, rd.on("/auth/2fa")));
    };
    if form.get("saved").is_none() {
        return Ok(Reply::redirect(303, rd.on("/auth/recovery-code")));
    }
    let user = p.user(v).await?;
    complete(v, &p, &user, factor, p.cached.rec.pending_remember, &rd).await
}
