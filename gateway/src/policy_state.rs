//! The live policy snapshot: tenants from the database merged with the ops
//! policy file, swapped in whole whenever either changes.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use ipnet::IpNet;
use policy::{LineId, NetworkLimits, NetworkSet, PolicySnapshot, TenantPolicy};

use crate::store::{StoreError, TenantRow};

/// A tenant as [`crate::store::Store::load_tenants`] read it, or why it could not.
pub type TenantLoad = Result<TenantRow, StoreError>;

#[derive(Default)]
struct Inputs {
    db: Vec<TenantLoad>,
    /// The store's change counter as read before `db` was loaded.
    db_generation: Option<i64>,
    file: Option<config::OpsPolicy>,
}

/// Readers take a snapshot with one atomic load; writers rebuild and swap.
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

    /// Replaces the database's tenants with rows loaded after reading the change
    /// counter at `generation`; a load that started earlier than the one in
    /// force is dropped, so two reloads racing can never bring old rows back.
    pub fn set_db_at(&self, generation: i64, rows: Vec<TenantLoad>) -> bool {
        let mut inputs = self.inputs.lock().unwrap_or_else(|p| p.into_inner());
        if inputs.db_generation.is_some_and(|g| g > generation) {
            return false;
        }
        inputs.db_generation = Some(generation);
        inputs.db = rows;
        self.snapshot.store(Arc::new(build_snapshot(&inputs.db, inputs.file.as_ref(), &self.limits)));
        true
    }

    pub fn set_file(&self, ops: config::OpsPolicy) {
        let mut inputs = self.inputs.lock().unwrap_or_else(|p| p.into_inner());
        inputs.file = Some(ops);
        self.snapshot.store(Arc::new(build_snapshot(&inputs.db, inputs.file.as_ref(), &self.limits)));
    }
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
    let rules = file.map(|f| f.rules.clone()).unwrap_or_default();
    let declared = |name: &str| file.and_then(|f| f.tenants.iter().find(|t| t.name == name));
    let tenants = db.iter().filter_map(|row| row.as_ref().ok()).map(|row| {
        let mut t = TenantPolicy::new(row.id, row.name.clone());
        if let Some(d) = declared(&row.name) {
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
    });
    PolicySnapshot::new(rules, tenants)
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
