//! SPEC section 11: throttles key IPv6 clients by /64. Addresses arrive through
//! the trusted proxy's `X-Forwarded-For`; rotating through a /64 must not buy
//! more attempts, while another /64 is another client.

use crate::support::*;

const ALICE: &str = "alice@acme.example";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_ipv6_64_is_one_client() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    env.tweak_config("  hash_concurrency: 2\n", "  hash_concurrency: 2\n  throttle_per_minute: 3\n");
    env.seed_tenant("acme", ALICE, "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.start().await;
    let proxy = env.client(PROXY);
    let attempt = |addr: String| {
        let proxy = proxy.clone();
        let env = &env;
        async move {
            let xff = [("X-Forwarded-For", addr.as_str())];
            login(&proxy, env, ORDINARY, ALICE, "Wrong-pass1", &xff).await.status().as_u16()
        }
    };
    // Same /64, a new address each time (the forms an attacker would try).
    let mut statuses = Vec::new();
    for a in
        ["2001:db8::1", "2001:db8::2", "2001:db8::ffff:1", "2001:db8:0:0:8000::9", "[2001:db8::7]:443", "2001:DB8::8"]
    {
        statuses.push(attempt(a.to_owned()).await);
    }
    assert_eq!(&statuses[..3], [401, 401, 401], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "the /64 should be throttled after 3: {statuses:?}");
    // Another /64 is someone else, and signs in.
    let other = [("X-Forwarded-For", "2001:db8:0:1::1")];
    assert_eq!(login(&proxy, &env, ORDINARY, ALICE, PASSWORD, &other).await.status(), 303);
    assert_eq!(env.origin_count(), 0, "nothing was proxied");
    env.cleanup().await;
}
