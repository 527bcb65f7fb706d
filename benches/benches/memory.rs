//! Resident memory (VmRSS from /proc/self/status) for 1 000 000 registered
//! networks in a `PolicySnapshot`, 1 000 000 registered lines, both together (the
//! `decide` bench's largest fixture), and 1 000 000 cached sessions in a
//! `gateway::session::SessionCache`.
//!
//! Each case runs in a fresh child process (this executable again, with
//! `MEMORY_BENCH_CASE` set), so that memory freed by one case cannot hide the
//! next one's. `cargo bench -p benches --bench memory`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::{Rng, random_line, random_network};
use gateway::session::SessionCache;
use gateway::store::SessionRecord;
use policy::{Factor, HostKind, LoginMethod, PolicySnapshot, Role, TenantPolicy};

const N: usize = 1_000_000;
const CASES: [&str; 4] = ["networks", "lines", "networks+lines", "sessions"];

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn snapshot(networks: usize, lines: usize) -> PolicySnapshot {
    let mut rng = Rng::new(0x4D45_4D00 ^ (networks + 3 * lines) as u64);
    let mut t = TenantPolicy::new(1, "big");
    t.lines.reserve(lines);
    while t.networks.len() < networks {
        if let Some(n) = random_network(&mut rng) {
            t.networks.insert(n);
        }
    }
    while t.lines.len() < lines {
        if let Some(l) = random_line(&mut rng) {
            t.lines.insert(l);
        }
    }
    PolicySnapshot::new(benches::typical_rules(), vec![t])
}

fn sessions() -> SessionCache {
    let cache = SessionCache::new(2 * N as u64, Duration::from_secs(3600), Duration::from_secs(7200));
    let mut rng = Rng::new(0x5E55);
    let now = gateway::store::now();
    for i in 0..N {
        let mut id = [0u8; 32];
        for chunk in id.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        let rec = SessionRecord {
            user_id: i as i64,
            tenant_id: (i % 1000) as i64,
            email: format!("user{i}@tenant{}.example.co.jp", i % 1000),
            role: Role::User,
            method: LoginMethod::Password,
            provider: None,
            factor: Some(Factor::Totp),
            host: HostKind::Ordinary,
            expires_at: now + 12 * 3600,
            last_seen_at: now,
            pending_factor: None,
            pending_remember: false,
            sudo_until: None,
        };
        cache.insert(&id, rec);
    }
    cache
}

/// Runs one case in this process and prints one machine-readable line.
fn child(case: &str) {
    let base = rss_kib();
    let t = Instant::now();
    let detail = match case {
        "networks" => {
            let s = black_box(snapshot(N, 0));
            let n = s.tenant(1).map(|t| t.networks.len()).unwrap_or(0);
            let after = rss_kib();
            std::mem::forget(s);
            (after, format!("{n} networks"))
        }
        "lines" => {
            let s = black_box(snapshot(0, N));
            let n = s.tenant(1).map(|t| t.lines.len()).unwrap_or(0);
            let after = rss_kib();
            std::mem::forget(s);
            (after, format!("{n} lines"))
        }
        "networks+lines" => {
            let s = black_box(snapshot(N, N));
            let after = rss_kib();
            std::mem::forget(s);
            (after, format!("{N} networks and {N} lines"))
        }
        "sessions" => {
            let c = black_box(sessions());
            let after = rss_kib();
            let count = c.entry_count();
            std::mem::forget(c);
            (after, format!("{N} sessions inserted (moka entry_count {count})"))
        }
        other => panic!("unknown case {other}"),
    };
    println!("RESULT\t{case}\t{base}\t{}\t{:.1}\t{}", detail.0, t.elapsed().as_secs_f64(), detail.1);
}

fn main() {
    if let Ok(case) = std::env::var("MEMORY_BENCH_CASE") {
        child(&case);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    println!("resident memory (VmRSS), each case in a fresh process:");
    println!("| case | RSS before | RSS after | added | bytes per entry | build time |");
    println!("|---|---|---|---|---|---|");
    for case in CASES {
        let out = std::process::Command::new(&exe).env("MEMORY_BENCH_CASE", case).output().expect("run the case");
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(line) = text.lines().find(|l| l.starts_with("RESULT\t")) else {
            println!("| {case} | failed: {} |", String::from_utf8_lossy(&out.stderr).trim());
            continue;
        };
        let f: Vec<&str> = line.split('\t').collect();
        let (base, after): (u64, u64) = (f[2].parse().unwrap_or(0), f[3].parse().unwrap_or(0));
        let added = after.saturating_sub(base);
        let per = added as f64 * 1024.0 / N as f64;
        println!(
            "| {} ({}) | {:.1} MiB | {:.1} MiB | {:.1} MiB | {per:.0} | {} s |",
            case,
            f[5],
            base as f64 / 1024.0,
            after as f64 / 1024.0,
            added as f64 / 1024.0,
            f[4]
        );
    }
}
