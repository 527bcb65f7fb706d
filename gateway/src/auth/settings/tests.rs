//! The organisation's settings pages through `web::handle`, without a proxy:
//! the 2FA switch's confirm screen in both directions, and that a lower role
//! cannot change what the owner sets (SPEC section 6).

use policy::{Role, Route};

use crate::auth::testing::{World, call, location, post, request, world};
use crate::web::Method;

async fn tenant(w: &World) -> crate::store::TenantSummary {
    w.app.store.require_tenant("acme").await.unwrap()
}

async fn send(w: &World, path: &str, session: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let reply = call(w, post(path, Some(session), fields)).await;
    (reply.status, location(&reply).to_owned(), reply.body_text().into_owned())
}

#[tokio::test]
async fn the_2fa_switch_is_confirmed_in_both_directions() {
    let w = world().await;
    assert!(tenant(&w).await.two_factor);
    let page = call(&w, request(Method::Get, "/auth/settings/2fa", Some(&w.owner), None)).await;
    let page = page.body_text();
    assert!(
        page.contains("value=\"confirm\"") && !page.contains("risk_accepted"),
        "the first screen only chooses:\n{page}"
    );

    // Off: current and new setting, the risk, the federated users' note, and the box to tick.
    let (status, _, confirm) = send(&w, "/auth/settings/2fa", &w.owner, &[("state", "off"), ("step", "confirm")]).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("<td>On</td>") && confirm.contains("<strong>Off</strong>"), "{confirm}");
    assert!(confirm.contains("stolen password") && confirm.contains("use that service"), "{confirm}");
    assert!(confirm.contains("name=\"risk_accepted\""));
    assert!(tenant(&w).await.two_factor, "confirming changes nothing");
    let (status, _, again) = send(&w, "/auth/settings/2fa", &w.owner, &[("state", "off"), ("step", "apply")]).await;
    assert_eq!(status, 400, "off needs the risk read");
    assert!(again.contains("class=\"error\""));
    assert!(tenant(&w).await.two_factor);
    let fields = [("state", "off"), ("step", "apply"), ("risk_accepted", "1")];
    let (status, to, _) = send(&w, "/auth/settings/2fa", &w.owner, &fields).await;
    assert_eq!((status, to.as_str()), (303, "/auth/settings/2fa?done=off"));
    assert!(!tenant(&w).await.two_factor);
    let done = call(&w, request(Method::Get, "/auth/settings/2fa?done=off", Some(&w.owner), None)).await;
    assert!(done.body_text().contains("2-step verification is now off."));

    // On: a confirm screen too, without the risk box.
    let (status, _, confirm) =
        send(&w, "/auth/settings/2fa?lang=ja", &w.owner, &[("state", "on"), ("step", "confirm")]).await;
    assert_eq!(status, 200);
    for text in [
        "現在の設定",
        "変更後の設定",
        "<td>無効</td>",
        "<strong>有効</strong>",
        "多要素認証",
        "ご契約内のすべてのユーザー",
    ] {
        assert!(confirm.contains(text), "{text}:\n{confirm}");
    }
    assert!(!confirm.contains("risk_accepted"));
    let (status, _, _) = send(&w, "/auth/settings/2fa", &w.owner, &[("state", "on"), ("step", "apply")]).await;
    assert_eq!(status, 303);
    assert!(tenant(&w).await.two_factor);
    let ev: Vec<String> =
        w.app.store.audit_entries(w.tenant, 0, 100).await.unwrap().into_iter().map(|e| e.event).collect();
    assert_eq!(ev, vec!["2fa_off".to_owned(), "2fa_on".to_owned()]);
}

/// What the owner set, an admin or a user cannot change (nor even reach the
/// confirm screen of): the route and the 2FA switch. A user cannot add lines
/// or networks, which would widen who counts as on a registered line.
#[tokio::test]
async fn a_lower_role_cannot_change_what_the_owner_set() {
    let w = world().await;
    let admin = w.signed_in_as("adm@acme.example", Role::Admin).await;
    for session in [&admin, &w.user] {
        for step in ["confirm", "apply"] {
            let r = send(&w, "/auth/settings/route", session, &[("route", "line-and-internet"), ("step", step)]).await;
            assert_eq!(r.0, 403, "route {step}");
            let fields = [("state", "off"), ("step", step), ("risk_accepted", "1")];
            assert_eq!(send(&w, "/auth/settings/2fa", session, &fields).await.0, 403, "2FA {step}");
        }
    }
    for (action, value) in
        [("add_line", "CAF0000000001"), ("add_network", "203.0.113.0/24"), ("remove_line", "CAF0000000002")]
    {
        let r = send(&w, "/auth/settings/lines", &w.user, &[("action", action), ("value", value)]).await;
        assert_eq!(r.0, 403, "{action}");
    }
    let t = tenant(&w).await;
    assert_eq!((t.route, t.two_factor), (Route::LineAndInternet, true));
    assert!(w.app.store.tenant_networks(w.tenant).await.unwrap().is_empty());
    assert!(w.app.store.audit_entries(w.tenant, 0, 100).await.unwrap().is_empty());

    // An admin may register a network (SPEC section 6); the owner hears of it.
    let r = send(&w, "/auth/settings/lines", &admin, &[("action", "add_network"), ("network", "203.0.113.0/24")]).await;
    assert_eq!((r.0, r.1.as_str()), (303, "/auth/settings/lines?done=added"));
    let mail = w.mails_to("owner@acme.example").pop().expect("the owner is told").1;
    assert!(mail.contains("203.0.113.0/24") && mail.contains("adm@acme.example"), "{mail}");
    let r = send(&w, "/auth/settings/lines", &admin, &[("action", "add_network"), ("network", "0.0.0.0/0")]).await;
    assert_eq!(r.0, 400);
    assert!(r.2.contains("id=\"network-error\"") && r.2.contains("every address"), "{}", r.2);
}

#[tokio::test]
async fn the_route_confirm_screen_warns_the_owner_in_their_language() {
    let w = world().await;
    let (status, _, ja) =
        send(&w, "/auth/settings/route?lang=ja", &w.owner, &[("route", "line-only"), ("step", "confirm")]).await;
    assert_eq!(status, 200);
    for text in [
        "回線認証＋インターネット</strong> → <strong>回線認証のみ",
        "ご自身も",
        "198.51.100.7（回線：なし）",
        "アクセス経路：",
    ] {
        assert!(ja.contains(text), "{text}:\n{ja}");
    }
    assert_eq!(tenant(&w).await.route, Route::LineAndInternet, "confirming changes nothing");
    let (status, _, done) =
        send(&w, "/auth/settings/route", &w.owner, &[("route", "line-only"), ("step", "apply")]).await;
    assert_eq!(status, 200);
    assert!(done.contains("class=\"ok\""));
    assert_eq!(tenant(&w).await.route, Route::LineOnly);
}

async fn get(w: &World, path: &str, session: &str) -> (u16, String) {
    let reply = call(w, request(Method::Get, path, Some(session), None)).await;
    (reply.status, reply.body_text().into_owned())
}

fn numbered(from: usize, n: usize) -> Vec<String> {
    (from..from + n).map(|i| format!("CAF{i:010}")).collect()
}

/// Many lines in the text area: all or nothing, each refusal on its line;
/// more than a submission takes is refused whole, and a user still cannot.
#[tokio::test]
async fn many_lines_at_once_are_all_or_nothing_with_a_report() {
    let w = world().await;
    let path = "/auth/settings/lines";
    let good = numbered(1, 3).join("\n");
    assert_eq!(send(&w, path, &w.user, &[("action", "add_line"), ("line", &good)]).await.0, 403);
    assert!(w.app.store.tenant_lines(w.tenant).await.unwrap().is_empty());

    let bad = format!("{good}\n0120-abc\n\n# a comment\nCAF12");
    let (status, _, html) = send(&w, path, &w.owner, &[("action", "add_line"), ("line", &bad)]).await;
    assert_eq!(status, 400);
    assert!(html.contains("Line 4: 0120-abc: a line number may contain only"), "{html}");
    assert!(html.contains("Line 7: CAF12: a CAF line number has 13 characters"), "{html}");
    assert!(html.contains("Nothing was added"), "{html}");
    assert!(html.contains("0120-abc\n\n# a comment"), "what was typed is kept: {html}");
    assert!(w.app.store.tenant_lines(w.tenant).await.unwrap().is_empty(), "nothing written");

    let (status, location, _) = send(&w, path, &w.owner, &[("action", "add_line"), ("line", &good)]).await;
    assert_eq!((status, location.as_str()), (303, "/auth/settings/lines?done=added"));
    assert_eq!(w.app.store.tenant_lines(w.tenant).await.unwrap(), numbered(1, 3));
    let events = w.app.store.audit_entries(w.tenant, 0, 100).await.unwrap();
    let imported: Vec<_> = events.iter().filter(|e| e.event == "lines_imported").collect();
    assert_eq!(imported.len(), 1, "one event for the submission");
    assert!(imported[0].subject.as_deref().unwrap_or("").contains("3 added"), "{:?}", imported[0].subject);

    // Past the row cap: refused whole with a clear message.
    let many = numbered(100, 1001).join("\n");
    let (status, _, html) = send(&w, path, &w.owner, &[("action", "add_line"), ("line", &many)]).await;
    assert_eq!(status, 413);
    assert!(html.contains("At most 1000 at a time"), "{html}");
    // Past the body cap (this form's, larger than a login's): refused unread.
    let huge = "CAF0000000001\n".repeat(6000);
    assert_eq!(send(&w, path, &w.owner, &[("action", "add_line"), ("line", &huge)]).await.0, 413);
    // A thousand is fine.
    let thousand = numbered(100, 1000).join("\r\n");
    assert_eq!(send(&w, path, &w.owner, &[("action", "add_line"), ("line", &thousand)]).await.0, 303);
    assert_eq!(w.app.store.tenant_lines(w.tenant).await.unwrap().len(), 1003);

    // Networks the same way; in Japanese the reasons are Japanese.
    let nets = "203.0.113.0/24\n127.0.0.0/8\n2001:db8::/48";
    let (status, _, html) = send(&w, path, &w.owner, &[("action", "add_network"), ("network", nets)]).await;
    assert_eq!(status, 400);
    assert!(html.contains("Line 2: 127.0.0.0/8: 127.0.0.0/8 takes in loopback"), "{html}");
    assert!(w.app.store.tenant_networks(w.tenant).await.unwrap().is_empty());
    // The attempt is audited as a single refused network is, naming it.
    let events = w.app.store.audit_entries(w.tenant, 0, 100).await.unwrap();
    let refused: Vec<_> = events.iter().filter(|e| e.event == "network_refused").collect();
    assert_eq!(refused.len(), 1, "{events:?}");
    assert_eq!(refused[0].subject.as_deref(), Some("127.0.0.0/8"));
    let nets = "203.0.113.0/24\n2001:db8::/48";
    assert_eq!(send(&w, path, &w.owner, &[("action", "add_network"), ("network", nets)]).await.0, 303);
    assert_eq!(w.app.store.tenant_networks(w.tenant).await.unwrap().len(), 2);
    let events = w.app.store.audit_entries(w.tenant, 0, 100).await.unwrap();
    let added = events.iter().find(|e| e.event == "networks_imported").and_then(|e| e.subject.clone());
    assert!(added.as_deref().is_some_and(|s| s.contains("203.0.113.0/24, 2001:db8::/48")), "{added:?}");
}

/// The list is paged in the database and searched literally; whatever the
/// query holds, a page comes back (never an error).
#[tokio::test]
async fn the_line_list_is_paged_and_searched() {
    let w = world().await;
    let lines: Vec<policy::LineId> = numbered(1, 120).iter().map(|l| policy::LineId::parse(l).unwrap()).collect();
    w.app.store.import_lines(w.tenant, &lines, &mut |_| {}).await.unwrap();
    let page = |q: &str| {
        let path = format!("/auth/settings/lines{q}");
        let w = &w;
        async move { get(w, &path, &w.owner).await }
    };
    let (status, html) = page("").await;
    assert_eq!(status, 200);
    assert!(html.contains("CAF0000000050") && !html.contains("CAF0000000051"), "50 a page");
    assert!(html.contains("1–50 / 120") && html.contains("page=2"), "{html}");
    assert_eq!(html.matches("value=\"remove_line\"").count(), 50, "a remove button per line shown");
    let (_, html) = page("?page=3").await;
    assert!(html.contains("CAF0000000120") && !html.contains("CAF0000000100"), "the last page");
    assert!(!html.contains("rel=\"next\"") && html.contains("page=2"));
    for odd in ["?page=-5", "?page=0", "?page=abc", "?page=99999999999999999999", "?page=%00"] {
        let (status, html) = page(odd).await;
        assert_eq!(status, 200, "{odd}");
        assert!(html.contains("CAF0000000001"), "{odd}: the first page");
    }
    let (status, html) = page("?page=4000000").await;
    assert_eq!(status, 200);
    assert!(html.contains("CAF0000000120"), "past the end: the last page");
    let (_, html) = page("?q=caf000000011").await;
    assert!(html.contains("1–10 / 10") && html.contains("CAF0000000110"), "{html}");
    assert!(html.contains("value=\"caf000000011\""), "the search is kept in its box");
    for wild in ["%25", "_", "CAF%25", "%5C"] {
        let (status, html) = page(&format!("?q={wild}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("No registered line number contains this"), "{wild} is literal");
    }
    let (_, html) = page("?q=0&page=2").await;
    assert!(html.contains("q=0&#38;page=1") && html.contains("q=0&#38;page=3"), "paging keeps the search");
    // A user cannot see it at all.
    assert_eq!(get(&w, "/auth/settings/lines", &w.user).await.0, 403);
}
