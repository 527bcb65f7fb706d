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
