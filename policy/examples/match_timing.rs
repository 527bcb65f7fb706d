use std::hint::black_box;
use std::time::Instant;
use policy::*;
fn main() {
    let r = |m: PathMatch, action: PathAction| PathRule { matcher: m, action, origin: String::from("bench") };
    let rules = PathRules::new(vec![
        r(PathMatch::Exact("/healthz".into()), PathAction::Bypass),
        r(PathMatch::Exact("/readyz".into()), PathAction::Bypass),
        r(PathMatch::Prefix("/static".into()), PathAction::Bypass),
        r(PathMatch::Prefix("/internal".into()), PathAction::Deny),
        r(PathMatch::Prefix("/admin".into()), PathAction::RequireRole(Role::Admin)),
    ]);
    for path in ["/files/report.pdf", "/static/app.css", "/admin/users", "/internal/x"] {
        let n = 20_000_000u32;
        let t = Instant::now();
        let mut hits = 0usize;
        for _ in 0..n {
            if rules.first_match(black_box(path)).is_some() { hits += 1; }
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        let t = Instant::now();
        for _ in 0..2_000_000u32 { black_box(already_normal(black_box(path))); }
        let an = t.elapsed().as_nanos() as f64 / 2_000_000.0;
        println!("{path:20} first_match {ns:6.1} ns  already_normal {an:5.1} ns  ({hits})");
    }
}
