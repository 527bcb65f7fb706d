//! The emailed-link pages that need no session: unlock, forgot and reset.

use super::start::end_all;
use super::{Visit, csrf_for, hidden_field, notify, read_form, with_cookie};
use crate::mail::Notice;
use crate::store::LinkPurpose;
use crate::tokens;
use crate::ui::html::{error_box, escape, password_field};
use crate::web::{Outcome, Reply};

/// One page for every link that cannot be used, whatever the reason: telling
/// "expired" from "never existed" would only help someone guessing tokens.
pub fn dead_link(v: &Visit<'_>, next_step: &str) -> Reply {
    Reply::html(
        410,
        v.page(
            v.t("This link can no longer be used", "このリンクは使用できません"),
            &format!(
                "<p>{}</p><p>{}</p>",
                v.t(
                    "The link has expired, has already been used, or was replaced by a newer one.",
                    "リンクの有効期限が切れているか、すでに使用済みか、新しいリンクに置き換えられています。",
                ),
                next_step
            ),
        ),
    )
}

/// The stored hash of `ticket` when it is live for `purpose` (known, unused,
/// unexpired, made for this form); `Ok(None)` for any dead ticket. Set-password
/// forms ask this before hashing the new password, so a post with a made-up
/// ticket costs a query, not an argon2 run. The link is used up only later, by
/// the conditional `UPDATE`, once the hash is ready: a failure never burns it.
pub async fn live_ticket(
    v: &Visit<'_>,
    ticket: &str,
    purpose: LinkPurpose,
) -> Result<Option<String>, crate::store::StoreError> {
    let Some(hash) = tokens::hash_token(ticket) else { return Ok(None) };
    Ok(v.app.store.peek_link(&hash, purpose).await?.map(|_| hash))
}

fn ticket_hash(v: &Visit<'_>) -> Option<String> {
    v.req.query("ticket").and_then(|t| tokens::hash_token(&t))
}

pub async fn unlock(v: &Visit<'_>) -> Reply {
    let next = v.t(
        "If your account is still locked, use \"Forgot your password?\" on the sign-in page, or ask your administrator.",
        "まだロックされている場合は、ログインページの「パスワードをお忘れの方」から再設定するか、管理者にお問い合わせください。",
    );
    let Some(hash) = ticket_hash(v) else { return dead_link(v, next) };
    let user_id = match v.app.store.consume_link(&hash, LinkPurpose::Unlock).await {
        Ok(Some(id)) => id,
        Ok(None) => return dead_link(v, next),
        Err(e) => {
            tracing::error!(error = %e, "link lookup failed");
            return v.unavailable();
        }
    };
    if let Err(e) = v.app.store.unlock_user_id(user_id).await {
        tracing::error!(error = %e, "unlock failed");
        return v.unavailable();
    }
    audit(v, user_id, "unlock").await;
    Reply::html(
        200,
        v.page(
            v.t("Your account is unlocked", "アカウントのロックを解除しました"),
            v.t(
                "<p>You can sign in again. If you did not make the failed attempts yourself, change your password after signing in.</p><p><a href=\"/auth/login\">Sign in</a></p>",
                "<p>再びログインできるようになりました。ご自身に覚えのない失敗があった場合は、ログイン後にパスワードを変更してください。</p><p><a href=\"/auth/login\">ログイン</a></p>",
            ),
        ),
    )
}

async fn audit(v: &Visit<'_>, user_id: i64, event: &str) {
    let user = v.app.store.user_by_id(user_id).await.ok().flatten();
    let (tenant, email) = user.map(|u| (Some(u.tenant_id), Some(u.email))).unwrap_or((None, None));
    v.audit(tenant, email.as_deref(), email.as_deref(), event).await;
}

/// The forgot-password page as a route.
pub async fn forgot_page(v: &Visit<'_>) -> Reply {
    forgot_form(v, None)
}

pub fn forgot_form(v: &Visit<'_>, error: Option<&str>) -> Reply {
    let (token, cookie) = csrf_for(v);
    let body = v.page(
        v.t("Reset your password", "パスワードの再設定"),
        &format!(
            "<p>{intro}</p>{error}<form method=\"post\" action=\"/auth/password/forgot\">{csrf}\
             <label for=\"email\">{label}</label>\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
             <button type=\"submit\">{submit}</button></form><p><a href=\"/auth/login\">{back}</a></p>",
            intro = v.t(
                "Enter the email address you sign in with. We will send a link to set a new password.",
                "ログインに使用しているメールアドレスを入力してください。新しいパスワードを設定するためのリンクをお送りします。",
            ),
            error = error.map(error_box).unwrap_or_default(),
            csrf = hidden_field(&token),
            label = v.t("Email address", "メールアドレス"),
            submit = v.t("Send the link", "リンクを送信"),
            back = v.t("Back to sign in", "ログインに戻る"),
        ),
    );
    with_cookie(Reply::html(200, body), cookie)
}

/// Answers the same whether or not the address has an account.
pub async fn forgot_submit(v: &Visit<'_>) -> Outcome {
    if !v.app.login_throttle.allow(v.facts.client_ip) {
        return Ok(Reply::html(
            429,
            v.page(
                v.t("Too many attempts", "試行回数が多すぎます"),
                v.t("<p>Please wait a minute and try again.</p>", "<p>1分ほど待ってから再度お試しください。</p>"),
            ),
        )
        .header("retry-after", crate::throttle::WINDOW.as_secs().to_string()));
    }
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let email = form.get("email").unwrap_or("").trim().to_owned();
    if !crate::store::valid_email(&crate::store::canonical_email(&email)) {
        return Ok(forgot_form(
            v,
            Some(v.t(
                "Enter an email address such as name@example.com.",
                "name@example.com のような形式でメールアドレスを入力してください。",
            )),
        ));
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
    let body = v.page(
        v.t("Check your mail", "メールをご確認ください"),
        &format!(
            "<p>{}</p><p class=\"hint\">{}</p>",
            match v.lang {
                crate::ui::lang::Lang::En => format!(
                    "If an account signs in with {}, a link to set a new password is on its way. It works once, for {days} days.",
                    escape(&email)
                ),
                crate::ui::lang::Lang::Ja => format!(
                    "{} でログインするアカウントがある場合は、新しいパスワードを設定するためのリンクをお送りしました。リンクは1回のみ、{days}日間有効です。",
                    escape(&email)
                ),
            },
            v.t(
                "Nothing arrived? Check the spam folder, or ask your administrator.",
                "メールが届かない場合は、迷惑メールフォルダをご確認いただくか、管理者にお問い合わせください。",
            ),
        ),
    );
    Ok(Reply::html(200, body))
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
        let token = tokens::random_token();
        let Some(hash) = tokens::hash_token(&token) else { return };
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
        let link = format!("{}/auth/password/reset?ticket={token}", self.base_url);
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

fn reset_page(v: &Visit<'_>, csrf_token: &str, ticket: &str, errors: (Option<&str>, Option<&str>)) -> String {
    v.page(
        v.t("Set a new password", "新しいパスワードの設定"),
        &format!(
            "<form method=\"post\" action=\"/auth/password/reset?ticket={ticket}\">{csrf}{p1}{p2}<button type=\"submit\">{submit}</button></form>\
             <p class=\"hint\">{note}</p>",
            ticket = escape(ticket),
            csrf = hidden_field(csrf_token),
            p1 = password_field(&v.ui(), "password", v.t("New password", "新しいパスワード"), "new-password", true, errors.0),
            p2 = password_field(&v.ui(), "password_confirm", v.t("New password again", "新しいパスワード（確認）"), "new-password", false, errors.1),
            submit = v.t("Set password", "パスワードを設定"),
            note = v.t(
                "Setting a new password unlocks the account, signs you out everywhere and resets 2-step verification.",
                "新しいパスワードを設定すると、アカウントのロックが解除され、すべての端末でログアウトし、2段階認証の設定がリセットされます。",
            ),
        ),
    )
}

fn reset_next(v: &Visit<'_>) -> &'static str {
    v.t(
        "Request a new link with \"Forgot your password?\" on the sign-in page.",
        "ログインページの「パスワードをお忘れの方」から、新しいリンクをお申し込みください。",
    )
}

pub async fn reset_form(v: &Visit<'_>) -> Reply {
    let ticket = v.req.query("ticket").unwrap_or_default();
    let live = match tokens::hash_token(&ticket) {
        Some(h) => matches!(v.app.store.peek_link(&h, LinkPurpose::Reset).await, Ok(Some(_))),
        None => false,
    };
    if !live {
        return dead_link(v, reset_next(v));
    }
    let (token, cookie) = csrf_for(v);
    with_cookie(Reply::html(200, reset_page(v, &token, &ticket, (None, None))), cookie)
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
    let ticket = v.req.query("ticket").unwrap_or_default();
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(reply) => return Ok(reply),
    };
    let hash = match live_ticket(v, &ticket, LinkPurpose::Reset).await {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(dead_link(v, reset_next(v))),
        Err(e) => {
            tracing::error!(error = %e, "link lookup failed");
            return Ok(v.unavailable());
        }
    };
    let password = form.get("password").unwrap_or("");
    if let Err(errors) = check_new_password(v, password, form.get("password_confirm").unwrap_or("")) {
        let (token, _) = csrf_for(v);
        return Ok(Reply::html(400, reset_page(v, &token, &ticket, errors)));
    }
    // Hash first: a failure here must not use the link up.
    let hashed = match v.app.hasher.hash(password.to_owned()).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "hashing failed");
            return Ok(v.unavailable());
        }
    };
    let user_id = match v.app.store.consume_link(&hash, LinkPurpose::Reset).await {
        Ok(Some(id)) => id,
        Ok(None) => return Ok(dead_link(v, reset_next(v))),
        Err(e) => {
            tracing::error!(error = %e, "link lookup failed");
            return Ok(v.unavailable());
        }
    };
    let had_second_factor = v.app.store.enrolment(user_id).await.map(|e| e.any()).unwrap_or(false);
    let done = async {
        v.app.store.set_password_hash(user_id, &hashed).await?;
        v.app.store.unlock_user_id(user_id).await?;
        v.app.store.reset_second_factors(user_id).await?;
        end_all(v, user_id).await
    };
    if let Err(e) = done.await {
        tracing::error!(error = %e, "password reset failed");
        return Ok(v.unavailable());
    }
    audit(v, user_id, "password_reset").await;
    if let Ok(Some(user)) = v.app.store.user_by_id(user_id).await {
        notify::mail(v, &user.email, &Notice::PasswordChanged);
        if had_second_factor {
            notify::mail(v, &user.email, &Notice::SecondFactorReset);
        }
    }
    Ok(Reply::html(
        200,
        v.page(
            v.t("Your new password is set", "新しいパスワードを設定しました"),
            v.t(
                "<p>Sign in with your email address and the new password.</p><p><a href=\"/auth/login\">Sign in</a></p>",
                "<p>メールアドレスと新しいパスワードでログインしてください。</p><p><a href=\"/auth/login\">ログイン</a></p>",
            ),
        ),
    ))
}
