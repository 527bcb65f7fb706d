//! The owner's access policy pages: the route (with a confirmation that warns
//! about self-lockout), the 2FA switch (current and new setting confirmed in
//! both directions, the risk acknowledged when turning it off), and the
//! registered lines and networks. The changes are `accounts` operations.

use ipnet::IpNet;
use policy::{LineId, Route};

use super::sudo::Gated;
use super::views::account::Notice;
use super::views::settings::{
    LinesPage, RouteConfirmPage, RouteDonePage, RouteOption, RoutePage, TwoFactorConfirmPage, TwoFactorPage,
};
use super::{Visit, csrf_for, read_form, with_cookie};
use crate::accounts::{
    BulkOptions, BulkRow, Imported, LinesAdded, LinesRemoved, NetworksAdded, NetworksRemoved, RouteSet, SwitchSet,
    TenantRef,
};
use crate::accounts::{Refusal as RowRefusal, read_rows};
use crate::ui::lang::Lang;
use crate::web::form::{BULK_ROWS, Form};
use crate::web::{Outcome, Refusal, Reply, page};

/// What every settings change starts with: the posted form, and the refusal
/// for a tenant the ops policy file manages.
async fn change(v: &Visit<'_>, a: &Gated) -> Result<Form, Refusal> {
    let form = read_form(v)?;
    if a.tenant.managed_by_file {
        return Err(managed(v)?.into());
    }
    Ok(form)
}

fn managed(v: &Visit<'_>) -> Outcome {
    let view = Notice {
        ui: v.ui(),
        title: v.t("Managed by the operator", "運用者が管理しています"),
        text: v.t(
            "This organisation's access policy is managed by the service operator in its policy file, so it cannot be changed here. Contact the operator to change it.",
            "この組織のアクセスポリシーはサービス運用者がポリシーファイルで管理しているため、ここでは変更できません。変更が必要な場合は、運用者にお問い合わせください。",
        ),
        error: false,
        back_to_settings: true,
    };
    page(409, &view)
}

fn tenant(a: &Gated) -> TenantRef<'_> {
    TenantRef { id: a.tenant.id, name: &a.tenant.name, managed_by_file: a.tenant.managed_by_file }
}

fn route_name(v: &Visit<'_>, r: Route) -> &'static str {
    match r {
        Route::LineAndInternet => v.t("Line authentication + internet", "回線認証＋インターネット"),
        Route::LineOnly => v.t("Line authentication only", "回線認証のみ"),
    }
}

/// Makes a change saved here hold in this gateway before the answer goes out
/// (other instances follow the change log). The change is saved by then: a
/// delay here only moves it to the follower's next read, so it is logged, not
/// shown as a failed change.
async fn reload(v: &Visit<'_>) {
    v.app.changes.caught_up(&v.app.store, &v.app.policy).await;
}

pub async fn route_form(v: &Visit<'_>, a: Gated) -> Outcome {
    let (token, cookie) = csrf_for(v);
    let current = a.tenant.route;
    let option =
        |r: Route, hint| RouteOption { value: r.as_str(), name: route_name(v, r), hint, checked: r == current };
    let view = RoutePage {
        ui: v.ui(),
        title: v.t("Access route", "アクセス経路"),
        csrf: &token,
        current: route_name(v, current),
        managed: a.tenant.managed_by_file,
        options: vec![
            option(
                Route::LineAndInternet,
                v.t(
                    "Registered lines and networks, and the internet with 2-step verification.",
                    "登録済みの回線・ネットワークに加え、2段階認証を使ってインターネットからも利用できます。",
                ),
            ),
            option(
                Route::LineOnly,
                v.t(
                    "Registered lines and networks only. Access from anywhere else is refused, even when signed in.",
                    "登録済みの回線・ネットワークからのみ利用できます。それ以外からのアクセスは、ログイン済みでも拒否されます。",
                ),
            ),
        ],
    };
    Ok(with_cookie(page(200, &view)?, cookie))
}

pub async fn route_submit(v: &Visit<'_>, a: Gated) -> Outcome {
    let form = change(v, &a).await?;
    let Some(route) = form.get("route").and_then(|r| Route::parse(r).ok()) else {
        return Ok(Reply::redirect(303, "/auth/settings/route".into()));
    };
    if form.get("step") != Some("apply") {
        return confirm_route(v, &a, route).await;
    }
    let by = v.actor(Some(&a.cached.rec.email));
    if v.accounts().set_route(&by, &tenant(&a), route, a.break_glass).await? == RouteSet::ManagedByFile {
        return managed(v);
    }
    reload(v).await;
    let note = match route {
        Route::LineOnly => v.t(
            "2-step verification is now off for everyone: every request must come from a registered line or network.",
            "すべてのアクセスが登録済みの回線・ネットワークからとなるため、2段階認証はオフになりました。",
        ),
        Route::LineAndInternet => v.t(
            "Access from the internet is possible again, with 2-step verification where the switch is on.",
            "インターネットからのアクセスが再び可能になりました（2段階認証の設定が有効の場合は、2段階認証が必要です）。",
        ),
    };
    let view = RouteDonePage {
        ui: v.ui(),
        title: v.t("Access route changed", "アクセス経路を変更しました"),
        name: route_name(v, route),
        note,
    };
    page(200, &view)
}

/// The second screen: what will change, and who it will cut off.
async fn confirm_route(v: &Visit<'_>, a: &Gated, route: Route) -> Outcome {
    let (token, _) = csrf_for(v);
    let (mut self_lockout, mut cut_off) = (None, None);
    if route == Route::LineOnly {
        if !a.from_line {
            let addr = v.facts.ip_text().unwrap_or_else(|| "?".into());
            let line = match v.facts.line {
                policy::LineFact::Asserted(l) => l.to_string(),
                _ => v.t("none", "なし").to_owned(),
            };
            self_lockout = Some(match v.lang {
                Lang::En => format!(
                    "You will lose access to storage yourself: you are connecting from {addr} (line: {line}), which is neither a registered line nor a registered network of your organisation. You can still come back to this page from here to switch back."
                ),
                Lang::Ja => format!(
                    "この変更により、ご自身もストレージを利用できなくなります。現在の接続元 {addr}（回線：{line}）は、組織の登録済み回線・ネットワークではありません。この画面には引き続きアクセスでき、設定を元に戻せます。"
                ),
            });
        }
        let outside = outside_users(v, a).await?;
        cut_off = Some(match v.lang {
            Lang::En => format!(
                "{outside} user(s) of your organisation are signed in from outside the registered lines and networks; their access ends with this change."
            ),
            Lang::Ja => format!(
                "現在、組織のユーザー{outside}人が登録済みの回線・ネットワーク以外からログインしています。この変更により、それらのアクセスは利用できなくなります。"
            ),
        });
    }
    let view = RouteConfirmPage {
        ui: v.ui(),
        title: v.t("Confirm the change", "変更内容の確認"),
        csrf: &token,
        old: route_name(v, a.tenant.route),
        new: route_name(v, route),
        value: route.as_str(),
        self_lockout,
        cut_off,
    };
    page(200, &view)
}

/// Users with live sessions signed in from neither a registered line nor a
/// registered network (by the address recorded at sign-in).
async fn outside_users(v: &Visit<'_>, a: &Gated) -> Result<usize, Refusal> {
    let sessions = v.app.store.tenant_sessions(a.tenant.id).await?;
    let mut users: Vec<i64> = sessions
        .into_iter()
        .filter(|(_, ip, line)| {
            let on_line =
                line.as_deref().and_then(|l| LineId::parse(l).ok()).is_some_and(|l| a.tenant.lines.contains(&l));
            let on_net = ip.as_deref().and_then(|i| i.parse().ok()).is_some_and(|i| a.tenant.networks.contains(i));
            !(on_line || on_net)
        })
        .map(|(u, _, _)| u)
        .collect();
    users.sort_unstable();
    users.dedup();
    Ok(users.len())
}

pub async fn two_factor_form(v: &Visit<'_>, a: Gated) -> Outcome {
    let (token, cookie) = csrf_for(v);
    let done = match v.req.query("done").as_deref() {
        Some("on") => Some(v.t("2-step verification is now on.", "2段階認証を有効にしました。")),
        Some("off") => Some(v.t("2-step verification is now off.", "2段階認証を無効にしました。")),
        _ => None,
    };
    let view = TwoFactorPage {
        ui: v.ui(),
        title: v.t("2-step verification", "2段階認証の設定"),
        csrf: &token,
        on: a.tenant.two_factor,
        line_only: a.tenant.route == Route::LineOnly,
        managed: a.tenant.managed_by_file,
        done,
    };
    Ok(with_cookie(page(200, &view)?, cookie))
}

fn confirm_two_factor(v: &Visit<'_>, a: &Gated, on: bool, error: Option<&'static str>) -> Outcome {
    let (token, _) = csrf_for(v);
    let view = TwoFactorConfirmPage {
        ui: v.ui(),
        title: v.t("Confirm the change", "設定内容の確認"),
        csrf: &token,
        current: a.tenant.two_factor,
        new: on,
        error,
    };
    page(if error.is_some() { 400 } else { 200 }, &view)
}

pub async fn two_factor_submit(v: &Visit<'_>, a: Gated) -> Outcome {
    let form = change(v, &a).await?;
    // Under line-only the switch has no effect; the page does not offer it.
    if a.tenant.route == Route::LineOnly {
        return Ok(Reply::redirect(303, "/auth/settings/2fa".into()));
    }
    let on = match form.get("state") {
        Some("on") => true,
        Some("off") => false,
        _ => return Ok(Reply::redirect(303, "/auth/settings/2fa".into())),
    };
    if form.get("step") != Some("apply") {
        return confirm_two_factor(v, &a, on, None);
    }
    if !on && form.get("risk_accepted").is_none() {
        let err = v.t("Confirm that you have read the risk.", "リスクの説明を確認のうえ、チェックを入れてください。");
        return confirm_two_factor(v, &a, on, Some(err));
    }
    let by = v.actor(Some(&a.cached.rec.email));
    if v.accounts().set_two_factor(&by, &tenant(&a), on).await? == SwitchSet::ManagedByFile {
        return managed(v);
    }
    reload(v).await;
    Ok(Reply::redirect(303, format!("/auth/settings/2fa?done={}", if on { "on" } else { "off" })))
}

/// What the lines page shows besides the lists.
#[derive(Default)]
struct LinesForm<'f> {
    ok: Option<&'static str>,
    line: (&'f str, Option<&'f str>),
    network: (&'f str, Option<&'f str>),
    /// Each refused row of a many-at-once submission.
    line_report: Vec<String>,
    network_report: Vec<String>,
}

/// Lines per page of the list.
const PER_PAGE: i64 = 50;
/// Longer than any line number: a longer search could match nothing.
const MAX_SEARCH: usize = 16;

/// One page of the registered lines, as the query asks: `q` a literal
/// substring, `page` from 1. Whatever `page` holds, the nearest page is shown.
struct Listing {
    lines: Vec<String>,
    total: i64,
    page: i64,
    q: String,
}

async fn listing(v: &Visit<'_>, a: &Gated) -> Result<Listing, Refusal> {
    let q: String = v.req.query("q").unwrap_or_default().trim().chars().take(MAX_SEARCH).collect();
    let asked = v.req.query("page").and_then(|p| p.trim().parse::<i64>().ok()).unwrap_or(1).clamp(1, 1_000_000);
    let (mut lines, total) = page_of(v, a, &q, asked).await?;
    let last = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = asked.min(last);
    if page != asked {
        lines = page_of(v, a, &q, page).await?.0;
    }
    Ok(Listing { lines, total, page, q })
}

/// The database pages its tenants' lines; a tenant of the policy file has its
/// lines in the file (and in memory), so they are paged there.
async fn page_of(v: &Visit<'_>, a: &Gated, q: &str, page: i64) -> Result<(Vec<String>, i64), Refusal> {
    let offset = (page - 1) * PER_PAGE;
    if !a.tenant.managed_by_file {
        return Ok(v.app.store.tenant_lines_page(a.tenant.id, q, offset, PER_PAGE).await?);
    }
    let needle = q.to_ascii_uppercase();
    let mut all: Vec<String> =
        a.tenant.lines.iter().map(|l| l.to_string()).filter(|l| l.contains(needle.as_str())).collect();
    all.sort();
    let total = all.len() as i64;
    Ok((all.into_iter().skip(offset as usize).take(PER_PAGE as usize).collect(), total))
}

fn page_url(q: &str, page: i64) -> String {
    let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    format!("/auth/settings/lines?q={q}&page={page}")
}

async fn lines_view(v: &Visit<'_>, a: &Gated, csrf: &str, f: LinesForm<'_>, status: u16) -> Outcome {
    let list = listing(v, a).await?;
    let mut networks: Vec<String> = a.tenant.networks.iter().map(|n| n.to_string()).collect();
    networks.sort();
    let last = ((list.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let first_shown = (list.page - 1) * PER_PAGE + 1;
    let view = LinesPage {
        ui: v.ui(),
        title: v.t("Lines and networks", "回線番号・ネットワーク"),
        csrf,
        shown: (first_shown, first_shown + list.lines.len() as i64 - 1),
        prev_url: (list.page > 1).then(|| page_url(&list.q, list.page - 1)),
        next_url: (list.page < last).then(|| page_url(&list.q, list.page + 1)),
        lines: list.lines,
        total: list.total,
        q: list.q,
        networks,
        editable: !a.tenant.managed_by_file,
        ok: f.ok,
        line_value: f.line.0,
        line_error: f.line.1,
        network_value: f.network.0,
        network_error: f.network.1,
        line_report: f.line_report,
        network_report: f.network_report,
        max_rows: BULK_ROWS,
    };
    page(status, &view)
}

pub async fn lines_page(v: &Visit<'_>, a: Gated) -> Outcome {
    let (token, cookie) = csrf_for(v);
    let ok = match v.req.query("done").as_deref() {
        Some("added") => Some(v.t("Added.", "追加しました。")),
        Some("removed") => Some(v.t("Removed.", "削除しました。")),
        _ => None,
    };
    Ok(with_cookie(lines_view(v, &a, &token, LinesForm { ok, ..LinesForm::default() }, 200).await?, cookie))
}

pub async fn lines_submit(v: &Visit<'_>, a: Gated) -> Outcome {
    let form = change(v, &a).await?;
    let (token, _) = csrf_for(v);
    let by = v.actor(Some(&a.cached.rec.email));
    let accounts = v.accounts();
    let t = tenant(&a);
    let done = |what: &str| Ok(Reply::redirect(303, format!("/auth/settings/lines?done={what}")));
    // The add forms name their field; `value` is what the remove buttons send.
    let typed = |field: &str| form.get(field).or(form.get("value")).unwrap_or("").trim().to_owned();
    match form.get("action") {
        Some("add_line") => {
            let value = typed("line");
            let rows = read_rows(&value);
            if rows.len() > BULK_ROWS {
                return too_many(v, &a, &token, &value, true).await;
            }
            if rows.len() > 1 {
                return add_many_lines(v, &a, &token, &value, &rows).await;
            }
            let refused = async |msg: &str| {
                let f = LinesForm { line: (&value, Some(msg)), ..LinesForm::default() };
                lines_view(v, &a, &token, f, 400).await
            };
            let one = rows.first().map(|r| r.value.as_str()).unwrap_or("");
            let line = match LineId::parse(one) {
                Ok(l) => l,
                Err(e) => {
                    return refused(&match v.lang {
                        Lang::En => format!("{e}."),
                        Lang::Ja => {
                            "回線番号は、CAF＋英数字10桁（13文字）またはCOP＋英数字8桁（11文字）で入力してください。"
                                .to_owned()
                        }
                    })
                    .await;
                }
            };
            match accounts.add_lines(&by, &t, &[line]).await? {
                LinesAdded::Added { added, .. } if !added.is_empty() => {}
                LinesAdded::Added { .. } => {
                    return refused(
                        v.t("This line number is already registered.", "この回線番号はすでに登録されています。"),
                    )
                    .await;
                }
                LinesAdded::OtherTenant => {
                    return refused(v.t(
                        "This line number is registered to another contract. Check the number, or contact support if it is yours.",
                        "この回線番号は別の契約に登録されています。番号をご確認のうえ、お心当たりがある場合はサポートにお問い合わせください。",
                    )).await;
                }
                LinesAdded::ManagedByFile => return managed(v),
            }
            reload(v).await;
            done("added")
        }
        Some("add_network") => {
            let value = typed("network");
            let rows = read_rows(&value);
            if rows.len() > BULK_ROWS {
                return too_many(v, &a, &token, &value, false).await;
            }
            if rows.len() > 1 {
                return add_many_networks(v, &a, &token, &value, &rows).await;
            }
            let refused = async |msg: &str| {
                let f = LinesForm { network: (&value, Some(msg)), ..LinesForm::default() };
                lines_view(v, &a, &token, f, 400).await
            };
            let one = rows.first().map(|r| r.value.as_str()).unwrap_or("");
            let net: IpNet = match config::parse_net(one) {
                Ok(n) => n,
                Err(e) => {
                    return refused(&match v.lang {
                        Lang::En => format!("{e}. Enter a network such as 203.0.113.0/24 or a single address."),
                        Lang::Ja => {
                            "203.0.113.0/24 のようなネットワーク、または単一のアドレスを入力してください。".to_owned()
                        }
                    })
                    .await;
                }
            };
            match accounts.add_networks(&by, &t, &[net]).await? {
                NetworksAdded::Added { added, .. } if !added.is_empty() => {}
                NetworksAdded::Added { .. } => {
                    return refused(
                        v.t("This network is already registered.", "このネットワークはすでに登録されています。"),
                    )
                    .await;
                }
                NetworksAdded::Refused(why) => {
                    let text = why.first().map(|r| refusal_text(v.lang, r)).unwrap_or_default();
                    return refused(&text).await;
                }
                NetworksAdded::Covered { net, within } => {
                    return refused(&match v.lang {
                        Lang::En => format!("{net} is already covered by the registered network {within}."),
                        Lang::Ja => format!("{net} は、登録済みのネットワーク {within} にすでに含まれています。"),
                    })
                    .await;
                }
                NetworksAdded::ManagedByFile => return managed(v),
            }
            reload(v).await;
            done("added")
        }
        // Removing never widens anything; a value that does not parse names nothing registered.
        Some("remove_line") => {
            let Ok(line) = LineId::parse(&typed("value")) else { return done("removed") };
            if accounts.remove_lines(&by, &t, &[line]).await? == LinesRemoved::ManagedByFile {
                return managed(v);
            }
            reload(v).await;
            done("removed")
        }
        Some("remove_network") => {
            let Ok(net) = config::parse_net(&typed("value")) else { return done("removed") };
            if accounts.remove_networks(&by, &t, &[net]).await? == NetworksRemoved::ManagedByFile {
                return managed(v);
            }
            reload(v).await;
            done("removed")
        }
        _ => Ok(Reply::redirect(303, "/auth/settings/lines".into())),
    }
}

/// More rows than one submission takes: refused whole, with what was typed kept.
async fn too_many(v: &Visit<'_>, a: &Gated, token: &str, value: &str, lines: bool) -> Outcome {
    let msg = match v.lang {
        Lang::En => format!("At most {BULK_ROWS} at a time: send them in parts. Nothing was added."),
        Lang::Ja => {
            format!("一度に追加できるのは{BULK_ROWS}件までです。分けて送信してください。何も追加されていません。")
        }
    };
    let f = if lines {
        LinesForm { line: (value, Some(&msg)), ..LinesForm::default() }
    } else {
        LinesForm { network: (value, Some(&msg)), ..LinesForm::default() }
    };
    lines_view(v, a, token, f, 413).await
}

/// Many lines at once: all or nothing, each refused one reported by its line in the box.
async fn add_many_lines(v: &Visit<'_>, a: &Gated, token: &str, value: &str, rows: &[BulkRow]) -> Outcome {
    let by = v.actor(Some(&a.cached.rec.email));
    let rep = match v.accounts().import_lines(&by, &tenant(a), rows, BulkOptions::default(), &mut |_| {}).await? {
        Imported::ManagedByFile => return managed(v),
        Imported::Done(rep) => rep,
    };
    if rep.refused.is_empty() && rep.added == 0 {
        let msg = v.t("These line numbers are already registered.", "これらの回線番号はすでに登録されています。");
        return lines_view(v, a, token, LinesForm { line: (value, Some(msg)), ..LinesForm::default() }, 400).await;
    }
    if rep.refused.is_empty() {
        reload(v).await;
        return Ok(Reply::redirect(303, "/auth/settings/lines?done=added".into()));
    }
    let report = rep.refused.iter().map(|r| row_text(v.lang, r, line_reason(v.lang, r))).collect();
    let msg = v.t(
        "Nothing was added. Correct or remove the lines below, then send again.",
        "何も追加されていません。次の行を修正または削除してから、もう一度送信してください。",
    );
    let f = LinesForm { line: (value, Some(msg)), line_report: report, ..LinesForm::default() };
    lines_view(v, a, token, f, 400).await
}

async fn add_many_networks(v: &Visit<'_>, a: &Gated, token: &str, value: &str, rows: &[BulkRow]) -> Outcome {
    let by = v.actor(Some(&a.cached.rec.email));
    let rep = match v.accounts().import_networks(&by, &tenant(a), rows, BulkOptions::default(), &mut |_| {}).await? {
        Imported::ManagedByFile => return managed(v),
        Imported::Done(rep) => rep,
    };
    if rep.refused.is_empty() && rep.added == 0 {
        let msg = v.t("These networks are already registered.", "これらのネットワークはすでに登録されています。");
        return lines_view(v, a, token, LinesForm { network: (value, Some(msg)), ..LinesForm::default() }, 400).await;
    }
    if rep.refused.is_empty() {
        reload(v).await;
        return Ok(Reply::redirect(303, "/auth/settings/lines?done=added".into()));
    }
    let limits = v.app.cfg.tenant_networks.limits();
    let report = rep.refused.iter().map(|r| row_text(v.lang, r, network_reason(v.lang, r, &limits))).collect();
    let msg = v.t(
        "Nothing was added. Correct or remove the networks below, then send again.",
        "何も追加されていません。次の行を修正または削除してから、もう一度送信してください。",
    );
    let f = LinesForm { network: (value, Some(msg)), network_report: report, ..LinesForm::default() };
    lines_view(v, a, token, f, 400).await
}

fn row_text(lang: Lang, r: &RowRefusal, reason: String) -> String {
    match lang {
        Lang::En => format!("Line {}: {}: {reason}", r.row, r.value),
        Lang::Ja => format!("{}行目: {}: {reason}", r.row, r.value),
    }
}

/// Why a line was refused, in the visitor's language: it does not parse, or
/// it is another contract's (the only other refusal).
fn line_reason(lang: Lang, r: &RowRefusal) -> String {
    match (lang, LineId::parse(&r.value)) {
        (Lang::En, _) => r.why.clone(),
        (Lang::Ja, Err(_)) => {
            "回線番号は、CAF＋英数字10桁（13文字）またはCOP＋英数字8桁（11文字）で入力してください。".to_owned()
        }
        (Lang::Ja, Ok(_)) => "この回線番号は別の契約に登録されています。".to_owned(),
    }
}

/// Why a network was refused: it does not parse, is outside the limits, or
/// lies inside a registered one.
fn network_reason(lang: Lang, r: &RowRefusal, limits: &policy::NetworkLimits) -> String {
    if lang == Lang::En {
        return r.why.clone();
    }
    match config::parse_net(&r.value).map(|n| limits.check(n)) {
        Err(_) => "203.0.113.0/24 のようなネットワーク、または単一のアドレスを入力してください。".to_owned(),
        Ok(Err(refusal)) => refusal_text(lang, &refusal),
        Ok(Ok(_)) => "登録済みのネットワークにすでに含まれています。".to_owned(),
    }
}

/// Why a network cannot be registered, in the visitor's language.
fn refusal_text(lang: Lang, refusal: &policy::NetworkRefusal) -> String {
    use policy::NetworkRefusal as R;
    match lang {
        Lang::En => format!("{refusal}."),
        Lang::Ja => match refusal {
            R::Everything { net } => {
                format!("{net} はすべてのアドレスを含むため登録できません。組織のネットワークのみを登録してください。")
            }
            R::TooWide { net, widest, .. } => format!(
                "{net} は範囲が広すぎます（/{widest} より広いネットワークは登録できません）。組織のネットワークのみを登録してください。"
            ),
            R::Loopback { net } => format!("{net} はループバックアドレスを含むため登録できません。"),
            R::Unspecified { net } => format!("{net} は未指定アドレスを含むため登録できません。"),
            R::Mapped { net } => format!(
                "{net} はIPv4射影アドレス（::ffff:0:0/96）を含むため登録できません。IPv4のネットワークとして登録してください。"
            ),
        },
    }
}

#[cfg(test)]
mod tests;
