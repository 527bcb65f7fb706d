//! The gate in front of settings and admin pages: a session that policy lets
//! through (or, under `line-only`, the owner: break-glass), plus a password
//! entered again within the last few minutes.

use std::sync::Arc;

use policy::{DenyKind, Outcome, PathFact, Request, Role, SessionFact, SessionView, TenantPolicy};

use super::views::account::Notice;
use super::views::sudo::SudoLoginPage;
use super::{Visit, csrf_for, rd, read_form, to_login, with_cookie};
use crate::session::{Cached, CookieFact, read_cookie};
use crate::store::{StoreError, now};
use crate::tokens;
use crate::web::{Outcome as PageOutcome, Permission, Refusal, Reply, page};

mod break_glass;

/// How long a re-authentication keeps settings and admin pages open.
pub const SUDO_SECS: i64 = 600;

/// Someone who passed the settings gate: a settings or admin page's
/// visitor, whatever their role, and what they may do there (`may`).
pub struct Gated {
    pub cached: Arc<Cached>,
    pub tenant: TenantPolicy,
    pub plan: crate::store::Plan,
    /// The request comes from a registered line or network of the tenant.
    pub from_line: bool,
    /// Under `line-only` from elsewhere: only the owner, only to switch the route back.
    pub break_glass: bool,
}

impl Gated {
    pub fn role(&self) -> Role {
        self.cached.rec.role
    }

    pub fn is_owner(&self) -> bool {
        self.role() == Role::Owner
    }

    /// SPEC section 6's table.
    pub fn may_change_email(&self) -> bool {
        self.is_owner() && self.plan == crate::store::Plan::Basic && !self.break_glass
    }

    pub fn may_change_password(&self) -> bool {
        self.cached.rec.method == policy::LoginMethod::Password && !self.break_glass
    }

    /// The user's own phone number and authenticator app: theirs only when
    /// they sign in with a password here (others use their provider's).
    pub fn may_change_own_second_factor(&self) -> bool {
        self.cached.rec.method == policy::LoginMethod::Password && !self.break_glass
    }

    pub fn may_set_route(&self) -> bool {
        self.is_owner()
    }

    pub fn may_set_two_factor(&self) -> bool {
        self.is_owner() && !self.break_glass
    }

    /// Lines, networks and the users of the tenant: the admin console.
    pub fn may_administer(&self) -> bool {
        self.role() >= Role::Admin && !self.break_glass
    }

    /// The tenant's directory connection: the owner on both plans.
    pub fn may_set_directory(&self) -> bool {
        self.is_owner() && !self.break_glass
    }

    /// The owner's own login method; others get a link from an admin.
    pub fn may_change_login_method(&self) -> bool {
        self.is_owner() && self.plan == crate::store::Plan::Basic && !self.break_glass
    }

    pub fn may(&self, p: Permission) -> bool {
        match p {
            Permission::Menu => true,
            Permission::OwnDevices => !self.break_glass,
            Permission::OwnSecondFactor => self.may_change_own_second_factor(),
            Permission::ChangePassword => self.may_change_password(),
            Permission::ChangeEmail => self.may_change_email(),
            Permission::SetRoute => self.may_set_route(),
            Permission::SetTwoFactor => self.may_set_two_factor(),
            Permission::Administer => self.may_administer(),
            Permission::Directory => self.may_set_directory(),
            Permission::LoginMethod => self.may_change_login_method(),
        }
    }
}

/// Signed in and allowed here, with or without a fresh re-authentication:
/// what the re-authentication page itself needs (`web::Guard::SignedIn`).
pub enum Gate {
    Ready(Gated),
    NeedsSudo(Gated, [u8; 32]),
}

/// The session and what policy says of it here, without asking for the password.
pub async fn signed_in(v: &Visit<'_>) -> Result<Gate, Refusal> {
    let req = &v.req;
    let CookieFact::Present(id) =
        read_cookie(req.headers.get_all("cookie").iter().map(|h| h.as_bytes()), &v.app.cfg.session.cookie_name)
    else {
        return Err(to_login(v).into());
    };
    let Some(cached) = v.app.sessions.lookup(&v.app.store, &id, now()).await? else {
        return Err(to_login(v).into());
    };
    let snapshot = v.app.policy.load_full();
    let Some(tenant) = snapshot.tenant(cached.rec.tenant_id).cloned() else { return Err(to_login(v).into()) };
    let r = &cached.rec;
    let request = Request {
        host: Some(v.facts.host),
        client_ip: v.facts.client_ip,
        line: v.facts.line,
        path: PathFact::Normalised("/auth/settings"),
        session: SessionFact::Valid(SessionView {
            user: &r.email,
            tenant: r.tenant_id,
            role: r.role,
            method: r.method,
            provider: r.provider.as_deref(),
            factor: r.factor,
            host: r.host,
        }),
    };
    let decision = policy::decide_access(&snapshot, &request);
    tracing::debug!(outcome = decision.outcome.label(), reasons = ?decision.reasons, "settings gate");
    let outcome = decision.outcome;
    let from_line = tenant.line_match(&v.facts.line, v.facts.client_ip).is_some();
    let break_glass = match outcome {
        Outcome::Allow(_) => false,
        Outcome::Deny(DenyKind::LineRequired)
            if r.role == Role::Owner && tenant.route == policy::Route::LineOnly && r.host == v.facts.host =>
        {
            true
        }
        Outcome::SecondFactor => return Err(Reply::redirect(303, "/auth/2fa?rd=%2Fauth%2Fsettings".into()).into()),
        Outcome::Deny(kind) => return Err(Reply::html(403, crate::ui::pages::denied(&v.ui(), kind)).into()),
        _ => return Err(to_login(v).into()),
    };
    let Some(plan) = v.app.store.tenant_plan(r.tenant_id).await? else { return Err(to_login(v).into()) };
    let fresh = r.sudo_until.is_some_and(|t| t > now());
    let admin = Gated { cached: cached.clone(), tenant, plan, from_line, break_glass };
    Ok(if fresh { Gate::Ready(admin) } else { Gate::NeedsSudo(admin, id) })
}

/// The settings guard (`web::Guard::Settings`): Ok when the user is signed in,
/// allowed here, re-authenticated within the last few minutes and holds the
/// permission; otherwise the reply that gets them there or says no.
pub async fn require(v: &Visit<'_>, permission: Permission) -> Result<Gated, Refusal> {
    match signed_in(v).await? {
        Gate::Ready(a) if a.may(permission) => Ok(a),
        Gate::Ready(_) => Err(not_permitted(v, permission)),
        Gate::NeedsSudo(..) => {
            let back = if v.req.is_get() { v.req.path_and_query() } else { "/auth/settings" };
            let rd = percent_encoding::utf8_percent_encode(back, percent_encoding::NON_ALPHANUMERIC).to_string();
            Err(Reply::redirect(303, format!("/auth/settings/login?rd={rd}")).into())
        }
    }
}

fn not_permitted(v: &Visit<'_>, permission: Permission) -> Refusal {
    let text = match permission {
        Permission::ChangeEmail => v.t(
            "Only the contract holder of a basic-plan organisation changes their own email address here. Ask your administrator to send you a link for the change.",
            "ここでメールアドレスを変更できるのは、基本プランの契約者のみです。ご自身のメールアドレスの変更は、組織の管理者にご依頼ください。",
        ),
        Permission::LoginMethod => v.t(
            "Only the contract holder of a basic-plan organisation changes their own sign-in method here. Ask your administrator to send you a link for the change.",
            "ここでログイン方法を変更できるのは、基本プランの契約者のみです。ご自身のログイン方法の変更は、組織の管理者にご依頼ください。",
        ),
        _ => return Reply::html(403, crate::ui::pages::denied(&v.ui(), DenyKind::Role)).into(),
    };
    let view = Notice {
        ui: v.ui(),
        title: v.t("Not available for your account", "このアカウントではご利用いただけません"),
        text,
        error: false,
        back_to_settings: true,
    };
    page(403, &view).map_or_else(|refusal| refusal, Refusal::Answer)
}

/// A second factor is asked again when this session did not pass one (2FA off
/// for the route) and the user has one: a password alone must not open the
/// settings from the internet. Break-glass has its own second step.
async fn needs_code(v: &Visit<'_>, a: &Gated) -> Result<bool, StoreError> {
    if a.cached.rec.factor.is_some() || a.from_line || a.break_glass {
        return Ok(false);
    }
    Ok(v.app.store.enrolment(a.cached.rec.user_id).await?.totp_secret.is_some())
}

fn login_page(v: &Visit<'_>, csrf: &str, rd: &str, code: bool, error: Option<&str>, status: u16) -> PageOutcome {
    let view = SudoLoginPage {
        ui: v.ui(),
        title: v.t("Confirm it is you", "ご本人確認"),
        csrf,
        rd,
        code,
        error,
        provider: None,
    };
    page(status, &view)
}

pub async fn login_form(v: &Visit<'_>, gate: Gate) -> PageOutcome {
    let (Gate::Ready(admin) | Gate::NeedsSudo(admin, _)) = gate;
    let rd = rd::safe_return(&v.req.query("rd").unwrap_or_else(|| "/auth/settings".into()));
    let (token, cookie) = csrf_for(v);
    if let Some(provider) = &admin.cached.rec.provider {
        let view = SudoLoginPage {
            ui: v.ui(),
            title: v.t("Confirm it is you", "ご本人確認"),
            csrf: &token,
            rd: &rd,
            code: false,
            error: None,
            provider: Some(super::federated::method_label(v, provider)),
        };
        return Ok(with_cookie(page(200, &view)?, cookie));
    }
    let code = needs_code(v, &admin).await?;
    Ok(with_cookie(login_page(v, &token, &rd, code, None, 200)?, cookie))
}

/// A federated user has no password here: they sign in at their provider
/// again (`prompt=login`, and the token's `auth_time` must be new).
async fn federated_reauth(v: &Visit<'_>, admin: &Gated, id: &[u8; 32], provider: &str, rd: String) -> PageOutcome {
    let spec = if provider == crate::accounts::DIRECTORY {
        match v.app.store.directory(admin.cached.rec.tenant_id).await? {
            Some(dir) => super::federated::directory_spec(v, &dir),
            None => None,
        }
    } else {
        super::federated::provider(v, provider)
    };
    let Some(spec) = spec else { return super::federated::refused(v, super::federated::Refused::ProviderError) };
    let b = super::federated::Begin {
        spec,
        tenant_id: Some(admin.cached.rec.tenant_id),
        purpose: crate::store::FlowPurpose::Reauth,
        rd: Some(rd),
        user_id: Some(admin.cached.rec.user_id),
        ticket_hash: None,
        session_hash: Some(tokens::hash_bytes(id)),
    };
    super::federated::begin(v, b).await
}

/// The way back from a federated re-authentication that proved the session's
/// own user: the settings open, or under break-glass the mailed code follows.
pub async fn federated_reauth_passed(
    v: &Visit<'_>,
    id: &[u8; 32],
    user: &crate::store::UserRow,
    rd: &str,
) -> PageOutcome {
    let admin = match signed_in(v).await? {
        Gate::Ready(a) | Gate::NeedsSudo(a, _) => a,
    };
    if admin.cached.rec.user_id != user.id {
        return Ok(to_login(v));
    }
    if admin.break_glass {
        let (token, _) = csrf_for(v);
        return break_glass::challenge(v, id, user, rd, &token).await;
    }
    v.app.store.grant_sudo(&tokens::hash_bytes(id), now() + SUDO_SECS).await?;
    v.app.sessions.remove(id);
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "reauth_success").await;
    Ok(Reply::redirect(303, rd.to_owned()))
}

pub async fn login_submit(v: &Visit<'_>, gate: Gate) -> PageOutcome {
    let (admin, id) = match gate {
        Gate::Ready(a) => {
            let id = match read_cookie(
                v.req.headers.get_all("cookie").iter().map(|h| h.as_bytes()),
                &v.app.cfg.session.cookie_name,
            ) {
                CookieFact::Present(id) => id,
                _ => return Ok(to_login(v)),
            };
            (a, id)
        }
        Gate::NeedsSudo(a, id) => (a, id),
    };
    let form = read_form(v)?;
    let rd = rd::safe_return(form.get("rd").unwrap_or("/auth/settings"));
    let (token, _) = csrf_for(v);
    let Some(user) = v.app.store.user_by_id(admin.cached.rec.user_id).await? else { return Ok(to_login(v)) };
    if form.get("step") == Some("code") {
        if !admin.break_glass {
            // The gate changed under the page (e.g. the route): start again, nothing counted.
            return Ok(Reply::redirect(303, "/auth/settings/login?rd=%2Fauth%2Fsettings".into()));
        }
        let entered = form.get("code").unwrap_or("");
        return break_glass::check_code(v, &admin, &id, &user, entered, &rd, &token).await;
    }
    // A federated user has no password here: their provider asks instead
    // (and under break-glass, the mailed code follows that).
    if let Some(provider) = admin.cached.rec.provider.clone() {
        return federated_reauth(v, &admin, &id, &provider, rd).await;
    }
    if let Some(r) = super::login::throttled(v).await {
        return Ok(r);
    }
    let code = needs_code(v, &admin).await?;
    // Counted toward the lock like a login, so a stolen session cannot guess it.
    let password_ok = match super::login::check_password(v, &user, form.get("password").unwrap_or("")).await {
        Ok(ok) => ok,
        Err(r) => return Ok(r),
    };
    let refused = |v: &Visit<'_>| {
        let msg = v.t("That is not correct. Try again.", "入力内容が正しくありません。もう一度お試しください。");
        login_page(v, &token, &rd, code, Some(msg), 401)
    };
    if !password_ok {
        v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "reauth_failure").await;
        return refused(v);
    }
    // Break-glass: the password alone is not enough; a mailed code must follow.
    if admin.break_glass {
        return break_glass::challenge(v, &id, &user, &rd, &token).await;
    }
    if code {
        if v.app.store.second_factor_locked(user.id).await? {
            return Ok(super::two_step::locked_reply(v));
        }
        if !totp_ok(v, user.id, form.get("code").unwrap_or("")).await? {
            v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "reauth_failure").await;
            if super::two_step::count_user_failure(v, user.id, user.tenant_id, &user.email).await {
                return Ok(super::two_step::locked_reply(v));
            }
            return refused(v);
        }
        v.app.store.reset_user_factor_failures(user.id).await?;
    }
    v.app.store.grant_sudo(&tokens::hash_bytes(&id), now() + SUDO_SECS).await?;
    v.app.sessions.remove(&id);
    v.audit(Some(user.tenant_id), Some(&user.email), Some(&user.email), "reauth_success").await;
    Ok(Reply::redirect(303, rd))
}

/// Whether `code` is the authenticator's current one, never accepted twice. A
/// store that cannot say is an error, never a wrong code (which would count
/// toward the lock).
async fn totp_ok(v: &Visit<'_>, user_id: i64, code: &str) -> Result<bool, StoreError> {
    let e = v.app.store.enrolment(user_id).await?;
    let Some(secret) = e.totp_secret.and_then(|s| v.app.totp_key.decrypt(user_id, &s)) else { return Ok(false) };
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    match crate::second_factor::verify(&secret, &code, now()) {
        Some(step) => v.app.store.accept_totp_step(user_id, step).await,
        None => Ok(false),
    }
}
