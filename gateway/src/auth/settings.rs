//! The owner's access policy pages: the route (with a confirmation that warns
//! about self-lockout), the 2FA switch (with a risk acknowledgement), and the
//! registered lines and networks.

use ipnet::IpNet;
use policy::{LineId, Role, Route};

use super::sudo::Admin;
use super::{Visit, csrf_for, hidden_field, read_form, with_cookie};
use crate::store::StoreError;
use crate::ui::html::{error_box, escape};
use crate::web::{Outcome, Refusal, Reply};

fn managed_note(v: &Visit<'_>) -> String {
    format!(
        "<p class=\"hint\" role=\"note\">{}</p>",
        v.t(
            "This organisation's access policy is managed by the service operator in its policy file, so it cannot be changed here. Contact the operator to change it.",
            "この組織のアクセスポリシーはサービス運用者がポリシーファイルで管理しているため、ここでは変更できません。変更が必要な場合は運用者にお問い合わせください。",
        )
    )
}

/// What every settings change starts with: the gate, the posted form, and the
/// refusal for a tenant the ops policy file manages.
async fn change(v: &Visit<'_>, a: &Admin) -> Result<crate::web::form::Form, Refusal> {
    let form = match read_form(v).await? {
        Ok(f) => f,
        Err(r) => return Err(r.into()),
    };
    if a.tenant.managed_by_file {
        return Err(managed_refusal(v).into());
    }
    Ok(form)
}

fn managed_refusal(v: &Visit<'_>) -> Reply {
    Reply::html(409, v.page(v.t("Managed by the operator", "運用者が管理しています"), &managed_note(v)))
}

fn route_name(v: &Visit<'_>, r: Route) -> &'static str {
    match r {
        Route::LineAndInternet => v.t("Line authentication + internet", "回線認証＋インターネット"),
        Route::LineOnly => v.t("Line authentication only", "回線認証のみ"),
    }
}

/// Applies a change made here to this process at once (other instances follow
/// the store's change counter).
async fn reload(v: &Visit<'_>) {
    let Ok(generation) = v.app.store.generation().await else { return };
    if let Ok(rows) = v.app.store.load_tenants().await {
        v.app.policy.set_db_at(generation, rows);
    }
}

async fn audit(v: &Visit<'_>, a: &Admin, event: &str, subject: Option<&str>) {
    v.audit(Some(a.tenant.id), Some(&a.cached.rec.email), subject, event).await;
}

pub async fn route_form(v: &Visit<'_>, a: Admin) -> Reply {
    let (token, cookie) = csrf_for(v);
    let current = a.tenant.route;
    let body = if a.tenant.managed_by_file {
        format!(
            "<p>{}: <strong>{}</strong></p>{}",
            v.t("Current route", "現在のアクセス経路"),
            route_name(v, current),
            managed_note(v)
        )
    } else {
        let option = |r: Route, hint: &str| {
            format!(
                "<p><label><input type=\"radio\" name=\"route\" value=\"{val}\"{checked}> <strong>{name}</strong></label><br><span class=\"hint\">{hint}</span></p>",
                val = r.as_str(),
                checked = if r == current { " checked" } else { "" },
                name = route_name(v, r),
                hint = escape(hint),
            )
        };
        format!(
            "<p>{cur}: <strong>{name}</strong></p><form method=\"post\" action=\"/auth/settings/route\">{csrf}\
             <input type=\"hidden\" name=\"step\" value=\"confirm\"><fieldset><legend>{choose}</legend>{a}{b}</fieldset>\
             <button type=\"submit\">{next}</button></form>",
            cur = v.t("Current route", "現在のアクセス経路"),
            name = route_name(v, current),
            csrf = hidden_field(&token),
            choose = v.t("Choose the access route", "アクセス経路を選択"),
            a = option(Route::LineAndInternet, v.t(
                "Registered lines and networks, and the internet with 2-step verification.",
                "登録済みの回線・ネットワークに加え、2段階認証を使ってインターネットからも利用できます。",
            )),
            b = option(Route::LineOnly, v.t(
                "Registered lines and networks only. Access from anywhere else is refused, even when signed in.",
                "登録済みの回線・ネットワークからのみ利用できます。それ以外からのアクセスは、ログイン済みでも拒否されます。",
            )),
            next = v.t("Next", "次へ"),
        )
    };
    let back = format!("<p><a href=\"/auth/settings\">{}</a></p>", v.t("Back to settings", "設定メニューに戻る"));
    with_cookie(Reply::html(200, v.page(v.t("Access route", "アクセス経路"), &(body + back.as_str()))), cookie)
}

pub async fn route_submit(v: &Visit<'_>, a: Admin) -> Outcome {
    let form = change(v, &a).await?;
    let Some(route) = form.get("route").and_then(|r| Route::parse(r).ok()) else {
        return Ok(Reply::redirect(303, "/auth/settings/route".into()));
    };
    let (token, _) = csrf_for(v);
    if form.get("step") != Some("apply") {
        return Ok(Reply::html(200, confirm_page(v, &a, route, &token).await));
    }
    if v.app.store.set_route(a.tenant.id, route).await.is_err() {
        return Ok(v.unavailable());
    }
    reload(v).await;
    let event = if a.break_glass { format!("route_set:{route}:break_glass") } else { format!("route_set:{route}") };
    audit(v, &a, &event, None).await;
    let note = match route {
        Route::LineOnly => v.t(
            "2-step verification is now off for everyone: every request must come from a registered line or network.",
            "すべてのアクセスが登録済みの回線・ネットワークからとなるため、2段階認証はオフになりました。",
        ),
        Route::LineAndInternet => v.t(
            "Access from the internet is possible again, with 2-step verification where the switch is on.",
            "インターネットからのアクセスが再び可能になりました（2段階認証の設定がオンの場合は2段階認証が必要です）。",
        ),
    };
    let body = format!(
        "<p class=\"ok\" role=\"status\">{} <strong>{}</strong></p><p>{}</p><p><a href=\"/auth/settings\">{}</a></p>",
        v.t("The access route is now", "アクセス経路を変更しました:"),
        route_name(v, route),
        note,
        v.t("Back to settings", "設定メニューに戻る")
    );
    Ok(Reply::html(200, v.page(v.t("Access route changed", "アクセス経路を変更しました"), &body)))
}

/// The second screen: what will change, and who it will cut off.
async fn confirm_page(v: &Visit<'_>, a: &Admin, route: Route, token: &str) -> String {
    let mut warnings = Vec::new();
    if route == Route::LineOnly {
        if !a.from_line {
            let addr = v.facts.client_ip.map(|ip| ip.to_string()).unwrap_or_else(|| "?".into());
            let line = match v.facts.line {
                policy::LineFact::Asserted(l) => l.to_string(),
                _ => v.t("none", "なし").to_owned(),
            };
            let text = match v.lang {
                crate::ui::lang::Lang::En => format!(
                    "You will lose access to storage yourself: you are connecting from {addr} (line: {line}), which is neither a registered line nor a registered network of your organisation. You can still come back to this page from here to switch back."
                ),
                crate::ui::lang::Lang::Ja => format!(
                    "この変更により、あなた自身もストレージを利用できなくなります。現在の接続元 {addr}（回線: {line}）は、組織の登録済み回線・ネットワークではありません。この画面には引き続きアクセスでき、設定を元に戻せます。"
                ),
            };
            warnings.push(error_box(&text));
        }
        let outside = outside_users(v, a).await;
        let text = match v.lang {
            crate::ui::lang::Lang::En => format!(
                "{outside} user(s) of your organisation are signed in from outside the registered lines and networks; their access ends with this change."
            ),
            crate::ui::lang::Lang::Ja => format!(
                "現在、組織のユーザー{outside}人が登録済みの回線・ネットワーク以外からログインしています。この変更により、それらのアクセスは利用できなくなります。"
            ),
        };
        warnings.push(format!("<p>{}</p>", escape(&text)));
    }
    v.page(
        v.t("Confirm the change", "変更内容の確認"),
        &format!(
            "<p>{from} <strong>{old}</strong> → <strong>{new}</strong></p>{warnings}\
             <form method=\"post\" action=\"/auth/settings/route\">{csrf}<input type=\"hidden\" name=\"step\" value=\"apply\">\
             <input type=\"hidden\" name=\"route\" value=\"{val}\"><button type=\"submit\">{apply}</button></form>\
             <p><a href=\"/auth/settings/route\">{cancel}</a></p>",
            from = v.t("Access route:", "アクセス経路:"),
            old = route_name(v, a.tenant.route),
            new = route_name(v, route),
            warnings = warnings.join(""),
            csrf = hidden_field(token),
            val = route.as_str(),
            apply = v.t("Change the route", "変更する"),
            cancel = v.t("Cancel", "キャンセル"),
        ),
    )
}

/// Users with live sessions signed in from neither a registered line nor a
/// registered network (by the address recorded at sign-in).
async fn outside_users(v: &Visit<'_>, a: &Admin) -> usize {
    let sessions = v.app.store.tenant_sessions(a.tenant.id).await.unwrap_or_default();
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
    users.len()
}

pub async fn two_factor_form(v: &Visit<'_>, a: Admin) -> Reply {
    let (token, cookie) = csrf_for(v);
    let body = two_factor_body(v, &a, &token, None);
    with_cookie(Reply::html(200, v.page(v.t("2-step verification", "2段階認証の設定"), &body)), cookie)
}

fn two_factor_body(v: &Visit<'_>, a: &Admin, token: &str, error: Option<&str>) -> String {
    let back = format!("<p><a href=\"/auth/settings\">{}</a></p>", v.t("Back to settings", "設定メニューに戻る"));
    if a.tenant.route == Route::LineOnly {
        return format!(
            "<p>{}: <strong>{}</strong></p><p class=\"hint\">{}</p>{back}",
            v.t("State", "状態"),
            v.t("Off (locked)", "オフ（変更不可）"),
            v.t(
                "The access route is line authentication only, so every request already comes from a registered line or network and 2-step verification is off. It can be changed after switching the route to line authentication + internet.",
                "アクセス経路が「回線認証のみ」のため、すべてのアクセスは登録済みの回線・ネットワークからとなり、2段階認証はオフです。アクセス経路を「回線認証＋インターネット」に変更すると設定できます。",
            )
        );
    }
    if a.tenant.managed_by_file {
        let state = if a.tenant.two_factor { v.t("On", "オン") } else { v.t("Off", "オフ") };
        return format!("<p>{}: <strong>{state}</strong></p>{}{back}", v.t("State", "状態"), managed_note(v));
    }
    let err = error.map(error_box).unwrap_or_default();
    if a.tenant.two_factor {
        format!(
            "<p>{state_l}: <strong>{on}</strong></p>{err}<p>{risk}</p><form method=\"post\" action=\"/auth/settings/2fa\">{csrf}\
             <input type=\"hidden\" name=\"state\" value=\"off\"><p><label><input type=\"checkbox\" name=\"risk_accepted\" value=\"1\" required> {ack}</label></p>\
             <button type=\"submit\">{off}</button></form>{back}",
            state_l = v.t("State", "状態"),
            on = v.t("On", "オン"),
            risk = v.t(
                "Turning 2-step verification off means a stolen password alone is enough to reach your organisation's files from the internet. Only do this if another control protects sign-ins.",
                "2段階認証をオフにすると、パスワードが漏えいしただけで、インターネットから組織のファイルにアクセスされるおそれがあります。他の対策でログインが保護されている場合にのみオフにしてください。",
            ),
            csrf = hidden_field(token),
            ack = v.t("I have read the risk and want to turn 2-step verification off for all password users", "リスクを理解したうえで、すべてのパスワードユーザーの2段階認証をオフにします"),
            off = v.t("Turn off", "オフにする"),
        )
    } else {
        format!(
            "<p>{state_l}: <strong>{off}</strong></p>{err}<form method=\"post\" action=\"/auth/settings/2fa\">{csrf}\
             <input type=\"hidden\" name=\"state\" value=\"on\"><button type=\"submit\">{on}</button></form>{back}",
            state_l = v.t("State", "状態"),
            off = v.t("Off", "オフ"),
            csrf = hidden_field(token),
            on = v.t("Turn on", "オンにする"),
        )
    }
}

pub async fn two_factor_submit(v: &Visit<'_>, a: Admin) -> Outcome {
    let form = change(v, &a).await?;
    if a.tenant.route == Route::LineOnly {
        return Ok(Reply::redirect(303, "/auth/settings/2fa".into()));
    }
    let on = match form.get("state") {
        Some("on") => true,
        Some("off") => false,
        _ => return Ok(Reply::redirect(303, "/auth/settings/2fa".into())),
    };
    if !on && form.get("risk_accepted").is_none() {
        let (token, _) = csrf_for(v);
        let err = v.t("Confirm that you have read the risk.", "リスクの確認にチェックを入れてください。");
        return Ok(Reply::html(
            400,
            v.page(v.t("2-step verification", "2段階認証の設定"), &two_factor_body(v, &a, &token, Some(err))),
        ));
    }
    if v.app.store.set_two_factor(a.tenant.id, on).await.is_err() {
        return Ok(v.unavailable());
    }
    reload(v).await;
    audit(v, &a, if on { "2fa_on" } else { "2fa_off" }, None).await;
    Ok(Reply::redirect(303, "/auth/settings/2fa".into()))
}

pub async fn lines_page(v: &Visit<'_>, a: Admin) -> Reply {
    let (token, cookie) = csrf_for(v);
    let note = v.req.query("done").map(|d| match d.as_str() {
        "added" => v.t("Added.", "追加しました。"),
        "removed" => v.t("Removed.", "削除しました。"),
        _ => "",
    });
    let body = lines_body(v, &a, &token, note, None);
    with_cookie(Reply::html(200, v.page(v.t("Lines and networks", "回線番号・ネットワーク"), &body)), cookie)
}

fn lines_body(v: &Visit<'_>, a: &Admin, token: &str, ok: Option<&str>, error: Option<(&str, String)>) -> String {
    let mut lines: Vec<String> = a.tenant.lines.iter().map(|l| l.to_string()).collect();
    lines.sort();
    let mut nets: Vec<String> = a.tenant.networks.iter().map(|n| n.to_string()).collect();
    nets.sort();
    let editable = !a.tenant.managed_by_file;
    let row = |value: &str, action: &str| {
        let button = if editable {
            format!(
                "<form method=\"post\" action=\"/auth/settings/lines\">{}<input type=\"hidden\" name=\"action\" value=\"{action}\"><input type=\"hidden\" name=\"value\" value=\"{}\"><button type=\"submit\" style=\"margin:0\">{}</button></form>",
                hidden_field(token),
                escape(value),
                v.t("Remove", "削除")
            )
        } else {
            String::new()
        };
        format!("<tr><td><code>{}</code></td><td>{button}</td></tr>", escape(value))
    };
    let table = |items: &[String], action: &str| {
        if items.is_empty() {
            format!("<p class=\"hint\">{}</p>", v.t("None registered.", "登録はありません。"))
        } else {
            format!("<table><tbody>{}</tbody></table>", items.iter().map(|i| row(i, action)).collect::<String>())
        }
    };
    let field_error = |field: &str| match &error {
        Some((f, msg)) if *f == field => {
            format!("<p id=\"{field}-error\" class=\"field-error\" role=\"alert\">{}</p>", escape(msg))
        }
        _ => String::new(),
    };
    let add_form = |field: &str, action: &str, label: &str, hint: &str| {
        if !editable {
            return String::new();
        }
        format!(
            "<form method=\"post\" action=\"/auth/settings/lines\">{csrf}<input type=\"hidden\" name=\"action\" value=\"{action}\">\
             <label for=\"{field}\">{label}</label><input id=\"{field}\" name=\"value\" type=\"text\" required aria-describedby=\"{field}-hint\">\
             <p id=\"{field}-hint\" class=\"hint\">{hint}</p>{err}<button type=\"submit\">{add}</button></form>",
            csrf = hidden_field(token),
            label = escape(label),
            hint = escape(hint),
            err = field_error(field),
            add = v.t("Add", "追加"),
        )
    };
    format!(
        "{ok}{managed}<h2>{lh}</h2>{lt}{lf}<h2>{nh}</h2>{nt}{nf}<p><a href=\"/auth/settings\">{back}</a></p>",
        ok = ok.map(|m| format!("<p class=\"ok\" role=\"status\">{}</p>", escape(m))).unwrap_or_default(),
        managed = if editable { String::new() } else { managed_note(v) },
        lh = v.t("Line numbers", "回線番号"),
        lt = table(&lines, "remove_line"),
        lf = add_form(
            "line",
            "add_line",
            v.t("Line number to add", "追加する回線番号"),
            v.t("CAF followed by 10 letters or digits, or COP followed by 8.", "CAF＋英数字10桁、またはCOP＋英数字8桁")
        ),
        nh = v.t("Source networks", "接続元ネットワーク"),
        nt = table(&nets, "remove_network"),
        nf = add_form(
            "network",
            "add_network",
            v.t("Network to add", "追加するネットワーク"),
            v.t(
                "An IPv4 or IPv6 network such as 203.0.113.0/24, or a single address.",
                "203.0.113.0/24 のようなIPv4/IPv6のネットワーク、または単一のアドレス"
            )
        ),
        back = v.t("Back to settings", "設定メニューに戻る"),
    )
}

pub async fn lines_submit(v: &Visit<'_>, a: Admin) -> Outcome {
    let form = change(v, &a).await?;
    let value = form.get("value").unwrap_or("").trim().to_owned();
    let (token, _) = csrf_for(v);
    let fail = |field: &'static str, msg: String| {
        Reply::html(
            400,
            v.page(
                v.t("Lines and networks", "回線番号・ネットワーク"),
                &lines_body(v, &a, &token, None, Some((field, msg))),
            ),
        )
    };
    let done = |what: &str| Reply::redirect(303, format!("/auth/settings/lines?done={what}"));
    let result = match form.get("action") {
        Some("add_line") => {
            let line = match LineId::parse(&value) {
                Ok(l) => l,
                Err(e) => {
                    let msg = match v.lang {
                        crate::ui::lang::Lang::En => format!("{e}."),
                        crate::ui::lang::Lang::Ja => {
                            "回線番号は、CAF＋英数字10桁（13文字）またはCOP＋英数字8桁（11文字）で入力してください。"
                                .to_owned()
                        }
                    };
                    return Ok(fail("line", msg));
                }
            };
            if a.tenant.lines.contains(&line) {
                return Ok(fail(
                    "line",
                    v.t("This line number is already registered.", "この回線番号はすでに登録されています。").to_owned(),
                ));
            }
            match v.app.store.add_lines(a.tenant.id, &[line]).await {
                Ok(_) => Ok(("line_added", line.to_string(), "added")),
                Err(StoreError::Conflict(_)) => {
                    return Ok(fail("line", v.t(
                        "This line number is registered to another contract. Check the number, or contact support if it is yours.",
                        "この回線番号は別の契約に登録されています。番号をご確認のうえ、お心当たりがある場合はサポートにお問い合わせください。",
                    ).to_owned()));
                }
                Err(e) => Err(e),
            }
        }
        Some("add_network") => {
            let net: IpNet = match config::parse_net(&value) {
                Ok(n) => n,
                Err(e) => {
                    let msg = match v.lang {
                        crate::ui::lang::Lang::En => {
                            format!("{e}. Enter a network such as 203.0.113.0/24 or a single address.")
                        }
                        crate::ui::lang::Lang::Ja => {
                            "203.0.113.0/24 のようなネットワーク、または単一のアドレスを入力してください。".to_owned()
                        }
                    };
                    return Ok(fail("network", msg));
                }
            };
            // SPEC section 11: never wider than the limit, never everyone's.
            let net = match v.app.cfg.tenant_networks.limits().check(net) {
                Ok(n) => n,
                Err(refusal) => {
                    tracing::warn!(tenant = %a.tenant.name, by = %a.cached.rec.email, %net, "source network refused");
                    audit(v, &a, "network_refused", Some(&net.to_string())).await;
                    return Ok(fail("network", refusal_text(v, &refusal)));
                }
            };
            if let Some(existing) = a.tenant.networks.iter().find(|n| n.contains(&net)) {
                let msg = match v.lang {
                    crate::ui::lang::Lang::En if existing == net => "This network is already registered.".to_owned(),
                    crate::ui::lang::Lang::En => {
                        format!("{net} is already covered by the registered network {existing}.")
                    }
                    crate::ui::lang::Lang::Ja if existing == net => {
                        "このネットワークはすでに登録されています。".to_owned()
                    }
                    crate::ui::lang::Lang::Ja => {
                        format!("{net} は、登録済みのネットワーク {existing} にすでに含まれています。")
                    }
                };
                return Ok(fail("network", msg));
            }
            match v.app.store.add_networks(a.tenant.id, &[net]).await {
                Ok(_) => Ok(("network_added", net.to_string(), "added")),
                Err(e) => Err(e),
            }
        }
        Some("remove_line") => match LineId::parse(&value) {
            Ok(line) => v
                .app
                .store
                .remove_lines(a.tenant.id, &[line])
                .await
                .map(|_| ("line_removed", line.to_string(), "removed")),
            Err(_) => return Ok(done("removed")),
        },
        Some("remove_network") => match config::parse_net(&value) {
            Ok(net) => v
                .app
                .store
                .remove_networks(a.tenant.id, &[net])
                .await
                .map(|_| ("network_removed", net.to_string(), "removed")),
            Err(_) => return Ok(done("removed")),
        },
        _ => return Ok(Reply::redirect(303, "/auth/settings/lines".into())),
    };
    match result {
        Ok((event, subject, what)) => {
            reload(v).await;
            audit(v, &a, event, Some(&subject)).await;
            if event == "network_added" {
                notify_network_added(v, &a, &subject).await;
            }
            Ok(done(what))
        }
        Err(_) => Ok(v.unavailable()),
    }
}

/// Why a network cannot be registered, in the visitor's language.
fn refusal_text(v: &Visit<'_>, refusal: &policy::NetworkRefusal) -> String {
    use policy::NetworkRefusal as R;
    match v.lang {
        crate::ui::lang::Lang::En => format!("{refusal}."),
        crate::ui::lang::Lang::Ja => match refusal {
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

/// SPEC section 11: the owner hears of every network that now counts as a
/// registered line: which, by whom, from where.
async fn notify_network_added(v: &Visit<'_>, a: &Admin, network: &str) {
    let users = match v.app.store.tenant_users(a.tenant.id).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, tenant = %a.tenant.name, "cannot find the owner to notify of a new network");
            return;
        }
    };
    let from = format!("{} ({})", v.facts.ip_text().unwrap_or_else(|| "?".to_owned()), v.facts.host.as_str());
    let notice = crate::mail::NetworkAdded { tenant: &a.tenant.name, network, by: &a.cached.rec.email, from: &from };
    for owner in users.iter().filter(|u| u.role == Role::Owner) {
        let msg = crate::mail::network_added(&notice, v.lang, &v.app.cfg.ui.product_name);
        v.app.mailer.send_later(owner.email.clone(), msg);
    }
}
