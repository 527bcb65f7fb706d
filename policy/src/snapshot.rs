use std::collections::HashMap;
use std::sync::Arc;

use crate::path::PathRules;
use crate::tenant::{TenantId, TenantPolicy};

/// An immutable view of all policy at one moment: the ops path rules and every
/// tenant's route, 2FA switch, lines and networks. The gateway swaps a whole new
/// snapshot in when anything changes, so a decision never sees half an update.
#[derive(Debug, Clone, Default)]
pub struct PolicySnapshot {
    pub rules: PathRules,
    /// Shared between snapshots: a change to one tenant builds a snapshot that
    /// reuses every other tenant's lines and networks as they are.
    tenants: HashMap<TenantId, Arc<TenantPolicy>>,
    by_name: HashMap<String, TenantId>,
}

impl PolicySnapshot {
    pub fn new(rules: PathRules, tenants: impl IntoIterator<Item = TenantPolicy>) -> Self {
        Self::from_shared(rules, tenants.into_iter().map(Arc::new))
    }

    pub fn from_shared(rules: PathRules, tenants: impl IntoIterator<Item = Arc<TenantPolicy>>) -> Self {
        let mut snap = PolicySnapshot { rules, ..Default::default() };
        for t in tenants {
            snap.by_name.insert(t.name.clone(), t.id);
            snap.tenants.insert(t.id, t);
        }
        snap
    }

    /// This snapshot with one tenant replaced, added (`Some`) or taken out
    /// (`None`); the others are shared, not copied.
    pub fn with_tenant(&self, id: TenantId, tenant: Option<Arc<TenantPolicy>>) -> Self {
        let mut next = self.clone();
        if let Some(old) = next.tenants.remove(&id) {
            next.by_name.remove(&old.name);
        }
        if let Some(t) = tenant {
            next.by_name.insert(t.name.clone(), t.id);
            next.tenants.insert(t.id, t);
        }
        next
    }

    /// The tenant as shared between snapshots.
    pub fn shared_tenant(&self, id: TenantId) -> Option<&Arc<TenantPolicy>> {
        self.tenants.get(&id)
    }

    pub fn tenant(&self, id: TenantId) -> Option<&TenantPolicy> {
        self.tenants.get(&id).map(|t| &**t)
    }

    pub fn tenant_by_name(&self, name: &str) -> Option<&TenantPolicy> {
        self.by_name.get(name).and_then(|id| self.tenants.get(id)).map(|t| &**t)
    }

    pub fn tenants(&self) -> impl Iterator<Item = &TenantPolicy> {
        self.tenants.values().map(|t| &**t)
    }
}
