//! The pages of the mailed links that need no session: unlock, forgot and
//! reset. Vocabulary: a mail carries a *link*; its secret part is the
//! *ticket* (the URL parameter `ticket`, which mails already sent carry; only
//! its hash is stored). What a link does is an account operation
//! (`accounts::mailed_links`); these pages only ask and answer.

use super::views::links::{Dead, Forgot, ForgotSent, Reset as ResetPage, ResetDone, Unlocked};
use super::views::two_step::TooMany;
use super::{Visit, csrf_for, read_form, with_cookie};
use crate::accounts::Reset;
use crate::mail::Notice;
use crate::store::LinkPurpose;
use crate::tokens;
use crate::ui::markup::Markup;
use crate::web::{Outcome, Refusal, Reply, page};

/// One page for every link that cannot be used, whatever the reason: telling
/// "expired" from "never existed" would only help someone guessing tickets.
pub fn dead_link(v: &Visit<'_>, next_step: &'static str) -> Reply {
    let view = Dead {
        ui: v.ui(),
        title: v.t("This link can no longer be used", "このリンクは使用できません"),
        next: Markup::literal(next_step),
    };
    match page(410, &view) {
        Ok(reply) | Err(Refusal::Answer(reply)) => reply,
        Err(Refusal::Broken { what, cause }) => {
            tracing::error!(what, cause, "the dead-link page could not be rendered");
            Reply::text(410, "this link can no longer be used\n")
        }
    }
}

/// The `ticket` of the link that was opened.
fn ticket(v: &Visit<'_>) -> String {
    v.req.query("ticket").unwrap_or_default()
}

pub async fn unlock(v: &Visit<'_>) -> Outcome {
    let next = v.t(
        "If your account is still locked, use \"Forgot your password?\" on the sign-in page, or ask your administrator.",
        "まだロックされている場合は、ログインページの「パスワードをお忘れの方」から再設定するか、管理者にお問い合わせください。",
    );
    match v.accounts().unlock_by_link(&v.actor(None), &ticket(v)).await? {
        Some(_) => page(
            200,
            &Unlocked {
                ui: v.ui(), title: v.t("Your account is unlocked", "アカウントのロックを解除しました")
            },
        ),
        None => Ok(dead_link(v, next)),
    }
}

/// The forgot-password page as a route.
pub async fn forgot_page(v: &Visit<'_>) -> Outcome {
    forgot_form(v, "", None)
}

pub fn forgot_form(v: &Visit<'_>, email: &str, error: Option<&str>) -> Outcome {
    let (token, cookie) = csrf_for(v);
    let status = if error.is_some() { 400 } else { 200 };
    let view =
        Forgot {
            ui: v.ui(), title: v.t("Reset your password", "パスワードの再設定"), csrf: &token, email, error
        };
    Ok(with_cookie(page(status, &view)?, cookie))
}

/// Answers the same whether or not the address has an account.
pub async fn forgot_submit(v: &Visit<'_>) -> Outcome {
    if !v.app.allow_login(v.facts.client_ip).await {
        let title = v.t("Too many attempts", "試行回数が多すぎます");
        return Ok(page(429, &TooMany { ui: v.ui(), title })?
            .header("retry-after", crate::throttle::WINDOW.as_secs().to_string()));
    }
    let form = read_form(v)?;
    let email = form.get("email").unwrap_or("").trim().to_owned();
    if !crate::store::valid_email(&crate::store::canonical_email(&email)) {
        let why = v.t(
            "Enter an email address such as name@example.com.",
            "name@example.com のような形式でメールアドレスを入力してください。",
        );
        return forgot_form(v, &email, Some(why));
    }
    // Answered before the address is even looked up: the answer, and the time it
    // takes, are the same whether or not the address has an account.
    let request = ResetRequest {
        store: v.app.store.clone(),
        mailer: v.app.mailer.clone(),
        email: email.clone(),
        base_url: v.link(""),
        lang: v.lang,
        product: v.app.cfg.ui.product_name.clone(),
        validity: v.app.cfg.links.validity,
        ip: v.facts.ip_text(),
        host: v.facts.host.as_str(),
    };
    super::background::spawn("password reset request", request.run());
    let days = v.app.cfg.links.validity.as_secs() / 86400;
    page(
        200,
        &ForgotSent {
            ui: v.ui(), title: v.t("Check your mail", "メールをご確認ください"), email: &email, days
        },
    )
}

/// Per address, a minute: what a stranger can make one mailbox receive.
static RESETS_PER_ADDRESS: std::sync::LazyLock<crate::throttle::Throttle<String>> =
    std::sync::LazyLock::new(|| crate::throttle::Throttle::new(3));

/// A forgot-password request, carried out after the answer was sent.
struct ResetRequest {
    store: crate::store::Store,
    mailer: std::sync::Arc<crate::mail::Mailer>,
    email: String,
    base_url: String,
    lang: crate::ui::lang::Lang,
    product: String,
    validity: std::time::Duration,
    ip: Option<String>,
    host: &'static str,
}

impl ResetRequest {
    async fn run(self) {
        let user = match self.store.user_by_email(&self.email).await {
            Ok(Some(user)) if user.login_method == policy::LoginMethod::Password => user,
            Ok(_) => return,
            Err(e) => {
                tracing::error!(error = %e, "user lookup failed");
                return;
            }
        };
        if !RESETS_PER_ADDRESS.allow_key(user.email.clone()) {
            tracing::info!(user_id = user.id, "reset request dropped: too many for this address");
            return;
        }
        let ticket = tokens::random_token();
        let Some(hash) = tokens::hash_token(&ticket) else { return };
        let link = crate::store::NewLink {
            token_hash: &hash,
            purpose: LinkPurpose::Reset,
            user_id: user.id,
            payload: None,
            expires_at: crate::store::now() + self.validity.as_secs() as i64,
        };
        if let Err(e) = self.store.create_link(link).await {
            tracing::error!(error = %e, "creating a reset link failed");
            return;
        }
        let audited = self
            .store
            .audit(
                Some(user.tenant_id),
                None,
                Some(&user.email),
                "reset_requested",
                self.ip.as_deref(),
                Some(self.host),
            )
            .await;
        if let Err(e) = audited {
            tracing::warn!(error = %e, "could not write an audit entry");
        }
        let link = format!("{}/auth/password/reset?ticket={ticket}", self.base_url);
        let days = self.validity.as_secs() / 86400;
        let msg = crate::mail::render(&Notice::Reset { link: &link }, self.lang, &self.product, days);
        // Sent here rather than on a task of its own, so that the job keeps its
        // place in the bounded queue until the relay has the mail: a slow relay
        // fills the queue instead of piling up unbounded sends.
        if let Err(e) = self.mailer.send(&user.email, &msg).await {
            tracing::warn!(user_id = user.id, error = %e, "reset mail not sent");
        }
    }
}

fn reset_page(
    v: &Visit<'_>,
    status: u16,
    ticket: &str,
    errors: (Option<&'static str>, Option<&'static str>),
) -> Outcome {
    let (token, cookie) = csrf_for(v);
    let view = ResetPage {
        ui: v.ui(),
        title: v.t("Set a new password", "新しいパスワードの設定"),
        csrf: &token,
        ticket,
        rule: crate::password::rule_text(v.lang),
        password_error: errors.0,
        confirm_error: errors.1,
    };
    Ok(with_cookie(page(status, &view)?, cookie))
}

fn reset_next(v: &Visit<'_>) -> &'static str {
    v.t(
        "Request a new link with \"Forgot your password?\" on the sign-in page.",
        "ログインページの「パスワードをお忘れの方」から、新しいリンクをお申し込みください。",
    )
}

pub async fn reset_form(v: &Visit<'_>) -> Outcome {
    let ticket = ticket(v);
    if v.accounts().live_ticket(&ticket, LinkPurpose::Reset).await?.is_none() {
        return Ok(dead_link(v, reset_next(v)));
    }
    reset_page(v, 200, &ticket, (None, None))
}

/// Checks a new password and its confirmation; the errors go next to their fields.
pub fn check_new_password<'a>(
    v: &Visit<'a>,
    password: &str,
    again: &str,
) -> Result<(), (Option<&'static str>, Option<&'static str>)> {
    if let Some(why) = crate::password::rule_failure(v.lang, password) {
        return Err((Some(why), None));
    }
    if password != again {
        return Err((None, Some(v.t("The two passwords are not the same.", "2つのパスワードが一致しません。"))));
    }
    Ok(())
}

pub async fn reset_submit(v: &Visit<'_>) -> Outcome {
    let ticket = ticket(v);
    let form = read_form(v)?;
    // A dead link is answered before the password is even looked at.
    if v.accounts().live_ticket(&ticket, LinkPurpose::Reset).await?.is_none() {
        return Ok(dead_link(v, reset_next(v)));
    }
    let password = form.get("password").unwrap_or("");
    if let Err(errors) = check_new_password(v, password, form.get("password_confirm").unwrap_or("")) {
        return reset_page(v, 400, &ticket, errors);
    }
    match v.accounts().reset_password_by_link(&v.actor(None), &v.app.hasher, &ticket, password).await? {
        Reset::Done(_) => page(
            200,
            &ResetDone {
                ui: v.ui(), title: v.t("Your new password is set", "新しいパスワードを設定しました")
            },
        ),
        Reset::DeadLink => Ok(dead_link(v, reset_next(v))),
        Reset::Busy => Ok(v.unavailable().header("retry-after", crate::password::QUEUE_WAIT.as_secs().to_string())),
    }
}

#[cfg(test)]
#[path = "links_tests.rs"]
mod tests;
