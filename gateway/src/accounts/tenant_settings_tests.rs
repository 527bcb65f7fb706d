//! The route and 2FA switches, lines and networks against a real SQLite
//! store: refused for a tenant of the policy file, one audit event per change,
//! the width checks and the owner's notice.

use ipnet::IpNet;
use policy::{HostKind, LineId, Route};

use super::{Actor, LinesAdded, LinesRemoved, Mailed, NetworksAdded, NetworksRemoved, RouteSet, SwitchSet, TenantRef};
use crate::auth::testing::{World, world};
use crate::ui::lang::Lang;

fn admin() -> Actor<'static> {
    Actor {
        name: Some("adm@acme.example"),
        client_ip: Some("198.51.100.7"),
        host: Some(HostKind::Ordinary),
        lang: Lang::En,
    }
}

fn acme(w: &World) -> TenantRef<'static> {
    TenantRef { id: w.tenant, name: "acme", managed_by_file: false }
}

fn declared(w: &World) -> TenantRef<'static> {
    TenantRef { managed_by_file: true, ..acme(w) }
}

async fn events(w: &World) -> Vec<(Option<String>, Option<String>, String)> {
    let rows = w.app.store.audit_entries(w.tenant, 0, 1000).await.unwrap();
    rows.into_iter().map(|e| (e.actor, e.subject, e.event)).collect()
}

async fn summary(w: &World) -> crate::store::TenantSummary {
    w.app.store.require_tenant("acme").await.unwrap()
}

fn line(s: &str) -> LineId {
    LineId::parse(s).unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[tokio::test]
async fn a_tenant_of_the_policy_file_is_changed_by_no_operation() {
    let w = world().await;
    let (a, t) = (w.accounts(), declared(&w));
    assert_eq!(a.set_route(&admin(), &t, Route::LineOnly, false).await.unwrap(), RouteSet::ManagedByFile);
    assert_eq!(a.set_two_factor(&admin(), &t, false).await.unwrap(), SwitchSet::ManagedByFile);
    assert_eq!(a.add_lines(&admin(), &t, &[line("CAF0000000001")]).await.unwrap(), LinesAdded::ManagedByFile);
    assert_eq!(a.remove_lines(&admin(), &t, &[line("CAF0000000001")]).await.unwrap(), LinesRemoved::ManagedByFile);
    assert_eq!(a.add_networks(&admin(), &t, &[net("203.0.113.0/24")]).await.unwrap(), NetworksAdded::ManagedByFile);
    let removed = a.remove_networks(&admin(), &t, &[net("203.0.113.0/24")]).await.unwrap();
    assert_eq!(removed, NetworksRemoved::ManagedByFile);
    let s = summary(&w).await;
    assert_eq!((s.route, s.two_factor), (Route::LineAndInternet, true));
    assert!(w.app.store.tenant_lines(w.tenant).await.unwrap().is_empty());
    assert!(w.app.store.tenant_networks(w.tenant).await.unwrap().is_empty());
    assert!(events(&w).await.is_empty());
}

#[tokio::test]
async fn the_route_and_the_switch_are_set_and_audited_once() {
    let w = world().await;
    let a = w.accounts();
    assert_eq!(a.set_route(&admin(), &acme(&w), Route::LineOnly, false).await.unwrap(), RouteSet::Set);
    assert_eq!(summary(&w).await.route, Route::LineOnly);
    a.set_route(&admin(), &acme(&w), Route::LineAndInternet, true).await.unwrap();
    assert_eq!(summary(&w).await.route, Route::LineAndInternet);
    assert_eq!(a.set_two_factor(&admin(), &acme(&w), false).await.unwrap(), SwitchSet::Set);
    assert!(!summary(&w).await.two_factor);
    a.set_two_factor(&Actor::cli(Lang::Ja), &acme(&w), true).await.unwrap();
    assert!(summary(&w).await.two_factor);
    let ev: Vec<(Option<String>, String)> = events(&w).await.into_iter().map(|e| (e.0, e.2)).collect();
    let adm = Some("adm@acme.example".to_owned());
    assert_eq!(
        ev,
        vec![
            (adm.clone(), "route_set:line-only".into()),
            (adm.clone(), "route_set:line-and-internet:break_glass".into()),
            (adm, "2fa_off".into()),
            (Some("cli".into()), "2fa_on".into()),
        ]
    );
}

#[tokio::test]
async fn lines_are_added_all_or_none_and_never_taken_from_another_tenant() {
    let w = world().await;
    let a = w.accounts();
    let added = a.add_lines(&admin(), &acme(&w), &[line("CAF0000000001"), line("caf0000000001")]).await.unwrap();
    assert_eq!(added, LinesAdded::Added { added: vec![line("CAF0000000001")], already: vec![] });
    let again = a.add_lines(&admin(), &acme(&w), &[line("CAF0000000001"), line("COP1234ABCD")]).await.unwrap();
    assert_eq!(again, LinesAdded::Added { added: vec![line("COP1234ABCD")], already: vec![line("CAF0000000001")] });
    // Another tenant's line: refused, and nothing of the batch is added.
    let beta = w.app.store.create_tenant("beta", crate::store::Plan::Basic).await.unwrap();
    let beta = TenantRef { id: beta, name: "beta", managed_by_file: false };
    let taken = a.add_lines(&admin(), &beta, &[line("COP0000000B"), line("CAF0000000001")]).await.unwrap();
    assert_eq!(taken, LinesAdded::OtherTenant);
    assert!(w.app.store.tenant_lines(beta.id).await.unwrap().is_empty());
    let removed = a.remove_lines(&admin(), &acme(&w), &[line("COP1234ABCD"), line("CAF0000000009")]).await.unwrap();
    assert_eq!(
        removed,
        LinesRemoved::Removed { removed: vec![line("COP1234ABCD")], missing: vec![line("CAF0000000009")] }
    );
    assert_eq!(w.app.store.tenant_lines(w.tenant).await.unwrap(), vec!["CAF0000000001".to_owned()]);
    let ev: Vec<(Option<String>, String)> = events(&w).await.into_iter().map(|e| (e.1, e.2)).collect();
    assert_eq!(
        ev,
        vec![
            (Some("CAF0000000001".into()), "line_added".into()),
            (Some("COP1234ABCD".into()), "line_added".into()),
            (Some("COP1234ABCD".into()), "line_removed".into()),
        ]
    );
}

#[tokio::test]
async fn networks_are_checked_for_width_and_overlap_and_the_owner_is_told() {
    let w = world().await;
    let a = w.accounts();
    // Too wide, everyone's, loopback: refused whole, audited, nothing stored, nobody mailed.
    for bad in ["0.0.0.0/0", "10.0.0.0/8", "127.0.0.1/32", "::ffff:0:0/96"] {
        let r = a.add_networks(&admin(), &acme(&w), &[net("203.0.113.0/24"), net(bad)]).await.unwrap();
        assert!(matches!(&r, NetworksAdded::Refused(why) if why.len() == 1), "{bad}: {r:?}");
    }
    assert!(w.app.store.tenant_networks(w.tenant).await.unwrap().is_empty());
    assert!(w.mails_to("owner@acme.example").is_empty());
    let ev = events(&w).await;
    assert_eq!(ev.iter().filter(|e| e.2 == "network_refused").count(), 4, "{ev:?}");
    assert_eq!(ev[0].1.as_deref(), Some("0.0.0.0/0"), "the refused network is the subject");

    let added = a.add_networks(&admin(), &acme(&w), &[net("203.0.113.7/24")]).await.unwrap();
    assert_eq!(
        added,
        NetworksAdded::Added { added: vec![net("203.0.113.0/24")], already: vec![], owner_told: Mailed::Sent }
    );
    let mails = w.mails_to("owner@acme.example");
    assert_eq!(mails.len(), 1, "the owner, and only the owner, is told");
    assert!(mails[0].1.contains("203.0.113.0/24") && mails[0].1.contains("adm@acme.example"));
    assert!(mails[0].1.contains("198.51.100.7 (ordinary)"), "by whom and from where:\n{}", mails[0].1);
    assert!(w.mails_to("user@acme.example").is_empty());

    let covered = a.add_networks(&admin(), &acme(&w), &[net("203.0.113.128/25")]).await.unwrap();
    assert_eq!(covered, NetworksAdded::Covered { net: net("203.0.113.128/25"), within: net("203.0.113.0/24") });
    let again = a.add_networks(&admin(), &acme(&w), &[net("203.0.113.0/24")]).await.unwrap();
    assert_eq!(
        again,
        NetworksAdded::Added { added: vec![], already: vec![net("203.0.113.0/24")], owner_told: Mailed::Sent }
    );
    assert_eq!(w.mails_to("owner@acme.example").len(), 1, "nothing new, no notice");

    let removed = a.remove_networks(&admin(), &acme(&w), &[net("203.0.113.0/24")]).await.unwrap();
    assert_eq!(removed, NetworksRemoved::Removed { removed: vec![net("203.0.113.0/24")], missing: vec![] });
    let ev = events(&w).await;
    assert_eq!(ev.iter().filter(|e| e.2 == "network_added").count(), 1);
    assert_eq!(ev.iter().filter(|e| e.2 == "network_removed").count(), 1);
}

#[test]
fn the_command_line_is_described_as_such_in_notices() {
    let (by, from) = Actor::cli(Lang::Ja).described();
    assert!(by.starts_with("the gateway command line (user "), "{by}");
    assert!(from.ends_with("(command line)"), "{from}");
    assert_eq!(admin().described(), ("adm@acme.example".to_owned(), "198.51.100.7 (ordinary)".to_owned()));
}
