use ipnet::IpNet;
use policy::{NetworkRefusal, Role};

use super::lines::list;
use super::{Accounts, Actor, Mailed, Result, TenantRef};

/// What became of adding source networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworksAdded {
    /// `added` are new (and the owner was told); `already` were registered before.
    Added {
        added: Vec<IpNet>,
        already: Vec<IpNet>,
        owner_told: Mailed,
    },
    /// Wider than `tenant_networks` allows, or never a tenant's (SPEC section
    /// 11): nothing was added.
    Refused(Vec<NetworkRefusal>),
    /// `net` lies inside the registered `within`: nothing was added.
    Covered {
        net: IpNet,
        within: IpNet,
    },
    ManagedByFile,
}

/// What became of removing source networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworksRemoved {
    /// `missing` were not registered to this tenant.
    Removed {
        removed: Vec<IpNet>,
        missing: Vec<IpNet>,
    },
    ManagedByFile,
}

impl Accounts<'_> {
    /// Registers source networks, all or none: each within the configured
    /// width and never loopback, unspecified or IPv4-mapped. Every address in
    /// them then counts as a registered line, so the owners are told.
    pub async fn add_networks(&self, by: &Actor<'_>, tenant: &TenantRef<'_>, nets: &[IpNet]) -> Result<NetworksAdded> {
        if tenant.managed_by_file {
            return Ok(NetworksAdded::ManagedByFile);
        }
        let limits = self.cfg.tenant_networks.limits();
        let (mut checked, mut refused) = (Vec::new(), Vec::new());
        for net in nets {
            match limits.check(*net) {
                Ok(n) => checked.push(n),
                Err(r) => refused.push(r),
            }
        }
        if !refused.is_empty() {
            let nets: Vec<IpNet> = nets.iter().map(|n| n.trunc()).filter(|n| !checked.contains(n)).collect();
            tracing::warn!(tenant = tenant.name, by = by.name.unwrap_or("?"), nets = %list(&nets), "source network refused");
            self.audit(by, Some(tenant.id), Some(&list(&nets)), "network_refused").await;
            return Ok(NetworksAdded::Refused(refused));
        }
        let registered: Vec<IpNet> = self
            .store
            .tenant_networks(tenant.id)
            .await?
            .iter()
            .filter_map(|n| config::parse_net(n).ok().map(|n| n.trunc()))
            .collect();
        let (mut already, mut added) = (Vec::new(), Vec::new());
        for net in checked {
            if registered.contains(&net) {
                already.push(net);
            } else if let Some(within) = registered.iter().find(|r| r.contains(&net)) {
                return Ok(NetworksAdded::Covered { net, within: *within });
            } else if !added.contains(&net) {
                added.push(net);
            }
        }
        if added.is_empty() {
            return Ok(NetworksAdded::Added { added, already, owner_told: Mailed::Sent });
        }
        self.store.add_networks(tenant.id, &added).await?;
        self.audit(by, Some(tenant.id), Some(&list(&added)), "network_added").await;
        let owner_told = self.tell_owners(by, tenant, &added).await;
        Ok(NetworksAdded::Added { added, already, owner_told })
    }

    /// Removes registered networks; removing never widens anything, so any
    /// network that parses may go.
    pub async fn remove_networks(
        &self,
        by: &Actor<'_>,
        tenant: &TenantRef<'_>,
        nets: &[IpNet],
    ) -> Result<NetworksRemoved> {
        if tenant.managed_by_file {
            return Ok(NetworksRemoved::ManagedByFile);
        }
        let missing = self.store.remove_networks(tenant.id, nets).await?;
        let removed: Vec<IpNet> = nets.iter().filter(|n| !missing.contains(n)).map(|n| n.trunc()).collect();
        if !removed.is_empty() {
            self.audit(by, Some(tenant.id), Some(&list(&removed)), "network_removed").await;
        }
        Ok(NetworksRemoved::Removed { removed, missing })
    }

    /// SPEC section 11: the owner hears of every network that now counts as a
    /// registered line: which, by whom, from where.
    pub(super) async fn tell_owners(&self, by: &Actor<'_>, tenant: &TenantRef<'_>, added: &[IpNet]) -> Mailed {
        let users = match self.store.tenant_users(tenant.id).await {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(error = %e, tenant = tenant.name, "cannot find the owner to tell of a new network");
                return Mailed::Failed;
            }
        };
        let (who, from) = by.described();
        let network = list(added);
        let notice = crate::mail::NetworkAdded { tenant: tenant.name, network: &network, by: &who, from: &from };
        let msg = crate::mail::network_added(&notice, by.lang, &self.cfg.ui.product_name);
        let mut told = Mailed::Sent;
        for owner in users.iter().filter(|u| u.role == Role::Owner) {
            if let Err(e) = self.mailer.send(&owner.email, &msg).await {
                tracing::warn!(error = %e, tenant = tenant.name, "the notice of a new network could not be sent");
                told = Mailed::Failed;
            }
        }
        told
    }
}
