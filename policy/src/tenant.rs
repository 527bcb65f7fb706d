use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixSet;

use crate::line::LineId;
use crate::role::ParseError;

pub type TenantId = i64;

/// A tenant's access route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Route {
    /// Registered lines or networks, or the internet with a second factor.
    #[default]
    LineAndInternet,
    /// Registered lines or networks only, on either hostname.
    LineOnly,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::LineAndInternet => "line-and-internet",
            Route::LineOnly => "line-only",
        }
    }

    pub fn parse(s: &str) -> Result<Route, ParseError> {
        match s {
            "line-and-internet" => Ok(Route::LineAndInternet),
            "line-only" => Ok(Route::LineOnly),
            _ => {
                Err(ParseError { what: "access route", expected: "line-only or line-and-internet", got: s.to_owned() })
            }
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Registered source networks, one prefix trie per address family so that a
/// lookup costs the same at ten networks as at a million.
#[derive(Clone, Default)]
pub struct NetworkSet {
    v4: PrefixSet<Ipv4Net>,
    v6: PrefixSet<Ipv6Net>,
    len: usize,
}

impl NetworkSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a network; host bits are cleared first so `10.0.0.7/8` means `10.0.0.0/8`.
    /// An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) is stored as the IPv4
    /// network it carries, since [`NetworkSet::contains`] looks mapped addresses up as IPv4.
    pub fn insert(&mut self, net: IpNet) -> bool {
        let added = match net.trunc() {
            IpNet::V4(n) => self.v4.insert(n),
            IpNet::V6(n) => match mapped_v4(n) {
                Some(v4) => self.v4.insert(v4),
                None => self.v6.insert(n),
            },
        };
        if added {
            self.len += 1;
        }
        added
    }

    /// Whether the address lies inside any registered network. IPv4-mapped IPv6
    /// addresses are looked up as the IPv4 address they carry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.get_spm(&Ipv4Net::from(a)).is_some(),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => self.v4.get_spm(&Ipv4Net::from(v4)).is_some(),
                None => self.v6.get_spm(&Ipv6Net::from(a)).is_some(),
            },
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.v4.iter().map(IpNet::V4).chain(self.v6.iter().map(IpNet::V6))
    }
}

/// The widest source networks a tenant may register (SPEC section 11). A
/// network wider than these, or one that takes in addresses that are no
/// tenant's (everything, loopback, unspecified, the IPv4-mapped range), would
/// make every such client "on a registered line".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkLimits {
    /// The shortest IPv4 prefix length allowed (default 16).
    pub widest_ipv4_prefix: u8,
    /// The shortest IPv6 prefix length allowed (default 32).
    pub widest_ipv6_prefix: u8,
}

impl Default for NetworkLimits {
    fn default() -> Self {
        NetworkLimits { widest_ipv4_prefix: 16, widest_ipv6_prefix: 32 }
    }
}

/// Why a source network is refused; the text is shown to whoever added it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkRefusal {
    #[error("{net} is every address; a source network must be one organisation's own range")]
    Everything { net: IpNet },
    #[error("{net} is wider than the allowed /{widest} for {family}; register the organisation's own, narrower range")]
    TooWide { net: IpNet, widest: u8, family: &'static str },
    #[error("{net} takes in loopback addresses, which are never a tenant's network")]
    Loopback { net: IpNet },
    #[error("{net} takes in the unspecified address, which is never a tenant's network")]
    Unspecified { net: IpNet },
    #[error("{net} takes in IPv4-mapped addresses (::ffff:0:0/96); register the IPv4 network itself")]
    Mapped { net: IpNet },
}

impl NetworkLimits {
    /// The network as it would be stored (host bits cleared), or why it may not be.
    pub fn check(&self, net: IpNet) -> Result<IpNet, NetworkRefusal> {
        let net = net.trunc();
        if net.prefix_len() == 0 {
            return Err(NetworkRefusal::Everything { net });
        }
        // Two prefixes overlap exactly when one contains the other.
        let overlaps = |other: IpNet| net.contains(&other) || other.contains(&net);
        let (widest, family) = match net {
            IpNet::V4(_) => (self.widest_ipv4_prefix, "IPv4"),
            IpNet::V6(_) => (self.widest_ipv6_prefix, "IPv6"),
        };
        if overlaps(special("127.0.0.0/8")) || overlaps(special("::1/128")) {
            return Err(NetworkRefusal::Loopback { net });
        }
        // 0.0.0.0/8 is "this network": only ever a source before an address is known.
        if overlaps(special("0.0.0.0/8")) || overlaps(special("::/128")) {
            return Err(NetworkRefusal::Unspecified { net });
        }
        if overlaps(special("::ffff:0:0/96")) {
            return Err(NetworkRefusal::Mapped { net });
        }
        if net.prefix_len() < widest {
            return Err(NetworkRefusal::TooWide { net, widest, family });
        }
        Ok(net)
    }
}

fn special(s: &str) -> IpNet {
    s.parse().unwrap_or_else(|_| IpNet::V6(Ipv6Net::default()))
}

/// The IPv4 network an IPv4-mapped IPv6 network (`::ffff:0:0/96` or longer) stands for.
fn mapped_v4(n: Ipv6Net) -> Option<Ipv4Net> {
    let len = n.prefix_len().checked_sub(96)?;
    let addr = n.addr().to_ipv4_mapped()?;
    Ipv4Net::new(addr, len).ok()
}

impl fmt::Debug for NetworkSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<IpNet> for NetworkSet {
    fn from_iter<T: IntoIterator<Item = IpNet>>(iter: T) -> Self {
        let mut set = NetworkSet::new();
        for n in iter {
            set.insert(n);
        }
        set
    }
}

/// Everything about one tenant that a request decision needs.
#[derive(Debug, Clone)]
pub struct TenantPolicy {
    pub id: TenantId,
    pub name: String,
    pub route: Route,
    /// The tenant's 2FA switch as set; see [`TenantPolicy::two_factor_required`].
    pub two_factor: bool,
    pub lines: HashSet<LineId>,
    pub networks: NetworkSet,
    /// Declared in the ops policy file: read-only in the UI and the CLI.
    pub managed_by_file: bool,
}

impl TenantPolicy {
    pub fn new(id: TenantId, name: impl Into<String>) -> Self {
        TenantPolicy {
            id,
            name: name.into(),
            route: Route::LineAndInternet,
            two_factor: true,
            lines: HashSet::new(),
            networks: NetworkSet::new(),
            managed_by_file: false,
        }
    }

    /// `line-only` turns 2FA off: every request already comes from a registered line.
    pub fn two_factor_required(&self) -> bool {
        self.two_factor && self.route != Route::LineOnly
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_that_are_no_tenants_own_are_refused() {
        let limits = NetworkLimits::default();
        for (net, what) in [
            ("0.0.0.0/0", "every address"),
            ("::/0", "every address"),
            ("::ffff:0:0/96", "IPv4-mapped"),
            ("::ffff:203.0.113.0/120", "IPv4-mapped"),
            ("127.0.0.0/8", "loopback"),
            ("127.0.0.4/32", "loopback"),
            ("::1/128", "loopback"),
            ("::/64", "loopback"),
            ("0.0.0.0/32", "unspecified"),
            ("0.0.0.0/8", "unspecified"),
            ("::/128", "unspecified"),
            ("10.0.0.0/8", "wider than the allowed /16"),
            ("203.0.113.7/15", "wider than the allowed /16"),
            ("2001:db8::/31", "wider than the allowed /32"),
        ] {
            let err = limits.check(net.parse().unwrap()).expect_err(net).to_string();
            assert!(err.contains(what), "{net}: {err}");
        }
    }

    #[test]
    fn narrow_networks_pass_with_host_bits_cleared() {
        let limits = NetworkLimits::default();
        assert_eq!(limits.check("203.0.113.7/24".parse().unwrap()), Ok("203.0.113.0/24".parse().unwrap()));
        for net in ["10.1.0.0/16", "198.51.100.7/32", "2001:db8::/32", "2001:db8:1::/48"] {
            assert!(limits.check(net.parse().unwrap()).is_ok(), "{net}");
        }
        let wide = NetworkLimits { widest_ipv4_prefix: 8, widest_ipv6_prefix: 16 };
        assert!(wide.check("10.0.0.0/8".parse().unwrap()).is_ok());
        assert!(wide.check("0.0.0.0/0".parse().unwrap()).is_err());
        assert!(wide.check("127.0.0.0/8".parse().unwrap()).is_err());
    }
}
