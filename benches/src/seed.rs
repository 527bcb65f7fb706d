//! The tenant the load harness and the whole-request bench measure
//! (`gateway::seed`): tenant `bench` with 2-step verification ON and route
//! `line-and-internet`, one registered line, an owner, and two sessions as a
//! finished login leaves them: ordinary hostname with `totp` done, line-auth
//! hostname with the line as second factor.

use gateway::seed::{SeedSpec, Seeded};
use gateway::store::Store;
use policy::Factor;

pub async fn seed(store: &Store, line: &str) -> anyhow::Result<Seeded> {
    let spec = SeedSpec {
        tenant: "bench",
        email: "owner@bench.example",
        two_factor: true,
        line,
        ordinary_factor: Some(Factor::Totp),
        session_lifetime_secs: 12 * 3600,
    };
    gateway::seed::seed(store, &spec).await
}
