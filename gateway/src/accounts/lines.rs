use policy::LineId;

use super::{Accounts, Actor, Result, TenantRef};
use crate::store::StoreError;

/// What became of adding lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinesAdded {
    /// `added` are new; `already` were registered to this tenant before.
    Added {
        added: Vec<LineId>,
        already: Vec<LineId>,
    },
    /// One of them is registered to another tenant: nothing was added.
    OtherTenant,
    ManagedByFile,
}

/// What became of removing lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinesRemoved {
    /// `missing` were not registered to this tenant.
    Removed {
        removed: Vec<LineId>,
        missing: Vec<LineId>,
    },
    ManagedByFile,
}

pub(super) fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

impl Accounts<'_> {
    /// Registers carrier lines to the tenant, all or none.
    pub async fn add_lines(&self, by: &Actor<'_>, tenant: &TenantRef<'_>, lines: &[LineId]) -> Result<LinesAdded> {
        if tenant.managed_by_file {
            return Ok(LinesAdded::ManagedByFile);
        }
        let registered = self.store.tenant_lines(tenant.id).await?;
        let (mut already, mut added) = (Vec::new(), Vec::new());
        for line in lines {
            if registered.iter().any(|r| r == line.as_str()) {
                already.push(*line);
            } else if !added.contains(line) {
                added.push(*line);
            }
        }
        if added.is_empty() {
            return Ok(LinesAdded::Added { added, already });
        }
        match self.store.add_lines(tenant.id, &added).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Ok(LinesAdded::OtherTenant),
            Err(e) => return Err(e.into()),
        }
        self.audit(by, Some(tenant.id), Some(&list(&added)), "line_added").await;
        Ok(LinesAdded::Added { added, already })
    }

    /// Removes registered lines; removing never widens anything.
    pub async fn remove_lines(&self, by: &Actor<'_>, tenant: &TenantRef<'_>, lines: &[LineId]) -> Result<LinesRemoved> {
        if tenant.managed_by_file {
            return Ok(LinesRemoved::ManagedByFile);
        }
        let missing = self.store.remove_lines(tenant.id, lines).await?;
        let removed: Vec<LineId> = lines.iter().filter(|l| !missing.contains(l)).copied().collect();
        if !removed.is_empty() {
            self.audit(by, Some(tenant.id), Some(&list(&removed)), "line_removed").await;
        }
        Ok(LinesRemoved::Removed { removed, missing })
    }
}
