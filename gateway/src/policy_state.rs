//! The live policy snapshot: tenants from the database merged with the ops
//! policy file. A change builds a new snapshot that shares every tenant it
//! did not touch with the one before, and swaps it in whole.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use ipnet::IpNet;
use policy::{LineId, NetworkLimits, NetworkSet, PolicySnapshot, TenantPolicy};

use crate::store::{StoreError, TenantRow};

/// A tenant as [`crate::store::Store::load_tenants`] read it, or why it could not.
pub type TenantLoad = Result<TenantRow, StoreError>;

#[derive(Default)]
struct Inputs {
    /// The database's tenants as last read (rows that could not be read are absent).
    db: HashMap<i64, TenantRow>,
    file: Option<config::OpsPolicy>,
}

/// Readers take a snapshot with one atomic load; writers rebuild and swap.
/// The database's part has one writer, the change follower
/// (`crate::changes`), so its reloads are applied in the order they were read.
pub struct PolicyState {
    snapshot: ArcSwap<PolicySnapshot>,
    inputs: Mutex<Inputs>,
    limits: NetworkLimits,
}

impl Default for PolicyState {
    fn default() -> Self {
        Self::new()
    }
}

impl PolicyState {
    pub fn new() -> Self {
        Self::with_limits(NetworkLimits::default())
    }

    /// Networks outside `limits` never reach a snapshot, wherever they come from.
    pub fn with_limits(limits: NetworkLimits) -> Self {
        PolicyState {
            snapshot: ArcSwap::from_pointee(PolicySnapshot::default()),
            inputs: Mutex::new(Inputs::default()),
            limits,
        }
    }

    pub fn limits(&self) -> NetworkLimits {
        self.limits
    }

    pub fn load(&self) -> arc_swap::Guard<Arc<PolicySnapshot>> {
        self.snapshot.load()
    }

    pub fn load_full(&self) -> Arc<PolicySnapshot> {
        self.snapshot.load_full()
    }

    /// Replaces every database tenant.
    pub fn set_db(&self, rows: Vec<TenantLoad>) {
        let mut inputs = self.inputs.lock().unwrap_or_else(|p| p.into_inner());
        inputs.db = rows.into_iter().filter_map(Result::ok).map(|r| (r.id, r)).collect();
        let rows: Vec<&TenantRow> = inputs.db.values().collect();
        let snap = build_snapshot_from(&rows, inputs.file.as_ref(), &self.limits);
        self.snapshot.store(Arc::new(snap));
    }

    /// Replaces one tenant: `None` for a tenant gone, `Some(Err)` for one that
    /// cannot be read (left out, so closed). Every other tenant is shared with
    /// the snapshot before, not rebuilt.
    pub fn set_tenant(&self, id: i64, row: Option<TenantLoad>) {
        let mut inputs = self.inputs.lock().unwrap_or_else(|p| p.into_inner());
        let built = match row {
            Some(Ok(row)) => {
                let t = build_tenant(&row, inputs.file.as_ref(), &self.limits);
                inputs.db.insert(id, row);
                Some(Arc::new(t))
            }
            Some(Err(_)) | None => {
                inputs.db.remove(&id);
                None
            }
        };
        let next = self.snapshot.load().with_tenant(id, built);
        self.snapshot.store(Arc::new(next));
    }

    /// The policy file changed: the rules and the tenants it declares, or
    /// declared before, are rebuilt; every other tenant is shared as it is.
    pub fn set_file(&self, ops: config::OpsPolicy) {
        let mut inputs = self.inputs.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.snapshot.load_full();
        let declared = |name: &str| ops.tenants.iter().any(|t| t.name == name);
        let tenants: Vec<Arc<TenantPolicy>> = inputs
            .db
            .values()
            .map(|row| match current.shared_tenant(row.id) {
                Some(t) if !t.managed_by_file && !declared(&row.name) && t.name == row.name => t.clone(),
                _ => Arc::new(build_tenant(row, Some(&ops), &self.limits)),
            })
            .collect();
        self.snapshot.store(Arc::new(PolicySnapshot::from_shared(ops.rules.clone(), tenants)));
        inputs.file = Some(ops);
    }
}

/// Loads the ops policy file named by the configuration: `None` when no file is
/// configured or the default one does not exist.
pub fn initial_ops_policy(cfg: &config::GatewayConfig) -> anyhow::Result<Option<config::OpsPolicy>> {
    let Some(path) = &cfg.policy_file else { return Ok(None) };
    if !path.exists() && !cfg.policy_file_explicit {
        return Ok(None);
    }
    let limits = cfg.tenant_networks.limits();
    Ok(Some(config::load_policy_with(path, &limits)?))
}

/// Merges the database's tenants with those declared in the policy file; a
/// declaration replaces the tenant's route, 2FA switch, lines and networks.
/// Declared tenants without a database row have no users and are left out.
///
/// So is a tenant whose row could not be read (the store logged it at error
/// level): guessing its route could open it wider than its owner chose, and
/// even `line-only` is a guess. Absent from the snapshot, it is closed: its
/// sessions are sent to sign in, signing in refuses them, and its lines and
/// networks match nobody, until the row is set right. The same when the file
/// declares the tenant: the row that ties its users to it is still unreadable.
pub fn build_snapshot(db: &[TenantLoad], file: Option<&config::OpsPolicy>, limits: &NetworkLimits) -> PolicySnapshot {
    let rows: Vec<&TenantRow> = db.iter().filter_map(|row| row.as_ref().ok()).collect();
    build_snapshot_from(&rows, file, limits)
}

fn build_snapshot_from(
    rows: &[&TenantRow],
    file: Option<&config::OpsPolicy>,
    limits: &NetworkLimits,
) -> PolicySnapshot {
    let rules = file.map(|f| f.rules.clone()).unwrap_or_default();
    PolicySnapshot::new(rules, rows.iter().map(|row| build_tenant(row, file, limits)))
}

fn build_tenant(row: &TenantRow, file: Option<&config::OpsPolicy>, limits: &NetworkLimits) -> TenantPolicy {
    let mut t = TenantPolicy::new(row.id, row.name.clone());
    if let Some(d) = file.and_then(|f| f.tenants.iter().find(|t| t.name == row.name)) {
        t.route = d.route;
        t.two_factor = d.two_factor;
        t.lines = d.lines.iter().copied().collect();
        t.networks = allowed_networks(&row.name, d.networks.iter().copied(), limits);
        t.managed_by_file = true;
    } else {
        t.route = row.route;
        t.two_factor = row.two_factor;
        t.lines = row.lines.iter().filter_map(|l| LineId::parse(l).ok()).collect();
        t.networks = allowed_networks(&row.name, row.networks.iter().filter_map(|n| n.parse().ok()), limits);
    }
    t
}

/// SPEC section 11, on read: a network stored before the limits existed (or
/// written past them) must not widen anything. It is left out, with a warning
/// naming it so the operator can remove it; failing closed, its addresses are
/// simply not on a registered line.
fn allowed_networks(tenant: &str, nets: impl Iterator<Item = IpNet>, limits: &NetworkLimits) -> NetworkSet {
    nets.filter(|n| match limits.check(*n) {
        Ok(_) => true,
        Err(refusal) => {
            tracing::warn!(tenant, network = %n, "source network ignored: {refusal}");
            false
        }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use policy::Route;

    use super::*;

    #[test]
    fn an_unreadable_tenant_is_left_out_not_guessed() {
        let good = TenantRow {
            id: 2,
            name: "beta".into(),
            route: Route::LineAndInternet,
            two_factor: true,
            lines: vec![],
            networks: vec![],
        };
        let bad = StoreError::Corrupt { table: "tenants", column: "route", row: "id 1".into(), value: "open".into() };
        let snap = build_snapshot(&[Err(bad), Ok(good)], None, &NetworkLimits::default());
        assert!(snap.tenant(1).is_none(), "no route is guessed for the unreadable row");
        assert_eq!(snap.tenant(2).map(|t| t.route), Some(Route::LineAndInternet), "the others are unaffected");
    }

    fn row(id: i64, name: &str, lines: &[&str]) -> TenantRow {
        TenantRow {
            id,
            name: name.into(),
            route: Route::LineAndInternet,
            two_factor: true,
            lines: lines.iter().map(|l| l.to_string()).collect(),
            networks: vec![],
        }
    }

    #[test]
    fn a_tenant_change_rebuilds_that_tenant_only() {
        let state = PolicyState::new();
        state.set_db(vec![Ok(row(1, "acme", &["CAF0000000001"])), Ok(row(2, "beta", &["CAF0000000002"]))]);
        let before = state.load_full();
        let mut changed = row(2, "beta", &[]);
        changed.route = Route::LineOnly;
        state.set_tenant(2, Some(Ok(changed)));
        let after = state.load_full();
        assert_eq!(after.tenant(2).map(|t| t.route), Some(Route::LineOnly));
        assert!(after.tenant(2).is_some_and(|t| t.lines.is_empty()));
        assert!(
            Arc::ptr_eq(before.shared_tenant(1).unwrap(), after.shared_tenant(1).unwrap()),
            "the other tenant is shared, not rebuilt"
        );
        let bad = StoreError::Corrupt { table: "tenants", column: "route", row: "id 2".into(), value: "open".into() };
        state.set_tenant(2, Some(Err(bad)));
        assert!(state.load().tenant(2).is_none(), "unreadable: closed");
        state.set_tenant(3, Some(Ok(row(3, "gamma", &[]))));
        assert!(state.load().tenant_by_name("gamma").is_some(), "a new tenant is added");
        state.set_tenant(3, None);
        assert!(state.load().tenant_by_name("gamma").is_none(), "a tenant gone is taken out");
        // A whole reload afterwards sees the database as it is.
        state.set_db(vec![Ok(row(1, "acme", &[]))]);
        assert_eq!(state.load().tenants().count(), 1);
    }

    #[test]
    fn a_policy_file_change_rebuilds_only_what_it_declares() {
        let state = PolicyState::new();
        state.set_db(vec![Ok(row(1, "acme", &["CAF0000000001"])), Ok(row(2, "beta", &[]))]);
        let before = state.load_full();
        let ops = config::parse_policy(
            "tenants:\n  beta:\n    route: line-only\n    two_factor: false\n",
            std::path::Path::new("policy.yaml"),
        )
        .expect("policy");
        state.set_file(ops);
        let after = state.load_full();
        assert_eq!(after.tenant(2).map(|t| (t.route, t.managed_by_file)), Some((Route::LineOnly, true)));
        assert!(Arc::ptr_eq(before.shared_tenant(1).unwrap(), after.shared_tenant(1).unwrap()));
        // The declaration withdrawn: beta is the database's again.
        state.set_file(config::parse_policy("{}", std::path::Path::new("policy.yaml")).expect("policy"));
        assert_eq!(state.load().tenant(2).map(|t| (t.route, t.managed_by_file)), Some((Route::LineAndInternet, false)));
        // A tenant change keeps honouring the file.
        state.set_file(
            config::parse_policy("tenants:\n  beta:\n    route: line-only\n", std::path::Path::new("policy.yaml"))
                .expect("policy"),
        );
        state.set_tenant(2, Some(Ok(row(2, "beta", &[]))));
        assert_eq!(state.load().tenant(2).map(|t| t.route), Some(Route::LineOnly));
    }

    #[test]
    fn stored_networks_past_the_limits_widen_nothing() {
        let row = TenantRow {
            id: 1,
            name: "acme".into(),
            route: Route::LineOnly,
            two_factor: true,
            lines: vec![],
            networks: ["0.0.0.0/0", "::/0", "::ffff:0:0/96", "127.0.0.0/8", "10.0.0.0/8", "203.0.113.0/24"]
                .map(String::from)
                .to_vec(),
        };
        let snap = build_snapshot(&[Ok(row)], None, &NetworkLimits::default());
        let t = snap.tenant(1).expect("tenant");
        assert_eq!(t.networks.iter().map(|n| n.to_string()).collect::<Vec<_>>(), ["203.0.113.0/24"]);
        for ip in ["192.0.2.1", "127.0.0.1", "10.1.2.3", "::1", "::ffff:192.0.2.1"] {
            assert!(!t.networks.contains(ip.parse().unwrap()), "{ip}");
        }
        assert!(t.networks.contains("203.0.113.9".parse().unwrap()));
    }
}
