use std::collections::HashMap;

use crate::path::PathRules;
use crate::tenant::{TenantId, TenantPolicy};

/// An immutable view of all policy at one moment: the ops path rules and every
/// tenant's route, 2FA switch, lines and networks. The gateway swaps a whole new
/// snapshot in when anything changes, so a decision never sees half an update.
#[derive(Debug, Clone, Default)]
pub struct PolicySnapshot {
    pub rules: PathRules,
    tenants: HashMap<TenantId, TenantPolicy>,
    by_name: HashMap<String, TenantId>,
}

impl PolicySnapshot {
    pub fn new(rules: PathRules, tenants: impl IntoIterator<Item = TenantPolicy>) -> Self {
        let mut snap = PolicySnapshot { rules, ..Default::default() };
        for t in tenants {
            snap.by_name.insert(t.name.clone(), t.id);
            snap.tenants.insert(t.id, t);
        }
        snap
    }

    pub fn tenant(&self, id: TenantId) -> Option<&TenantPolicy> {
        self.tenants.get(&id)
    }

    pub fn tenant_by_name(&self, name: &str) -> Option<&TenantPolicy> {
        self.by_name.get(name).and_then(|id| self.tenants.get(id))
    }

    pub fn tenants(&self) -> impl Iterator<Item = &TenantPolicy> {
        self.tenants.values()
    }
}
