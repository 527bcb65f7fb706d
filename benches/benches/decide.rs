//! `decide` on the allowed path with 10, 10 000 and 1 000 000 registered networks
//! and lines, plus heap allocations per decision and a plain-timer summary.
//!
//! Groups (criterion ids are `group/size`):
//! - `decide/allow_ordinary`: ordinary host, 2FA-complete password session, an
//!   internet client (the network lookup misses), no line header.
//! - `decide/allow_line`: line-auth host, the carrier asserts a registered line.
//! - `decide/allow_ordinary_varied`, `decide/allow_line_varied`: the same, cycling
//!   through 4096 different client addresses (half inside the tenant's networks) or
//!   registered lines, so that the lookups do not always hit the same cache lines.

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::{Fixture, build, line_request, ordinary_request};
use criterion::{BenchmarkId, Criterion, Throughput};
use policy::{Outcome, PolicySnapshot, Request, decide};

#[global_allocator]
static GLOBAL: benches::Counting = benches::Counting;

const SIZES: [usize; 3] = [10, 10_000, 1_000_000];
const SEED: u64 = 0x5EED_1A7E_0000_0001;

/// The benchmarked requests; every one of them is allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
enum Case {
    AllowOrdinary,
    AllowLine,
    AllowOrdinaryVaried,
    AllowLineVaried,
}

const CASES: [Case; 4] = [Case::AllowOrdinary, Case::AllowLine, Case::AllowOrdinaryVaried, Case::AllowLineVaried];

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::AllowOrdinary => "allow_ordinary",
            Case::AllowLine => "allow_line",
            Case::AllowOrdinaryVaried => "allow_ordinary_varied",
            Case::AllowLineVaried => "allow_line_varied",
        }
    }

    /// The requests the case cycles through (one for the fixed cases).
    fn requests(self, f: &Fixture) -> Vec<Request<'static>> {
        match self {
            Case::AllowOrdinary => vec![ordinary_request(f.internet_ip)],
            Case::AllowLine => vec![line_request(f.line)],
            Case::AllowOrdinaryVaried => f.ip_pool.iter().map(|ip| ordinary_request(*ip)).collect(),
            Case::AllowLineVaried => f.line_pool.iter().map(|l| line_request(*l)).collect(),
        }
    }
}

/// Every request of every case must really be allowed, with the line named when asserted.
fn check(snap: &PolicySnapshot, case: Case, reqs: &[Request<'static>]) {
    for req in reqs {
        let d = decide(snap, req);
        let Outcome::Allow(id) = d.outcome else {
            panic!("{}: expected allow, got {} ({:?})", case.name(), d.outcome.label(), d.reasons);
        };
        match case {
            Case::AllowOrdinary | Case::AllowOrdinaryVaried => assert_eq!(id.method.as_str(), "password+totp"),
            Case::AllowLine | Case::AllowLineVaried => {
                assert_eq!(id.method.as_str(), "password+line");
                assert!(id.line.is_some());
            }
        }
    }
}

/// Runs `n` decisions over `reqs` round robin; returns a value so nothing is optimised away.
#[inline(never)]
fn run(snap: &PolicySnapshot, reqs: &[Request<'static>], n: usize) -> usize {
    let mut acc = 0usize;
    let mut i = 0;
    for _ in 0..n {
        let d = decide(black_box(snap), black_box(&reqs[i]));
        acc = acc.wrapping_add(black_box(d).reasons.as_slice().len());
        i += 1;
        if i == reqs.len() {
            i = 0;
        }
    }
    acc
}

fn allocations_per_decision(snap: &PolicySnapshot, reqs: &[Request<'static>]) -> f64 {
    const N: usize = 100_000;
    black_box(run(snap, reqs, 1_000));
    let before = benches::allocations();
    black_box(run(snap, reqs, N));
    let after = benches::allocations();
    (after - before) as f64 / N as f64
}

/// Median ns per decision over `rounds` rounds of `per_round` decisions each.
fn timed_median(snap: &PolicySnapshot, reqs: &[Request<'static>], rounds: usize, per_round: usize) -> f64 {
    black_box(run(snap, reqs, per_round / 4));
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            black_box(run(snap, reqs, per_round));
            t.elapsed().as_nanos() as f64 / per_round as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let before = benches::allocations();
    black_box(Box::new(black_box(1u64)));
    assert!(benches::allocations() > before, "the counting allocator is not in use");
    let t = Instant::now();
    let fixtures: Vec<Fixture> = SIZES.iter().map(|&n| build(n, SEED)).collect();
    println!("built snapshots of {:?} networks and lines in {:.1?}", SIZES, t.elapsed());
    let cases: Vec<Vec<Vec<Request<'static>>>> =
        fixtures.iter().map(|f| CASES.iter().map(|c| c.requests(f)).collect()).collect();
    for (f, reqs) in fixtures.iter().zip(&cases) {
        assert_eq!(f.snap.tenant(benches::BIG).map(|t| (t.lines.len(), t.networks.len())), Some((f.size, f.size)));
        for (case, r) in CASES.iter().zip(reqs) {
            check(&f.snap, *case, r);
        }
    }

    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(50)
        .configure_from_args();
    for (ci, case) in CASES.iter().enumerate() {
        let mut g = c.benchmark_group(format!("decide/{}", case.name()));
        g.throughput(Throughput::Elements(1));
        for (f, reqs) in fixtures.iter().zip(&cases) {
            let reqs = &reqs[ci];
            g.bench_with_input(BenchmarkId::from_parameter(f.size), reqs, |b, reqs| {
                let mut i = 0usize;
                b.iter(|| {
                    let d = decide(black_box(&f.snap), black_box(&reqs[i]));
                    i += 1;
                    if i == reqs.len() {
                        i = 0;
                    }
                    d
                })
            });
        }
        g.finish();
    }
    c.final_summary();

    println!();
    for (case_i, case) in CASES.iter().enumerate() {
        for (f, reqs) in fixtures.iter().zip(&cases) {
            let a = allocations_per_decision(&f.snap, &reqs[case_i]);
            println!("decide/{}/{}: allocations per decision: {a}", case.name(), f.size);
        }
    }

    // Plain-timer summary: median of several rounds, measured here with Instant,
    // independent of criterion's estimates above.
    let (rounds, per_round) = if full { (9, 400_000) } else { (3, 20_000) };
    println!();
    println!("summary (std::time::Instant, median of {rounds} rounds x {per_round} decisions, ns per decision):");
    for (case_i, case) in CASES.iter().enumerate() {
        let ns: Vec<f64> = fixtures
            .iter()
            .zip(&cases)
            .map(|(f, reqs)| timed_median(&f.snap, &reqs[case_i], rounds, per_round))
            .collect();
        let parts: Vec<String> = SIZES.iter().zip(&ns).map(|(s, n)| format!("{s}={n:.1}")).collect();
        let ratio = ns[ns.len() - 1] / ns[0];
        let verdict = if ns.iter().all(|n| *n < 1000.0) && ratio <= 3.0 { "ok" } else { "MISSES GOAL" };
        println!(
            "  decide/{:<22} {}  ratio 1M/10 = {ratio:.2}  (goal: < 1000 ns everywhere, ratio <= 3: {verdict})",
            case.name(),
            parts.join("  ")
        );
    }
}
