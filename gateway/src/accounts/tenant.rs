//! The tenant an organisation-wide setting is changed on, as the operations
//! need it, and how to describe who acted in a notice.

use super::Actor;

/// A tenant whose route, 2FA switch, lines or networks change.
#[derive(Debug, Clone, Copy)]
pub struct TenantRef<'a> {
    pub id: i64,
    pub name: &'a str,
    /// Declared in the operator's policy file: a change made anywhere else would
    /// be undone by the next reload, so every operation refuses it.
    pub managed_by_file: bool,
}

impl Actor<'_> {
    /// Who acted and from where, for a notice to the owner: the user and their
    /// address and hostname, or the operator's login name and machine.
    pub(super) fn described(&self) -> (String, String) {
        match self.host {
            Some(host) => {
                (self.name.unwrap_or("?").to_owned(), format!("{} ({})", self.client_ip.unwrap_or("?"), host.as_str()))
            }
            None => {
                let user = std::env::var("USER").unwrap_or_else(|_| "?".to_owned());
                let machine = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
                (format!("the gateway command line (user {user})"), format!("{} (command line)", machine.trim()))
            }
        }
    }
}
