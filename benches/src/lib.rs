//! Fixtures for the decision-engine benchmarks: policy snapshots of any size,
//! built from a small deterministic generator so every run measures the same data;
//! plus what several benches share: allocation counting and plain timing
//! ([`measure`]) and the seeded tenant of the load harness ([`seed`]).

pub mod bare;
pub mod measure;
pub mod procs;
pub mod seed;

pub use measure::{Counting, allocations, allocs_per_op, ns_per_op};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use policy::{
    Factor, HostKind, LineFact, LineId, LoginMethod, PathAction, PathFact, PathMatch, PathRule, PathRules,
    PolicySnapshot, Request, Role, Route, SessionFact, SessionView, TenantId, TenantPolicy,
};

/// SplitMix64: tiny, fast and good enough to scatter addresses and line ids.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A random valid line id: `CAF` + 10 or `COP` + 8 upper-case alphanumerics.
pub fn random_line(rng: &mut Rng) -> Option<LineId> {
    const ALNUM: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut buf = [0u8; 13];
    let len = if rng.below(2) == 0 {
        buf[..3].copy_from_slice(b"CAF");
        13
    } else {
        buf[..3].copy_from_slice(b"COP");
        11
    };
    for b in &mut buf[3..len] {
        *b = ALNUM[rng.below(36) as usize];
    }
    let s = std::str::from_utf8(&buf[..len]).ok()?;
    LineId::parse(s).ok()
}

/// A random network: 90% IPv4 /24 to /32, 10% IPv6 /48 inside 2000::/3.
pub fn random_network(rng: &mut Rng) -> Option<IpNet> {
    if rng.below(10) < 9 {
        let addr = Ipv4Addr::from(rng.next_u64() as u32);
        let len = 24 + rng.below(9) as u8;
        Ipv4Net::new(addr, len).ok().map(|n| IpNet::V4(n.trunc()))
    } else {
        let hi = (0x2000u128 | (rng.below(0x2000) as u128)) << 112;
        let mid = u128::from(rng.next_u64() as u32) << 80;
        let addr = Ipv6Addr::from(hi | mid);
        Ipv6Net::new(addr, 48).ok().map(|n| IpNet::V6(n.trunc()))
    }
}

/// A random address inside `net`.
pub fn address_in(net: &IpNet, rng: &mut Rng) -> IpAddr {
    match net {
        IpNet::V4(n) => {
            let host_bits = 32 - u32::from(n.prefix_len());
            let mask = if host_bits == 0 { 0 } else { u32::MAX >> (32 - host_bits) };
            IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) | (rng.next_u64() as u32 & mask)))
        }
        IpNet::V6(n) => {
            let host_bits = 128 - u32::from(n.prefix_len());
            let mask = if host_bits == 0 { 0 } else { u128::MAX >> (128 - host_bits) };
            let r = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
            IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) | (r & mask)))
        }
    }
}

/// The tenant that holds the bulk of the lines and networks.
pub const BIG: TenantId = 1;
/// How many extra tenants (with a handful of lines and networks each) a snapshot has.
pub const OTHER_TENANTS: i64 = 5;
/// The carrier's address as the gateway sees it; never a tenant network.
pub const CARRIER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(100, 64, 0, 1));
/// How many distinct requests the "varied" benchmarks cycle through.
pub const POOL: usize = 4096;

/// One benchmark snapshot and the facts needed to build requests against it.
pub struct Fixture {
    pub size: usize,
    pub snap: PolicySnapshot,
    /// A line registered to the big tenant.
    pub line: LineId,
    /// An address in no tenant's networks.
    pub internet_ip: IpAddr,
    /// Registered lines of the big tenant, for the varied line-auth requests.
    pub line_pool: Vec<LineId>,
    /// Addresses, half inside the big tenant's networks, half outside any.
    pub ip_pool: Vec<IpAddr>,
}

/// The ops path rules a typical deployment has.
pub fn typical_rules() -> PathRules {
    let r = |m: PathMatch, action: PathAction| PathRule { matcher: m, action, origin: String::from("bench") };
    PathRules::new(vec![
        r(PathMatch::Exact("/healthz".into()), PathAction::Bypass),
        r(PathMatch::Exact("/readyz".into()), PathAction::Bypass),
        r(PathMatch::Prefix("/static".into()), PathAction::Bypass),
        r(PathMatch::Prefix("/internal".into()), PathAction::Deny),
        r(PathMatch::Prefix("/admin".into()), PathAction::RequireRole(Role::Admin)),
    ])
}

/// Builds a snapshot whose big tenant holds `size` networks and `size` lines.
pub fn build(size: usize, seed: u64) -> Fixture {
    let mut rng = Rng::new(seed ^ size as u64);
    let mut big = TenantPolicy::new(BIG, "big");
    let mut sample_nets = Vec::with_capacity(POOL);
    let mut line_pool = Vec::with_capacity(POOL);
    big.lines.reserve(size);
    // The line the fixed line-auth request asserts; always registered.
    let line = loop {
        if let Some(l) = random_line(&mut rng) {
            break l;
        }
    };
    big.lines.insert(line);
    line_pool.push(line);
    while big.lines.len() < size {
        if let Some(l) = random_line(&mut rng)
            && big.lines.insert(l)
            && line_pool.len() < POOL
        {
            line_pool.push(l);
        }
    }
    while big.networks.len() < size {
        if let Some(n) = random_network(&mut rng)
            && big.networks.insert(n)
            && sample_nets.len() < POOL
        {
            sample_nets.push(n);
        }
    }
    let mut tenants = vec![big];
    for id in 2..2 + OTHER_TENANTS {
        let mut t = TenantPolicy::new(id, format!("tenant-{id}"));
        if id % 2 == 0 {
            t.route = Route::LineOnly;
        }
        for _ in 0..10 {
            if let Some(l) = random_line(&mut rng) {
                t.lines.insert(l);
            }
            if let Some(n) = random_network(&mut rng) {
                t.networks.insert(n);
            }
        }
        tenants.push(t);
    }
    let outside = |ip: IpAddr, tenants: &[TenantPolicy]| tenants.iter().all(|t| !t.networks.contains(ip));
    let mut internet_ip = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
    while !outside(internet_ip, &tenants) {
        internet_ip = IpAddr::V4(Ipv4Addr::from(rng.next_u64() as u32));
    }
    let mut ip_pool = Vec::with_capacity(POOL);
    while ip_pool.len() < POOL {
        if ip_pool.len() % 2 == 0 && !sample_nets.is_empty() {
            let n = sample_nets[rng.below(sample_nets.len() as u64) as usize];
            ip_pool.push(address_in(&n, &mut rng));
        } else {
            let ip = IpAddr::V4(Ipv4Addr::from(rng.next_u64() as u32));
            if outside(ip, &tenants) {
                ip_pool.push(ip);
            }
        }
    }
    Fixture { size, snap: PolicySnapshot::new(typical_rules(), tenants), line, internet_ip, line_pool, ip_pool }
}

/// A password user of the big tenant with a completed second factor, on the ordinary host.
pub fn ordinary_session() -> SessionView<'static> {
    SessionView {
        user: "alice@example.net",
        tenant: BIG,
        role: Role::User,
        method: LoginMethod::Password,
        provider: None,
        factor: Some(Factor::Totp),
        host: HostKind::Ordinary,
    }
}

/// A password user of the big tenant logged in on the line-auth host.
pub fn line_session() -> SessionView<'static> {
    SessionView { factor: Some(Factor::Line), host: HostKind::LineAuth, ..ordinary_session() }
}

/// The allowed ordinary-host request: 2FA-complete session, from `ip`, no line header.
pub fn ordinary_request(ip: IpAddr) -> Request<'static> {
    Request {
        host: Some(HostKind::Ordinary),
        client_ip: Some(ip),
        line: LineFact::Absent,
        path: PathFact::Normalised("/files/2024/report.pdf"),
        session: SessionFact::Valid(ordinary_session()),
    }
}

/// The allowed line-auth request: the carrier asserts a registered line.
pub fn line_request(line: LineId) -> Request<'static> {
    Request {
        host: Some(HostKind::LineAuth),
        client_ip: Some(CARRIER_IP),
        line: LineFact::Asserted(line),
        path: PathFact::Normalised("/files/2024/report.pdf"),
        session: SessionFact::Valid(line_session()),
    }
}
