//! 2-step verification on the ordinary hostname: enrolment (SMS first, or an
//! authenticator app), the code pages, the recovery code, remembered browsers.
//!
//! A password login that still needs its second factor holds a session whose
//! factor is empty; the proxy sends it here. Entering a code replaces that
//! session with a new one (new id) that carries the factor. After an enrolment
//! or a recovery-code sign-in the factor is first held as "pending" until the
//! user confirms that the new recovery code is saved.

use std::sync::Arc;

use policy::{Factor, HostKind};

use super::start::{NewLogin, clear_cookie, end_current, start};
use super::sudo::Admin;
use super::{Visit, csrf_for, hidden_field, notify, rd, read_form, with_cookie};
use crate::mail::Notice;
use crate::second_factor::{self as sf, recovery};
use crate::session::{Cached, CookieFact, CookieSpec, read_cookie, set_cookie};
use crate::sms::{SmsMessage, mask_phone, normalize_phone};
use crate::store::{Enrolment, SmsCheck, now};
use crate::tokens;
use crate::ui::html::{error_box, escape};
use crate::web::{Outcome, Refusal, Reply};

/// Wrong codes one pending login survives before it ends.
pub const MAX_FAILURES: i64 = 5;
/// An SMS code's life, and the least time between two codes.
const SMS_TTL: i64 = 300;
const SMS_GAP: i64 = 30;
/// A remembered browser, and the user's own access, count for this long.
pub const REMEMBER_SECS: i64 = 30 * 86400;
pub const DEVICE_COOKIE: &str = "gw_device";

/// The browser's session that is waiting for its second factor.
pub struct Pending {
    id: [u8; 32],
    cached: Arc<Cached>,
}

pub(super) async fn pending(v: &Visit<'_>) -> Result<Pending, Reply> {
    let req = &v.req;
    let back = || super::to_login(v);
    let CookieFact::Present(id) =
        read_cookie(req.headers.get_all("cookie").iter().map(|h| h.as_bytes()), &v.app.cfg.session.cookie_name)
    else {
        return Err(back());
    };
    let cached = match v.app.sessions.lookup(&v.app.store, &id, now()).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(back()),
        Err(_) => return Err(v.unavailable()),
    };
    if cached.rec.host != HostKind::Ordinary || v.facts.host != HostKind::Ordinary {
        return Err(back());
    }
    if cached.rec.factor.is_some() {
        // Nothing left to do here.
        return Err(Reply::redirect(303, return_path(req)));
    }
    // A locked second factor refuses every code, even a right one: the pending
    // login ends here.
    match v.app.store.second_factor_locked(cached.rec.user_id).await {
        Ok(false) => {}
        Ok(true) => {
            end_current(v).await;
            return Err(locked_reply(v).header("set-cookie", clear_cookie(v)));
        }
        Err(_) => return Err(v.unavailable()),
    }
    Ok(Pending { id, cached })
}

/// What a user whose second factor is locked is told, and how it is undone.
pub(super) fn locked_reply(v: &Visit<'_>) -> Reply {
    let body = v.page(
        v.t("2-step verification is locked", "2段階認証がロックされています"),
        v.t(
            "<p>Too many wrong codes were entered for your account, so its 2-step verification is locked. No code is accepted until it is unlocked.</p>\
             <p>We sent you an email with a link that unlocks it. You can also set a new password with <a href=\"/auth/password/forgot\">Forgot your password?</a>, or ask your administrator to reset your 2-step verification.</p>",
            "<p>誤ったコードが続けて入力されたため、お客様の2段階認証をロックしました。ロックが解除されるまで、どのコードも受け付けません。</p>\
             <p>ロックを解除するためのリンクをメールでお送りしました。<a href=\"/auth/password/forgot\">パスワードをお忘れの方</a>から新しいパスワードを設定するか、管理者に2段階認証のリセットを依頼しても解除できます。</p>",
        ),
    );
    Reply::html(403, body)
}

/// Counts a wrong second-factor code against the user, across sessions and
/// logins; at the configured limit the second factor is locked and the user is
/// mailed the unlock link (the mailbox, an admin or a password reset undoes
/// it). True when the second factor is locked now.
pub(super) async fn count_user_failure(v: &Visit<'_>, user_id: i64, tenant_id: i64, email: &str) -> bool {
    let n = match v.app.store.record_user_factor_failure(user_id).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "counting a wrong code failed");
            i64::MAX
        }
    };
    if n < i64::from(v.app.cfg.login.second_factor_lock_after) {
        return false;
    }
    match v.app.store.lock_second_factor(user_id).await {
        Ok(true) => {}
        Ok(false) => return true,
        Err(e) => {
            tracing::error!(error = %e, "locking a second factor failed");
            return true;
        }
    }
    v.audit(Some(tenant_id), None, Some(email), "second_factor_locked").await;
    match notify::new_link(&v.app.cfg, &v.app.store, user_id, crate::store::LinkPurpose::Unlock, None).await {
        Ok(token) => {
            let link = v.link(&format!("/auth/unlock?ticket={token}"));
            notify::mail(v, email, &Notice::SecondFactorLocked { unlock_link: &link });
        }
        Err(e) => tracing::error!(error = %e, "creating the unlock link failed"),
    }
    true
}

fn return_path(req: &crate::web::Request) -> String {
    rd::safe_return(&req.query("rd").unwrap_or_else(|| "/".into()))
}

fn rd_field(rd: &str) -> String {
    format!("<input type=\"hidden\" name=\"rd\" value=\"{}\">", escape(rd))
}

fn rd_query(rd: &str) -> String {
    percent_encoding::utf8_percent_encode(rd, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn remember_box(v: &Visit<'_>) -> String {
    format!(
        "<p><label><input type=\"checkbox\" name=\"remember\" value=\"1\"> {}</label></p>",
        v.t("Remember this browser for 30 days", "このブラウザを30日間記憶する")
    )
}

fn code_input(v: &Visit<'_>, label: &str, error: Option<&str>, numeric: bool) -> String {
    let err = error
        .map(|e| format!("<p id=\"code-error\" class=\"field-error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let mode = if numeric { " inputmode=\"numeric\" pattern=\"[0-9 ]*\" maxlength=\"8\"" } else { "" };
    let described = if error.is_some() { " aria-describedby=\"code-error\"" } else { "" };
    let _ = v;
    format!(
        "<label for=\"code\">{}</label><input id=\"code\" name=\"code\" type=\"text\" autocomplete=\"one-time-code\" required{mode}{described}>{err}",
        escape(label)
    )
}

/// Checks the per-address and per-user limits on code entry.
pub(super) fn throttled(v: &Visit<'_>, user_id: i64) -> Option<Reply> {
    if v.app.code_throttle_ip.allow(v.facts.client_ip) && v.app.code_throttle_user.allow_key(user_id) {
        return None;
    }
    let body = v.page(
        v.t("Too many attempts", "試行回数が多すぎます"),
        v.t("<p>Please wait a minute and try again.</p>", "<p>1分ほど待ってから再度お試しください。</p>"),
    );
    Some(Reply::html(429, body).header("retry-after", crate::throttle::WINDOW.as_secs().to_string()))
}

/// Counts a wrong code, against this pending login and against the user; past
/// either limit the pending login ends.
async fn wrong_code(v: &Visit<'_>, p: &Pending, again: Reply) -> Reply {
    let n = v.app.store.record_factor_failure(&tokens::hash_bytes(&p.id)).await.unwrap_or(i64::MAX);
    v.app.sessions.remove(&p.id);
    let r = &p.cached.rec;
    v.audit(Some(r.tenant_id), Some(&r.email), Some(&r.email), "second_factor_failure").await;
    if count_user_failure(v, r.user_id, r.tenant_id, &r.email).await {
        end_current(v).await;
        return locked_reply(v).header("set-cookie", clear_cookie(v));
    }
    if n < MAX_FAILURES {
        return again;
    }
    end_current(v).await;
    let body = v.page(
        v.t("Sign in again", "もう一度ログインしてください"),
        v.t(
            "<p>Too many wrong codes were entered, so this sign-in has ended. Sign in again to get a new code.</p><p><a href=\"/auth/login\">Sign in</a></p>",
            "<p>誤ったコードが続けて入力されたため、このログインを終了しました。もう一度ログインして、新しいコードを取得してください。</p><p><a href=\"/auth/login\">ログイン</a></p>",
        ),
    );
    Reply::html(401, body).header("set-cookie", clear_cookie(v))
}

/// What every code-entry POST starts with: the pending login, the form (CSRF
/// checked), the per-address and per-user limits, the return path and a token
/// for the page shown again on a wrong code.
async fn code_entry(v: &Visit<'_>, p: &Pending) -> Result<(crate::web::form::Form, String, String), Refusal> {
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(r) => return Err(r.into()),
    };
    if let Some(r) = throttled(v, p.cached.rec.user_id) {
        return Err(r.into());
    }
    let rd = rd::safe_return(form.get("rd").unwrap_or("/"));
    let (token, _) = csrf_for(v);
    Ok((form, rd, token))
}

/// The chooser: SMS first, the authenticator app second; or the enrolled method.
pub async fn chooser(v: &Visit<'_>, p: Pending) -> Reply {
    let rd = return_path(&v.req);
    if p.cached.rec.pending_factor.is_some() {
        return Reply::redirect(303, format!("/auth/recovery-code?rd={}", rd_query(&rd)));
    }
    let enrolment = match v.app.store.enrolment(p.cached.rec.user_id).await {
        Ok(e) => e,
        Err(_) => return v.unavailable(),
    };
    let (token, cookie) = csrf_for(v);
    let recovery_link = format!(
        "<p><a href=\"/auth/2fa/recovery?rd={}\">{}</a></p>",
        rd_query(&rd),
        v.t("Use your recovery code", "リカバリーコードを使用する")
    );
    let body = if !enrolment.any() {
        format!(
            "<p>{intro}</p><h2>{sms_title}</h2><form method=\"post\" action=\"/auth/2fa/sms\">{csrf}{rdf}\
             <label for=\"phone\">{phone_label}</label><input id=\"phone\" name=\"phone\" type=\"tel\" autocomplete=\"tel\" required aria-describedby=\"phone-hint\">\
             <p id=\"phone-hint\" class=\"hint\">{phone_hint}</p><button type=\"submit\">{send}</button></form>\
             <h2>{app_title}</h2><p><a href=\"/auth/2fa/totp?rd={rdq}\">{app_link}</a></p>",
            intro = v.t(
                "Your organisation asks for a second step after the password. Set it up once; it takes a minute.",
                "ご利用の組織では、パスワードに加えて2段階目の認証が必要です。最初に一度だけ設定してください。",
            ),
            sms_title = v.t("By text message (SMS)", "SMS（ショートメッセージ）で認証する"),
            csrf = hidden_field(&token),
            rdf = rd_field(&rd),
            phone_label = v.t("Mobile phone number", "携帯電話番号"),
            phone_hint =
                v.t("For example 090-1234-5678 or +81 90 1234 5678.", "例: 090-1234-5678 または +81 90 1234 5678"),
            send = v.t("Send a code", "認証コードを送信"),
            app_title = v.t("With an authenticator app", "認証アプリで認証する"),
            rdq = rd_query(&rd),
            app_link = v.t("Set up an authenticator app instead", "認証アプリを設定する"),
        )
    } else {
        let mut parts = Vec::new();
        if let Some(phone) = &enrolment.sms_phone {
            parts.push(format!(
                "<form method=\"post\" action=\"/auth/2fa/sms\">{csrf}{rdf}<input type=\"hidden\" name=\"send\" value=\"1\">\
                 <p>{to} <strong>{masked}</strong></p><button type=\"submit\">{send}</button></form>",
                csrf = hidden_field(&token),
                rdf = rd_field(&rd),
                to = v.t("We will send a code to", "認証コードの送信先:"),
                masked = escape(&mask_phone(phone)),
                send = v.t("Send a code", "認証コードを送信"),
            ));
        }
        if enrolment.totp_secret.is_some() {
            parts.push(format!(
                "<p><a href=\"/auth/2fa/totp?rd={}\">{}</a></p>",
                rd_query(&rd),
                v.t("Enter the code from your authenticator app", "認証アプリのコードを入力する")
            ));
        }
        parts.push(recovery_link);
        parts.join("")
    };
    with_cookie(Reply::html(200, v.page(v.t("2-step verification", "2段階認証"), &body)), cookie)
}

fn sms_code_page(v: &Visit<'_>, token: &str, rd: &str, phone: &str, error: Option<&str>) -> String {
    v.page(
        v.t("Enter the code", "認証コードの入力"),
        &format!(
            "<p>{sent} <strong>{masked}</strong>. {valid}</p><form method=\"post\" action=\"/auth/2fa/sms\">{csrf}{rdf}{input}{remember}\
             <button type=\"submit\">{verify}</button></form>\
             <form method=\"post\" action=\"/auth/2fa/sms\">{csrf}{rdf}<input type=\"hidden\" name=\"send\" value=\"1\">\
             <input type=\"hidden\" name=\"phone\" value=\"{phone}\"><button type=\"submit\">{resend}</button></form>",
            sent = v.t("We sent a 6-digit code to", "6桁の認証コードを次の番号に送信しました:"),
            masked = escape(&mask_phone(phone)),
            valid = v.t("It works for 5 minutes.", "コードの有効期間は5分です。"),
            csrf = hidden_field(token),
            rdf = rd_field(rd),
            input = code_input(v, v.t("Code", "認証コード"), error, true),
            remember = remember_box(v),
            verify = v.t("Verify", "認証する"),
            phone = escape(phone),
            resend = v.t("Send a new code", "コードを再送信"),
        ),
    )
}

pub async fn sms(v: &Visit<'_>, p: Pending) -> Outcome {
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let user_id = p.cached.rec.user_id;
    let rd = rd::safe_return(form.get("rd").unwrap_or("/"));
    let (token, _) = csrf_for(v);
    let enrolment = match v.app.store.enrolment(user_id).await {
        Ok(e) => e,
        Err(_) => return Ok(v.unavailable()),
    };
    if let Some(code) = form.get("code") {
        if let Some(r) = throttled(v, user_id) {
            return Ok(r);
        }
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let phone_shown =
            enrolment.sms_phone.clone().or_else(|| form.get("phone").map(str::to_owned)).unwrap_or_default();
        return Ok(match v.app.store.check_sms_code(user_id, &sms_hash(user_id, &digits)).await {
            Ok(SmsCheck::Ok(phone)) => {
                let remember = form.get("remember").is_some();
                if enrolment.sms_phone.is_none() {
                    if v.app.store.enrol_sms(user_id, &phone).await.is_err() {
                        return Ok(v.unavailable());
                    }
                    notify::mail(v, &p.cached.rec.email, &Notice::SecondFactorEnrolled { method: "sms" });
                    hold_until_saved(v, &p, Factor::Sms, remember, &rd).await
                } else {
                    complete(v, &p, Factor::Sms, remember, &rd).await
                }
            }
            Ok(SmsCheck::Wrong) => {
                let msg = v.t("That code is not correct.", "認証コードが正しくありません。");
                let again = Reply::html(400, sms_code_page(v, &token, &rd, &phone_shown, Some(msg)));
                wrong_code(v, &p, again).await
            }
            Ok(SmsCheck::Dead) => {
                let msg = v.t(
                    "This code has expired or was tried too often. Send a new one.",
                    "このコードは期限切れか、入力回数の上限に達しました。新しいコードを送信してください。",
                );
                Reply::html(400, sms_code_page(v, &token, &rd, &phone_shown, Some(msg)))
            }
            Err(_) => v.unavailable(),
        });
    }
    // Send a code: to the enrolled phone, or (enrolment) to the number entered.
    let phone = match (&enrolment.sms_phone, form.get("phone")) {
        (Some(enrolled), _) => enrolled.clone(),
        (None, Some(entered)) if !enrolment.any() => match normalize_phone(entered) {
            Ok(p) => p,
            Err(_) => {
                let body = v.page(
                    v.t("2-step verification", "2段階認証"),
                    &format!(
                        "{}<p><a href=\"/auth/2fa?rd={}\">{}</a></p>",
                        error_box(v.t(
                            "That is not a phone number we can send to. Enter a mobile number such as 090-1234-5678 or +81 90 1234 5678.",
                            "送信できる電話番号ではありません。090-1234-5678 や +81 90 1234 5678 のような携帯電話番号を入力してください。",
                        )),
                        rd_query(&rd),
                        v.t("Try again", "入力し直す")
                    ),
                );
                return Ok(Reply::html(400, body));
            }
        },
        _ => return Ok(Reply::redirect(303, format!("/auth/2fa?rd={}", rd_query(&rd)))),
    };
    if let Some(r) = throttled(v, user_id) {
        return Ok(r);
    }
    let rd_q = rd_query(&rd);
    let who =
        super::sms_refusal::Sender { tenant_id: p.cached.rec.tenant_id, email: &p.cached.rec.email, rd_query: &rd_q };
    if let Some(r) = super::sms_refusal::refuse_country(v, &who, &phone).await {
        return Ok(r);
    }
    let code = crate::sms::new_code();
    match v.app.store.put_sms_code(user_id, &phone, &sms_hash(user_id, &code), SMS_TTL, SMS_GAP).await {
        Ok(Ok(())) => {
            if let Some(r) = super::sms_refusal::refuse_over_budget(v, &who).await {
                return Ok(r);
            }
            let body = match v.lang {
                crate::ui::lang::Lang::Ja => format!(
                    "【{}】認証コード: {code}（5分間有効）。このコードを他人に教えないでください。",
                    v.app.cfg.ui.product_name
                ),
                crate::ui::lang::Lang::En => format!(
                    "{}: your code is {code}. It works for 5 minutes. Never share it.",
                    v.app.cfg.ui.product_name
                ),
            };
            if let Err(e) = v.app.sms.send(&SmsMessage { to: phone.clone(), body, code }).await {
                tracing::error!(error = %e, "sending an SMS code failed");
                let msg = v.t(
                    "The code could not be sent. Try again in a moment.",
                    "認証コードを送信できませんでした。しばらくしてから再度お試しください。",
                );
                return Ok(Reply::html(502, sms_code_page(v, &token, &rd, &phone, Some(msg))));
            }
            Ok(Reply::html(200, sms_code_page(v, &token, &rd, &phone, None)))
        }
        Ok(Err(wait)) => {
            let msg = match v.lang {
                crate::ui::lang::Lang::Ja => {
                    format!("新しいコードは{wait}秒後に送信できます。届いたコードを入力してください。")
                }
                crate::ui::lang::Lang::En => {
                    format!("A new code can be sent in {wait} seconds. Enter the code you received.")
                }
            };
            Ok(Reply::html(429, sms_code_page(v, &token, &rd, &phone, Some(&msg)))
                .header("retry-after", wait.to_string()))
        }
        Err(_) => Ok(v.unavailable()),
    }
}

/// SMS codes are stored hashed with the user id, so a table copy does not
/// hand out codes and the same code for two users hashes differently.
fn sms_hash(user_id: i64, code: &str) -> String {
    recovery::hash(&format!("sms:{user_id}:{code}"))
}

fn totp_page(v: &Visit<'_>, token: &str, rd: &str, enrol: Option<(&str, &str)>, error: Option<&str>) -> String {
    let setup = match enrol {
        Some((svg, secret)) => format!(
            "<p>{scan}</p><div style=\"max-width:14rem\">{svg}</div><p>{manual}</p><p><code style=\"font-size:1.1rem;word-break:break-all\">{secret}</code></p>",
            scan = v.t(
                "Scan this code with your authenticator app, then enter the 6-digit code it shows.",
                "認証アプリでこのQRコードを読み取り、表示された6桁のコードを入力してください。"
            ),
            manual = v.t(
                "Cannot scan? Enter this key in the app:",
                "読み取れない場合は、次のキーをアプリに入力してください:"
            ),
            secret = escape(secret),
        ),
        None => format!(
            "<p>{}</p>",
            v.t(
                "Enter the 6-digit code your authenticator app shows.",
                "認証アプリに表示されている6桁のコードを入力してください。"
            )
        ),
    };
    v.page(
        v.t("Authenticator app", "認証アプリ"),
        &format!(
            "{setup}<form method=\"post\" action=\"/auth/2fa/totp\">{csrf}{rdf}{input}{remember}<button type=\"submit\">{verify}</button></form>\
             <p><a href=\"/auth/2fa?rd={rdq}\">{back}</a></p>",
            csrf = hidden_field(token),
            rdf = rd_field(rd),
            input = code_input(v, v.t("Code", "認証コード"), error, true),
            remember = remember_box(v),
            verify = v.t("Verify", "認証する"),
            rdq = rd_query(rd),
            back = v.t("Other ways", "他の方法"),
        ),
    )
}

/// The secret being enrolled, kept encrypted until a code proves the app has it.
async fn pending_secret(v: &Visit<'_>, user_id: i64) -> Option<Vec<u8>> {
    if let Ok(Some(enc)) = v.app.store.totp_pending(user_id).await
        && let Some(secret) = v.app.totp_key.decrypt(user_id, &enc)
    {
        return Some(secret);
    }
    let secret = sf::new_secret();
    v.app.store.set_totp_pending(user_id, &v.app.totp_key.encrypt(user_id, &secret)).await.ok()?;
    Some(secret)
}

fn enrol_view(v: &Visit<'_>, email: &str, secret: &[u8]) -> (String, String) {
    let uri = sf::otpauth_uri(secret, email, &v.app.cfg.ui.product_name);
    (sf::qr_svg(&uri), sf::secret_base32(secret))
}

pub async fn totp_form(v: &Visit<'_>, p: Pending) -> Reply {
    let rd = return_path(&v.req);
    let user_id = p.cached.rec.user_id;
    let enrolment = match v.app.store.enrolment(user_id).await {
        Ok(e) => e,
        Err(_) => return v.unavailable(),
    };
    let (token, cookie) = csrf_for(v);
    let page = if enrolment.totp_secret.is_some() {
        totp_page(v, &token, &rd, None, None)
    } else if enrolment.any() {
        return Reply::redirect(303, format!("/auth/2fa?rd={}", rd_query(&rd)));
    } else {
        let Some(secret) = pending_secret(v, user_id).await else { return v.unavailable() };
        let (svg, text) = enrol_view(v, &p.cached.rec.email, &secret);
        totp_page(v, &token, &rd, Some((&svg, &text)), None)
    };
    with_cookie(Reply::html(200, page), cookie)
}

pub async fn totp_submit(v: &Visit<'_>, p: Pending) -> Outcome {
    let (form, rd, token) = code_entry(v, &p).await?;
    let user_id = p.cached.rec.user_id;
    let code: String = form.get("code").unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect();
    let remember = form.get("remember").is_some();
    let enrolment: Enrolment = match v.app.store.enrolment(user_id).await {
        Ok(e) => e,
        Err(_) => return Ok(v.unavailable()),
    };
    let wrong = v.t(
        "That code is not correct, or it was already used. Wait for the next code.",
        "認証コードが正しくないか、すでに使用済みです。次のコードが表示されるまでお待ちください。",
    );
    if let Some(enc) = &enrolment.totp_secret {
        let Some(secret) = v.app.totp_key.decrypt(user_id, enc) else {
            tracing::error!("a stored authenticator secret cannot be decrypted (wrong key?)");
            return Ok(v.unavailable());
        };
        let accepted = match sf::verify(&secret, &code, now()) {
            Some(step) => v.app.store.accept_totp_step(user_id, step).await.unwrap_or(false),
            None => false,
        };
        if !accepted {
            let again = Reply::html(400, totp_page(v, &token, &rd, None, Some(wrong)));
            return Ok(wrong_code(v, &p, again).await);
        }
        return Ok(complete(v, &p, Factor::Totp, remember, &rd).await);
    }
    if enrolment.any() {
        return Ok(Reply::redirect(303, format!("/auth/2fa?rd={}", rd_query(&rd))));
    }
    let Some(secret) = pending_secret(v, user_id).await else { return Ok(v.unavailable()) };
    let Some(step) = sf::verify(&secret, &code, now()) else {
        let (svg, text) = enrol_view(v, &p.cached.rec.email, &secret);
        let again = Reply::html(400, totp_page(v, &token, &rd, Some((&svg, &text)), Some(wrong)));
        return Ok(wrong_code(v, &p, again).await);
    };
    // The enrolment code's step is recorded, so it cannot be replayed either.
    if v.app.store.enrol_totp(user_id, &v.app.totp_key.encrypt(user_id, &secret), step).await.is_err() {
        return Ok(v.unavailable());
    }
    notify::mail(v, &p.cached.rec.email, &Notice::SecondFactorEnrolled { method: "totp" });
    Ok(hold_until_saved(v, &p, Factor::Totp, remember, &rd).await)
}

fn recovery_page(v: &Visit<'_>, token: &str, rd: &str, error: Option<&str>) -> String {
    v.page(
        v.t("Use your recovery code", "リカバリーコードの使用"),
        &format!(
            "<p>{intro}</p><form method=\"post\" action=\"/auth/2fa/recovery\">{csrf}{rdf}{input}{remember}<button type=\"submit\">{verify}</button></form>\
             <p><a href=\"/auth/2fa?rd={rdq}\">{back}</a></p>",
            intro = v.t("Paste the recovery code you saved when you set up 2-step verification. It works once; you will get a new one.", "2段階認証の設定時に保存したリカバリーコードを入力してください。コードは一度だけ使用でき、使用後に新しいコードが発行されます。"),
            csrf = hidden_field(token),
            rdf = rd_field(rd),
            input = code_input(v, v.t("Recovery code", "リカバリーコード"), error, false),
            remember = remember_box(v),
            verify = v.t("Verify", "認証する"),
            rdq = rd_query(rd),
            back = v.t("Other ways", "他の方法"),
        ),
    )
}

pub async fn recovery_form(v: &Visit<'_>, _: Pending) -> Reply {
    let rd = return_path(&v.req);
    let (token, cookie) = csrf_for(v);
    with_cookie(Reply::html(200, recovery_page(v, &token, &rd, None)), cookie)
}

pub async fn recovery_submit(v: &Visit<'_>, p: Pending) -> Outcome {
    let (form, rd, token) = code_entry(v, &p).await?;
    let user_id = p.cached.rec.user_id;
    let used = match recovery::normalize(form.get("code").unwrap_or("")) {
        Some(canonical) => {
            v.app.store.consume_recovery_code(user_id, &recovery::hash(&canonical)).await.unwrap_or(false)
        }
        None => false,
    };
    if !used {
        let msg = v.t(
            "That recovery code is not correct or was already used.",
            "リカバリーコードが正しくないか、すでに使用済みです。",
        );
        let again = Reply::html(400, recovery_page(v, &token, &rd, Some(msg)));
        return Ok(wrong_code(v, &p, again).await);
    }
    notify::mail(v, &p.cached.rec.email, &Notice::RecoveryCodeUsed);
    v.audit(Some(p.cached.rec.tenant_id), Some(&p.cached.rec.email), Some(&p.cached.rec.email), "recovery_code_used")
        .await;
    let remember = form.get("remember").is_some();
    Ok(hold_until_saved(v, &p, Factor::Recovery, remember, &rd).await)
}

/// A new session whose factor waits for the recovery code to be saved.
async fn hold_until_saved(v: &Visit<'_>, p: &Pending, factor: Factor, remember: bool, rd: &str) -> Reply {
    let r = &p.cached.rec;
    let _ = v.app.store.reset_user_factor_failures(r.user_id).await;
    let login = NewLogin {
        user_id: r.user_id,
        tenant_id: r.tenant_id,
        email: &r.email,
        role: r.role,
        factor: None,
        line: None,
        pending_factor: Some(factor),
        pending_remember: remember,
    };
    let cookie = match start(v, login).await {
        Ok(c) => c,
        Err(_) => return v.unavailable(),
    };
    end_current(v).await;
    Reply::redirect(303, format!("/auth/recovery-code?rd={}", rd_query(rd))).header("set-cookie", cookie)
}

fn recovery_code_page(v: &Visit<'_>, token: &str, rd: &str, code: &str, error: Option<&str>) -> String {
    v.page(
        v.t("Save your recovery code", "リカバリーコードを保存してください"),
        &format!(
            "{err}<p>{intro}</p><p style=\"font-size:1.4rem;font-family:monospace;letter-spacing:.05em\"><strong>{code}</strong></p>\
             <p class=\"hint\">{note}</p><form method=\"post\" action=\"/auth/recovery-code\">{csrf}{rdf}\
             <p><label><input type=\"checkbox\" name=\"saved\" value=\"1\" required> {saved}</label></p><button type=\"submit\">{cont}</button></form>",
            err = error.map(error_box).unwrap_or_default(),
            intro = v.t(
                "If you lose your phone or app, this code lets you sign in once. Keep it somewhere safe, away from this device.",
                "携帯電話や認証アプリが使えなくなったときは、このコードで一度だけログインできます。この端末以外の安全な場所に保管してください。",
            ),
            code = escape(code),
            note = v.t("Only this code works: opening this page again shows a new one and the one above stops working.", "このページを再度開くと新しいコードが発行され、上のコードは無効になります。"),
            csrf = hidden_field(token),
            rdf = rd_field(rd),
            saved = v.t("I have saved my recovery code", "リカバリーコードを保存しました"),
            cont = v.t("Continue", "続ける"),
        ),
    )
}

/// Shows a freshly made recovery code (its hash replaces the old one).
pub async fn recovery_code(v: &Visit<'_>, p: Pending) -> Reply {
    let rd = return_path(&v.req);
    if p.cached.rec.pending_factor.is_none() {
        return Reply::redirect(303, format!("/auth/2fa?rd={}", rd_query(&rd)));
    }
    let code = recovery::new_code();
    let Some(canonical) = recovery::normalize(&code) else { return v.unavailable() };
    if v.app.store.set_recovery_code(p.cached.rec.user_id, &recovery::hash(&canonical)).await.is_err() {
        return v.unavailable();
    }
    let (token, cookie) = csrf_for(v);
    with_cookie(Reply::html(200, recovery_code_page(v, &token, &rd, &code, None)), cookie)
}

pub async fn recovery_code_saved(v: &Visit<'_>, p: Pending) -> Outcome {
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let rd = rd::safe_return(form.get("rd").unwrap_or("/"));
    let Some(factor) = p.cached.rec.pending_factor else {
        return Ok(Reply::redirect(303, format!("/auth/2fa?rd={}", rd_query(&rd))));
    };
    if form.get("saved").is_none() {
        return Ok(Reply::redirect(303, format!("/auth/recovery-code?rd={}", rd_query(&rd))));
    }
    Ok(complete(v, &p, factor, p.cached.rec.pending_remember, &rd).await)
}

/// The second factor is done: a new session carries it; the browser is
/// remembered when the user asked.
async fn complete(v: &Visit<'_>, p: &Pending, factor: Factor, remember: bool, rd: &str) -> Reply {
    let r = &p.cached.rec;
    let _ = v.app.store.reset_user_factor_failures(r.user_id).await;
    let login = NewLogin {
        user_id: r.user_id,
        tenant_id: r.tenant_id,
        email: &r.email,
        role: r.role,
        factor: Some(factor),
        line: None,
        pending_factor: None,
        pending_remember: false,
    };
    let cookie = match start(v, login).await {
        Ok(c) => c,
        Err(_) => return v.unavailable(),
    };
    end_current(v).await;
    let _ = v.app.store.set_last_access(r.user_id, now()).await;
    let event = format!("second_factor_success:{}", factor.as_str());
    v.audit(Some(r.tenant_id), Some(&r.email), Some(&r.email), &event).await;
    let mut reply = Reply::redirect(303, rd.to_owned()).header("set-cookie", cookie);
    if remember {
        let token = tokens::random_token();
        if let Some(hash) = tokens::hash_token(&token) {
            let label = v.req.header(http::header::USER_AGENT).map(|ua| ua.chars().take(120).collect::<String>());
            if v.app.store.remember_device(&hash, r.user_id, label.as_deref()).await.is_ok() {
                reply = reply.header(
                    "set-cookie",
                    set_cookie(&CookieSpec {
                        name: DEVICE_COOKIE,
                        value: &token,
                        secure: v.app.cfg.session.secure_cookies,
                        http_only: true,
                        max_age: Some(REMEMBER_SECS as u64),
                    }),
                );
            }
        }
    }
    reply
}

/// At login: whether this browser is a remembered device of the user, and the
/// user has been here within 30 days (otherwise 2FA is asked again).
pub async fn remembered(v: &Visit<'_>, req: &crate::web::Request, user_id: i64) -> bool {
    let Some(token) =
        crate::session::cookie_value(req.headers.get_all("cookie").iter().map(|h| h.as_bytes()), DEVICE_COOKIE)
    else {
        return false;
    };
    let Some(hash) = tokens::hash_token(&token) else { return false };
    let recent = match v.app.store.enrolment(user_id).await {
        Ok(e) => e.any() && e.last_access_at.is_some_and(|t| now() - t <= REMEMBER_SECS),
        Err(_) => false,
    };
    recent && v.app.store.use_device(&hash, user_id, REMEMBER_SECS).await.unwrap_or(false)
}

/// The signed-in user's remembered browsers, and revoking them.
pub async fn devices_page(v: &Visit<'_>, a: Admin) -> Outcome {
    devices(v, &a, None).await
}

async fn devices(v: &Visit<'_>, a: &Admin, note: Option<&str>) -> Outcome {
    let list = v.app.store.devices(a.cached.rec.user_id).await?;
    let (token, cookie) = csrf_for(v);
    let rows: String = list
        .iter()
        .map(|d| {
            format!(
                "<tr><td>{}</td><td>{}</td><td><form method=\"post\" action=\"/auth/devices\">{}<input type=\"hidden\" name=\"id\" value=\"{}\"><button type=\"submit\" style=\"margin:0\">{}</button></form></td></tr>",
                escape(d.label.as_deref().unwrap_or("-")),
                crate::ui::html::date(d.last_used_at),
                hidden_field(&token),
                d.id,
                v.t("Forget", "解除")
            )
        })
        .collect();
    let body = format!(
        "{note}<p>{intro}</p><table><thead><tr><th>{h1}</th><th>{h2}</th><th></th></tr></thead><tbody>{rows}</tbody></table><p><a href=\"/auth/settings\">{back}</a></p>",
        note = note.map(|n| format!("<p class=\"ok\" role=\"status\">{}</p>", escape(n))).unwrap_or_default(),
        intro = v.t(
            "These browsers skip 2-step verification for 30 days after their last use.",
            "これらのブラウザでは、最後の使用から30日間は2段階認証が省略されます。"
        ),
        h1 = v.t("Browser", "ブラウザ"),
        h2 = v.t("Last used (UTC)", "最終使用日時（UTC）"),
        back = v.t("Back to settings", "設定メニューに戻る"),
    );
    Ok(with_cookie(Reply::html(200, v.page(v.t("Remembered browsers", "記憶済みのブラウザ"), &body)), cookie))
}

pub async fn devices_revoke(v: &Visit<'_>, a: Admin) -> Outcome {
    let c = &a.cached;
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let id = form.get("id").and_then(|i| i.parse::<i64>().ok()).unwrap_or(-1);
    let removed = v.app.store.revoke_device(c.rec.user_id, id).await?;
    let note = if removed {
        v.t("The browser is forgotten.", "ブラウザの記憶を解除しました。")
    } else {
        v.t("Nothing to forget.", "解除する項目がありません。")
    };
    devices(v, &a, Some(note)).await
}
