//! The store's test suite, run once against SQLite (a temporary file) and once
//! against PostgreSQL (a fresh database per test on 127.0.0.1:5432).
//!
//! Every test is written once in [`suite`] as an async function taking the store
//! (not yet migrated) and its URL; [`both!`] turns each into a `sqlite_…` and a
//! `postgres_…` test. Without a reachable PostgreSQL server the `postgres_…` tests
//! print that they were skipped, unless `CI` is set, in which case they fail.

use std::future::Future;
use std::time::Duration;

use gateway::store::{Change, LinkPurpose, NewLink, NewSession, NewUser, Plan, Store, StoreError};
use gateway::tokens::{hash_token, random_token};
use policy::{Factor, HostKind, LineId, LoginMethod, Role, Route};
use sqlx::{AssertSqlSafe, Connection};

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const PG_BASE_URL: &str = "postgres://postgres@127.0.0.1:5432";

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// Runs `f` on its own task so that a failed assertion still lets the caller
/// clean up; re-raises the panic afterwards.
async fn run_isolated<F, Fut>(store: Store, url: String, f: F) -> std::thread::Result<()>
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match tokio::spawn(f(store, url)).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_panic() => Err(e.into_panic()),
        Err(e) => panic!("test task failed: {e}"),
    }
}

async fn with_sqlite<F, Fut>(f: F)
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("gateway.db").display());
    let store = Store::connect(&url).await.expect("open the SQLite store");
    assert_eq!(store.backend(), "sqlite");
    let result = run_isolated(store, url, f).await;
    drop(dir);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

async fn with_postgres<F, Fut>(test: &str, f: F)
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin = match tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(PG_ADMIN_URL)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return pg_unreachable(test, &e.to_string()),
        Err(_) => return pg_unreachable(test, "connection timed out after 5 s"),
    };
    let mut admin = admin;
    let db = format!("gw_store_{:016x}", rand::random::<u64>());
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {db}: {e}"));
    let url = format!("{PG_BASE_URL}/{db}");
    let result = match Store::connect(&url).await {
        Ok(store) => {
            assert_eq!(store.backend(), "postgres");
            run_isolated(store, url, f).await
        }
        Err(e) => Err(Box::new(format!("connect to {url}: {e}")) as Box<dyn std::any::Any + Send>),
    };
    // Best effort: a leftover database only costs disk space.
    if let Err(e) =
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))).execute(&mut admin).await
    {
        eprintln!("{test}: could not drop {db}: {e}");
    }
    let _ = admin.close().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn pg_unreachable(test: &str, why: &str) {
    if in_ci() {
        panic!("PostgreSQL is required in CI (CI is set) but {PG_ADMIN_URL} cannot be reached: {why}");
    }
    println!("{test}: skipped, PostgreSQL is not reachable at {PG_ADMIN_URL}: {why}");
}

/// `both!(suite_fn, sqlite_test_name, postgres_test_name)`.
/// `both!(in module: …)` takes the suite functions from another module.
macro_rules! both {
    ($($f:ident, $sqlite:ident, $pg:ident;)*) => { both!(in suite: $($f, $sqlite, $pg;)*); };
    (in $m:ident: $($f:ident, $sqlite:ident, $pg:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            with_sqlite(|store, url| async move { $m::$f(&store, &url).await }).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $pg() {
            with_postgres(stringify!($pg), |store, url| async move { $m::$f(&store, &url).await }).await;
        }
    )*};
}

both! {
    migrations, sqlite_migrations, postgres_migrations;
    tenants, sqlite_tenants, postgres_tenants;
    lines, sqlite_lines, postgres_lines;
    networks, sqlite_networks, postgres_networks;
    users, sqlite_users, postgres_users;
    sessions, sqlite_sessions, postgres_sessions;
    locked_users, sqlite_locked_users, postgres_locked_users;
    links, sqlite_links, postgres_links;
    concurrent_link_use, sqlite_concurrent_link_use, postgres_concurrent_link_use;
    sms_codes, sqlite_sms_codes, postgres_sms_codes;
    sms_budget, sqlite_sms_budget, postgres_sms_budget;
    recovery_and_totp_steps, sqlite_recovery_and_totp_steps, postgres_recovery_and_totp_steps;
    concurrent_add_lines, sqlite_concurrent_add_lines, postgres_concurrent_add_lines;
    changes, sqlite_changes, postgres_changes;
    attempts, sqlite_attempts, postgres_attempts;
    second_factor_lock, sqlite_second_factor_lock, postgres_second_factor_lock;
    break_glass_codes, sqlite_break_glass_codes, postgres_break_glass_codes;
    invitations, sqlite_invitations, postgres_invitations;
    typed_round_trip, sqlite_typed_round_trip, postgres_typed_round_trip;
    unknown_tenant_values, sqlite_unknown_tenant_values, postgres_unknown_tenant_values;
    unknown_user_values, sqlite_unknown_user_values, postgres_unknown_user_values;
    unknown_invitation_role, sqlite_unknown_invitation_role, postgres_unknown_invitation_role;
    invitation_mail_and_withdrawal, sqlite_invitation_mail_and_withdrawal, postgres_invitation_mail_and_withdrawal;
    federated_identities, sqlite_federated_identities, postgres_federated_identities;
    federation_flows, sqlite_federation_flows, postgres_federation_flows;
    directories, sqlite_directories, postgres_directories;
    live_links, sqlite_live_links, postgres_live_links;
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn now() -> i64 {
    gateway::store::now()
}

fn line(s: &str) -> LineId {
    LineId::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn net(s: &str) -> ipnet::IpNet {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn token_hash() -> String {
    hash_token(&random_token()).expect("a fresh token hashes")
}

async fn migrated(store: &Store) {
    store.migrate().await.expect("migrate");
}

async fn tenant(store: &Store, name: &str) -> i64 {
    store.create_tenant(name, Plan::Basic).await.unwrap_or_else(|e| panic!("create tenant {name}: {e}"))
}

async fn user(store: &Store, tenant_id: i64, email: &str, role: Role) -> i64 {
    store
        .create_user(NewUser { tenant_id, email, role, password_hash: Some("$argon2id$placeholder") })
        .await
        .unwrap_or_else(|e| panic!("create user {email}: {e}"))
}

async fn tenant_row(store: &Store, id: i64) -> gateway::store::TenantRow {
    let rows = store.load_tenants().await.expect("load tenants");
    let mut row = rows
        .into_iter()
        .map(|t| t.expect("every tenant row reads"))
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("tenant {id} not loaded"));
    row.lines.sort();
    row.networks.sort();
    row
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Runs one statement on a connection of its own: the store offers no public way
/// to lock a user (that belongs to the login flow), so the tests do it directly.
async fn raw_exec(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("raw SQLite connection");
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.close().await.ok();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.expect("raw PostgreSQL connection");
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.close().await.ok();
    }
}

/// Writes a value this version does not know into a column, past the schema's
/// CHECK where there is one: what a hand edit or a newer version might leave.
async fn write_unknown(url: &str, table: &str, column: &str, value: &str, filter: &str) {
    let update = format!("UPDATE {table} SET {column} = '{value}' WHERE {filter}");
    if url.starts_with("sqlite:") {
        raw_exec(url, &format!("PRAGMA ignore_check_constraints = ON; {update}")).await;
    } else {
        raw_exec(url, &format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_check; {update}")).await;
    }
}

/// The error for an unknown value, naming the table, the column and the value.
#[track_caller]
fn assert_corrupt<T: std::fmt::Debug>(got: Result<T, StoreError>, table: &str, column: &str, value: &str) {
    match got {
        Err(e @ StoreError::Corrupt { .. }) => {
            let StoreError::Corrupt { table: t, column: c, value: v, .. } = &e else { unreachable!() };
            assert_eq!((*t, *c, v.as_str()), (table, column, value), "{e}");
            let text = e.to_string();
            assert!(text.contains(&format!("{table}.{column}")) && text.contains(value), "{text}");
        }
        other => panic!("{table}.{column} = {value:?} read as {other:?}, not as an unknown value"),
    }
}

fn session<'a>(id_hash: &'a str, user_id: i64, expires_at: i64) -> NewSession<'a> {
    NewSession {
        id_hash,
        user_id,
        host: HostKind::Ordinary,
        factor: Some(Factor::Totp),
        line: None,
        client_ip: Some("192.0.2.1"),
        expires_at,
        pending_factor: None,
        pending_remember: false,
    }
}

fn link(token_hash: &str, purpose: LinkPurpose, user_id: i64, expires_at: i64) -> NewLink<'_> {
    NewLink { token_hash, purpose, user_id, payload: None, expires_at }
}

// ---------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------

mod suite {
    use super::*;
    use gateway::store::{SMS_ATTEMPTS, SmsCheck};

    /// SMS codes: single use, a limited number of tries, an expiry, a resend gap.
    pub async fn sms_codes(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let u = user(store, acme, "sms@example.com", Role::User).await;
        assert_eq!(store.check_sms_code(u, "h-right").await.unwrap(), SmsCheck::Dead, "no code pending");
        assert_eq!(store.put_sms_code(u, "+819012345678", "h-right", 300, 30).await.unwrap(), Ok(()));
        assert!(store.put_sms_code(u, "+819012345678", "h-other", 300, 30).await.unwrap().is_err(), "resend too soon");
        assert_eq!(store.check_sms_code(u, "h-wrong").await.unwrap(), SmsCheck::Wrong);
        assert_eq!(store.check_sms_code(u, "h-right").await.unwrap(), SmsCheck::Ok("+819012345678".into()));
        assert_eq!(store.check_sms_code(u, "h-right").await.unwrap(), SmsCheck::Dead, "a code works once");

        // Wrong entries use the code up, even a right one afterwards.
        assert_eq!(store.put_sms_code(u, "+819012345678", "h-right", 300, 0).await.unwrap(), Ok(()));
        for _ in 0..SMS_ATTEMPTS {
            assert_eq!(store.check_sms_code(u, "h-wrong").await.unwrap(), SmsCheck::Wrong);
        }
        assert_eq!(store.check_sms_code(u, "h-right").await.unwrap(), SmsCheck::Dead, "past the attempt limit");

        // An expired code is dead.
        assert_eq!(store.put_sms_code(u, "+819012345678", "h-right", -1, 0).await.unwrap(), Ok(()));
        assert_eq!(store.check_sms_code(u, "h-right").await.unwrap(), SmsCheck::Dead, "expired");
    }

    /// A tenant's daily SMS budget holds under concurrent sends; tenants count apart.
    pub async fn sms_budget(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.take_sms_budget(acme, 5).await.expect("take") })
            })
            .collect();
        let mut granted = 0;
        for t in tasks {
            if t.await.expect("task") {
                granted += 1;
            }
        }
        assert_eq!(granted, 5, "12 concurrent sends against a budget of 5");
        assert!(!store.take_sms_budget(acme, 5).await.unwrap(), "spent for today");
        assert!(store.take_sms_budget(beta, 5).await.unwrap(), "another tenant's budget");
        assert!(store.take_sms_budget(acme, 0).await.unwrap(), "0: no limit");
    }

    /// A recovery code is consumed once; a TOTP step is accepted once and never an older one.
    pub async fn recovery_and_totp_steps(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let u = user(store, acme, "otp@example.com", Role::User).await;
        store.set_recovery_code(u, "h-code").await.unwrap();
        assert!(!store.consume_recovery_code(u, "h-other").await.unwrap());
        let (a, b) = tokio::join!(store.consume_recovery_code(u, "h-code"), store.consume_recovery_code(u, "h-code"));
        assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|x| **x).count(), 1, "exactly one racing use wins");
        store.enrol_totp(u, "v1:secret", 100).await.unwrap();
        assert!(!store.accept_totp_step(u, 100).await.unwrap(), "the enrolment step is used");
        assert!(!store.accept_totp_step(u, 99).await.unwrap(), "an older step");
        assert!(store.accept_totp_step(u, 101).await.unwrap());
        assert!(!store.accept_totp_step(u, 101).await.unwrap(), "replay");
        store.reset_second_factors(u).await.unwrap();
        let e = store.enrolment(u).await.unwrap();
        assert!(!e.any(), "reset forgets the enrolment");
        assert!(!store.consume_recovery_code(u, "h-code").await.unwrap());
    }

    pub async fn migrations(store: &Store, _url: &str) {
        // A fresh database has no schema, and says how to get one.
        match store.check_schema().await {
            Err(StoreError::Invalid(msg)) => {
                assert!(msg.contains("gateway migrate"), "message does not name the fix: {msg}")
            }
            Err(e) => panic!("check_schema on an empty database: wrong error {e:?}"),
            Ok(()) => panic!("check_schema passed on an empty database"),
        }
        let first = store.migrate().await.expect("first migrate");
        assert!(first >= 1, "the first migrate applied {first} migrations");
        store.check_schema().await.expect("check_schema after migrate");
        assert_eq!(store.migrate().await.expect("second migrate"), 0, "migrate is not idempotent");
        assert_eq!(store.migrate().await.expect("third migrate"), 0, "migrate is not idempotent");
        store.check_schema().await.expect("check_schema after a second migrate");
        store.ping().await.expect("ping");
        assert_eq!(store.last_change().await.expect("last change"), 0);
        assert!(store.load_tenants().await.expect("load tenants").is_empty());
    }

    pub async fn tenants(store: &Store, _url: &str) {
        migrated(store).await;
        assert!(store.tenant_by_name("acme").await.expect("lookup").is_none());
        match store.require_tenant("acme").await {
            Err(StoreError::NotFound(msg)) => assert!(msg.contains("acme"), "{msg}"),
            other => panic!("require_tenant on a missing tenant: {:?}", other.map(|t| t.name)),
        }

        let acme = store.create_tenant("acme", Plan::Basic).await.expect("create acme");
        let beta = store.create_tenant("beta", Plan::Trial).await.expect("create beta");
        assert_ne!(acme, beta);
        match store.create_tenant("acme", Plan::Trial).await {
            Err(StoreError::Conflict(msg)) => assert!(msg.contains("acme"), "{msg}"),
            other => panic!("duplicate tenant name: {other:?}"),
        }

        let t = store.require_tenant("acme").await.expect("require acme");
        assert_eq!((t.id, t.name.as_str(), t.plan), (acme, "acme", Plan::Basic));
        assert_eq!(t.route, Route::LineAndInternet, "default route");
        assert!(t.two_factor, "two-factor is on by default");
        let b = store.tenant_by_name("beta").await.expect("lookup").expect("beta exists");
        assert_eq!((b.id, b.plan), (beta, Plan::Trial));
        assert_eq!(store.tenant_plan(beta).await.expect("plan"), Some(Plan::Trial));
        assert_eq!(store.tenant_plan(beta + acme + 1).await.expect("plan"), None);
        // Names are exact.
        assert!(store.tenant_by_name("ACME").await.expect("lookup").is_none());

        store.set_route(acme, Route::LineOnly).await.expect("set route");
        store.set_two_factor(acme, false).await.expect("set two-factor");
        let row = tenant_row(store, acme).await;
        assert_eq!(row.route, Route::LineOnly);
        assert!(!row.two_factor);
        assert_eq!(row.name, "acme");
        assert_eq!(store.require_tenant("acme").await.expect("require acme").plan, Plan::Basic);
        // The other tenant is untouched.
        let other = tenant_row(store, beta).await;
        assert_eq!(other.route, Route::LineAndInternet);
        assert!(other.two_factor);

        store.set_route(acme, Route::LineAndInternet).await.expect("set route back");
        store.set_two_factor(acme, true).await.expect("set two-factor back");
        let row = tenant_row(store, acme).await;
        assert_eq!(row.route, Route::LineAndInternet);
        assert!(row.two_factor);
        let t = store.require_tenant("acme").await.expect("require acme");
        assert_eq!(t.route, Route::LineAndInternet);
        assert_eq!(store.require_tenant_id("acme").await.expect("acme's id"), acme);

        let all = store.load_tenants().await.expect("load tenants");
        assert_eq!(all.iter().map(|t| t.as_ref().map(|t| t.id).ok()).collect::<Vec<_>>(), vec![Some(acme), Some(beta)]);
    }

    pub async fn lines(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;
        let (a, b, c, d) = (line("CAF0000000001"), line("CAF0000000002"), line("COP00000003"), line("cop0000000a"));

        assert_eq!(store.add_lines(acme, &[a, b]).await.expect("add a, b"), 2);
        assert_eq!(store.add_lines(acme, &[a, b, c]).await.expect("add a, b, c"), 1, "only c is new");
        assert_eq!(store.add_lines(acme, &[]).await.expect("add nothing"), 0);
        assert_eq!(store.add_lines(acme, &[a]).await.expect("add a again"), 0);
        assert_eq!(tenant_row(store, acme).await.lines, sorted(&["CAF0000000001", "CAF0000000002", "COP00000003"]));

        // A line of another tenant: refused, and the new line of the same batch is not added either.
        match store.add_lines(beta, &[d, a]).await {
            Err(StoreError::Conflict(msg)) => assert!(msg.contains("CAF0000000001"), "{msg}"),
            other => panic!("a line registered to another tenant: {other:?}"),
        }
        assert!(tenant_row(store, beta).await.lines.is_empty(), "part of a refused batch was added");
        assert_eq!(tenant_row(store, acme).await.lines.len(), 3, "the owner lost a line");
        // Nothing was left half-done: d is still free.
        assert_eq!(store.add_lines(beta, &[d]).await.expect("add d"), 1);
        assert_eq!(tenant_row(store, beta).await.lines, vec!["COP0000000A".to_string()]);

        // The same line twice in one batch counts once.
        let e = line("CAF000000000E");
        assert_eq!(store.add_lines(acme, &[e, e]).await.expect("add e twice"), 1);

        // Removal reports what was not registered to this tenant, and leaves other tenants alone.
        let unknown = line("CAF9999999999");
        let missing = store.remove_lines(acme, &[a, unknown, d]).await.expect("remove");
        assert_eq!(missing, vec![unknown, d]);
        assert_eq!(tenant_row(store, acme).await.lines, sorted(&["CAF0000000002", "CAF000000000E", "COP00000003"]));
        assert_eq!(tenant_row(store, beta).await.lines, vec!["COP0000000A".to_string()]);
        assert_eq!(store.remove_lines(acme, &[a]).await.expect("remove a again"), vec![a]);

        // A removed line is free for another tenant.
        assert_eq!(store.add_lines(beta, &[a]).await.expect("move a"), 1);
        assert_eq!(tenant_row(store, beta).await.lines, sorted(&["CAF0000000001", "COP0000000A"]));
        // One tenant's lines alone, in order.
        let beta_lines = store.tenant_lines(beta).await.expect("beta's lines");
        assert_eq!(beta_lines, sorted(&["CAF0000000001", "COP0000000A"]));
    }

    pub async fn networks(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;

        let added = store
            .add_networks(acme, &[net("10.1.2.3/8"), net("192.168.1.0/24"), net("2001:db8::1/32")])
            .await
            .expect("add networks");
        assert_eq!(added, 3);
        assert_eq!(tenant_row(store, acme).await.networks, sorted(&["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"]));

        // The same networks, written differently or repeated, add nothing.
        let again = store
            .add_networks(acme, &[net("10.0.0.0/8"), net("10.200.0.1/8"), net("192.168.1.77/24"), net("10.0.0.0/8")])
            .await
            .expect("add duplicates");
        assert_eq!(again, 0);
        assert_eq!(
            store.add_networks(acme, &[net("172.16.5.5/12"), net("172.16.0.0/12")]).await.expect("add one twice"),
            1
        );
        assert_eq!(
            tenant_row(store, acme).await.networks,
            sorted(&["10.0.0.0/8", "172.16.0.0/12", "192.168.1.0/24", "2001:db8::/32"])
        );

        // Networks are per tenant: another tenant may register the same one.
        assert_eq!(store.add_networks(beta, &[net("10.0.0.0/8")]).await.expect("beta adds 10/8"), 1);

        let missing = store
            .remove_networks(acme, &[net("10.9.9.9/8"), net("198.51.100.0/24"), net("2001:db8:ffff::/32")])
            .await
            .expect("remove networks");
        assert_eq!(missing, vec![net("198.51.100.0/24")]);
        assert_eq!(tenant_row(store, acme).await.networks, sorted(&["172.16.0.0/12", "192.168.1.0/24"]));
        assert_eq!(tenant_row(store, beta).await.networks, vec!["10.0.0.0/8".to_string()], "beta's copy was removed");
        // One tenant's networks alone, in order.
        let acme_nets = store.tenant_networks(acme).await.expect("acme's networks");
        assert_eq!(acme_nets, sorted(&["172.16.0.0/12", "192.168.1.0/24"]));
        assert_eq!(
            store.remove_networks(acme, &[net("10.0.0.0/8")]).await.expect("remove again"),
            vec![net("10.0.0.0/8")]
        );
    }

    pub async fn users(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;

        let alice = user(store, acme, "  Alice@Example.COM \n", Role::Owner).await;
        let row = store.user_by_email("alice@example.com").await.expect("lookup").expect("alice exists");
        assert_eq!(row.id, alice);
        assert_eq!(row.email, "alice@example.com", "the email is not stored canonically");
        assert_eq!((row.tenant_id, row.role, row.login_method), (acme, Role::Owner, LoginMethod::Password));
        assert_eq!(row.password_hash.as_deref(), Some("$argon2id$placeholder"));
        assert!(!row.locked);
        for spelling in ["ALICE@EXAMPLE.COM", " alice@Example.com ", "Alice@example.Com"] {
            let found = store.user_by_email(spelling).await.expect("lookup");
            assert_eq!(found.map(|u| u.id), Some(alice), "lookup by {spelling:?}");
        }
        assert!(store.user_by_email("bob@example.com").await.expect("lookup").is_none());

        // The same address, in any spelling and any tenant, is taken.
        for (tenant_id, email) in [(acme, "alice@example.com"), (beta, "ALICE@example.com ")] {
            match store.create_user(NewUser { tenant_id, email, role: Role::User, password_hash: None }).await {
                Err(StoreError::Conflict(msg)) => assert!(msg.contains("alice@example.com"), "{msg}"),
                other => panic!("duplicate email {email:?}: {other:?}"),
            }
        }

        // One owner per tenant; other tenants may have theirs.
        match store
            .create_user(NewUser {
                tenant_id: acme,
                email: "carol@example.com",
                role: Role::Owner,
                password_hash: None,
            })
            .await
        {
            Err(StoreError::Conflict(msg)) => assert!(msg.contains("owner"), "{msg}"),
            other => panic!("a second owner: {other:?}"),
        }
        assert!(store.user_by_email("carol@example.com").await.expect("lookup").is_none());
        let dave = user(store, beta, "dave@example.com", Role::Owner).await;
        let erin = user(store, acme, "erin@example.com", Role::Admin).await;
        let frank = user(store, acme, "frank@example.com", Role::User).await;
        assert_eq!(store.user_by_email("erin@example.com").await.expect("lookup").map(|u| u.role), Some(Role::Admin));
        assert_eq!(store.user_by_email("frank@example.com").await.expect("lookup").map(|u| u.role), Some(Role::User));
        let invited = store.user_by_email("dave@example.com").await.expect("lookup").expect("dave");
        assert_eq!(invited.id, dave);
        assert_eq!(invited.tenant_id, beta);
        assert_ne!(erin, frank);

        for bad in ["not-an-email", "@example.com", "bob@localhost", "bob@.com", "bob@example.", "b ob@example.com", ""]
        {
            match store
                .create_user(NewUser { tenant_id: acme, email: bad, role: Role::User, password_hash: None })
                .await
            {
                Err(StoreError::Invalid(_)) => {}
                other => panic!("invalid email {bad:?}: {other:?}"),
            }
        }

        store.set_password_hash(dave, "$argon2id$new").await.expect("set password");
        let dave_row = store.user_by_email("dave@example.com").await.expect("lookup").expect("dave");
        assert_eq!(dave_row.password_hash.as_deref(), Some("$argon2id$new"));

        assert!(store.unlock_user("ALICE@example.com").await.expect("unlock alice"));
        assert!(!store.unlock_user("nobody@example.com").await.expect("unlock nobody"));
    }

    pub async fn sessions(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let alice = user(store, acme, "Alice@example.com", Role::Admin).await;
        let bob = user(store, acme, "bob@example.com", Role::User).await;
        let t = now();

        let line_auth = token_hash();
        store
            .insert_session(NewSession {
                id_hash: &line_auth,
                user_id: alice,
                host: HostKind::LineAuth,
                factor: Some(Factor::Line),
                line: Some("CAF0000000001"),
                client_ip: Some("198.51.100.7"),
                expires_at: t + 3600,
                pending_factor: None,
                pending_remember: false,
            })
            .await
            .expect("insert line-auth session");
        let rec = store.session_by_hash(&line_auth).await.expect("lookup").expect("live session");
        assert_eq!(rec.user_id, alice);
        assert_eq!(rec.tenant_id, acme);
        assert_eq!(rec.email, "alice@example.com");
        assert_eq!(rec.role, Role::Admin);
        assert_eq!(rec.method, LoginMethod::Password);
        assert_eq!(rec.host, HostKind::LineAuth);
        assert_eq!(rec.factor, Some(Factor::Line));
        assert_eq!(rec.expires_at, t + 3600);

        let ordinary = token_hash();
        store
            .insert_session(NewSession { factor: None, ..session(&ordinary, alice, t + 60) })
            .await
            .expect("insert ordinary session");
        let rec = store.session_by_hash(&ordinary).await.expect("lookup").expect("live session");
        assert_eq!((rec.host, rec.factor, rec.expires_at), (HostKind::Ordinary, None, t + 60));

        let bobs = token_hash();
        store.insert_session(session(&bobs, bob, t + 3600)).await.expect("insert bob's session");
        let rec = store.session_by_hash(&bobs).await.expect("lookup").expect("live session");
        assert_eq!((rec.user_id, rec.role, rec.factor), (bob, Role::User, Some(Factor::Totp)));

        // Expired and unknown sessions are absent.
        let expired = token_hash();
        store.insert_session(session(&expired, bob, t - 10)).await.expect("insert expired session");
        assert!(store.session_by_hash(&expired).await.expect("lookup").is_none(), "an expired session was returned");
        assert!(store.session_by_hash(&token_hash()).await.expect("lookup").is_none());
        assert!(store.session_by_hash("").await.expect("lookup").is_none());

        assert_eq!(store.purge_expired_sessions().await.expect("purge"), 1);
        assert_eq!(store.purge_expired_sessions().await.expect("purge again"), 0);

        assert!(store.delete_session(&ordinary).await.expect("delete"));
        assert!(store.session_by_hash(&ordinary).await.expect("lookup").is_none(), "a deleted session was returned");
        assert!(!store.delete_session(&ordinary).await.expect("delete again"));
        assert!(store.session_by_hash(&line_auth).await.expect("lookup").is_some(), "the wrong session was deleted");

        let second = token_hash();
        store.insert_session(session(&second, alice, t + 3600)).await.expect("insert");
        assert_eq!(store.delete_user_sessions(alice).await.expect("delete alice's sessions"), 2);
        assert!(store.session_by_hash(&line_auth).await.expect("lookup").is_none());
        assert!(store.session_by_hash(&second).await.expect("lookup").is_none());
        assert!(store.session_by_hash(&bobs).await.expect("lookup").is_some(), "another user's session was deleted");
        assert_eq!(store.delete_user_sessions(alice).await.expect("again"), 0);
    }

    pub async fn locked_users(store: &Store, url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let alice = user(store, acme, "alice@example.com", Role::User).await;
        let bob = user(store, acme, "bob@example.com", Role::User).await;
        let (sa, sb) = (token_hash(), token_hash());
        store.insert_session(session(&sa, alice, now() + 3600)).await.expect("insert");
        store.insert_session(session(&sb, bob, now() + 3600)).await.expect("insert");
        assert!(store.session_by_hash(&sa).await.expect("lookup").is_some());

        raw_exec(url, &format!("UPDATE users SET locked_at = {}, failed_logins = 5 WHERE id = {alice}", now())).await;
        assert!(store.user_by_email("alice@example.com").await.expect("lookup").expect("alice").locked);
        assert!(!store.user_by_email("bob@example.com").await.expect("lookup").expect("bob").locked);
        assert!(store.session_by_hash(&sa).await.expect("lookup").is_none(), "a locked user's session was returned");
        assert!(store.session_by_hash(&sb).await.expect("lookup").is_some());

        assert!(store.unlock_user("Alice@Example.com").await.expect("unlock"));
        assert!(!store.user_by_email("alice@example.com").await.expect("lookup").expect("alice").locked);
        assert!(store.session_by_hash(&sa).await.expect("lookup").is_some(), "the session did not come back on unlock");
    }

    /// Whether a user holds a live link of a purpose: what keeps a
    /// login-method change and an email change from running at once.
    pub async fn live_links(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let alice = user(store, acme, "alice@example.com", Role::User).await;
        let bob = user(store, acme, "bob@example.com", Role::User).await;
        let live = |u, p| async move { store.has_live_link(u, p).await.expect("has_live_link") };
        assert!(!live(alice, LinkPurpose::LoginMethod).await);
        let method = token_hash();
        store.create_link(link(&method, LinkPurpose::LoginMethod, alice, now() + 3600)).await.expect("create");
        assert!(live(alice, LinkPurpose::LoginMethod).await);
        assert!(!live(alice, LinkPurpose::EmailChange).await, "another purpose");
        assert!(!live(bob, LinkPurpose::LoginMethod).await, "another user");
        store.consume_link(&method, LinkPurpose::LoginMethod).await.expect("consume");
        assert!(!live(alice, LinkPurpose::LoginMethod).await, "used up");
        let expired = token_hash();
        store.create_link(link(&expired, LinkPurpose::EmailChange, bob, now() - 1)).await.expect("create");
        assert!(!live(bob, LinkPurpose::EmailChange).await, "expired");
        store.create_link(link(&token_hash(), LinkPurpose::EmailChange, bob, now() + 60)).await.expect("create");
        assert!(live(bob, LinkPurpose::EmailChange).await);
        store.void_links(bob, &[LinkPurpose::EmailChange]).await.expect("void");
        assert!(!live(bob, LinkPurpose::EmailChange).await, "voided");
    }

    pub async fn links(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let alice = user(store, acme, "alice@example.com", Role::User).await;
        let bob = user(store, acme, "bob@example.com", Role::User).await;
        let later = now() + 3600;

        // Single use.
        let invite = token_hash();
        store.create_link(link(&invite, LinkPurpose::Invite, alice, later)).await.expect("create invite");
        assert_eq!(store.peek_link(&invite, LinkPurpose::Invite).await.expect("peek"), Some(alice));
        assert_eq!(store.peek_link(&invite, LinkPurpose::Invite).await.expect("peek does not use up"), Some(alice));
        assert_eq!(store.consume_link(&invite, LinkPurpose::Invite).await.expect("consume"), Some(alice));
        assert_eq!(store.consume_link(&invite, LinkPurpose::Invite).await.expect("consume again"), None);
        assert_eq!(store.peek_link(&invite, LinkPurpose::Invite).await.expect("peek"), None);

        // A newer link of the same purpose voids the older one, not those of other purposes or users.
        let (old_reset, new_reset) = (token_hash(), token_hash());
        let unlock = token_hash();
        let bobs_reset = token_hash();
        store.create_link(link(&old_reset, LinkPurpose::Reset, alice, later)).await.expect("create");
        store.create_link(link(&unlock, LinkPurpose::Unlock, alice, later)).await.expect("create");
        store.create_link(link(&bobs_reset, LinkPurpose::Reset, bob, later)).await.expect("create");
        store.create_link(link(&new_reset, LinkPurpose::Reset, alice, later)).await.expect("create");
        assert_eq!(
            store.consume_link(&old_reset, LinkPurpose::Reset).await.expect("consume"),
            None,
            "the older link still works"
        );
        assert_eq!(store.consume_link(&new_reset, LinkPurpose::Reset).await.expect("consume"), Some(alice));
        assert_eq!(store.consume_link(&unlock, LinkPurpose::Unlock).await.expect("consume"), Some(alice));
        assert_eq!(store.consume_link(&bobs_reset, LinkPurpose::Reset).await.expect("consume"), Some(bob));

        // The wrong purpose opens nothing, and does not use the link up.
        let email_change = token_hash();
        store
            .create_link(NewLink {
                token_hash: &email_change,
                purpose: LinkPurpose::EmailChange,
                user_id: bob,
                payload: Some("bob@new.example.com"),
                expires_at: later,
            })
            .await
            .expect("create");
        // Its confirm page reads the new address without using the link up.
        let pending = Some((bob, Some("bob@new.example.com".to_owned())));
        for _ in 0..2 {
            let peeked = store.peek_link_with_payload(&email_change, LinkPurpose::EmailChange).await.expect("peek");
            assert_eq!(peeked, pending);
        }
        for wrong in [LinkPurpose::Invite, LinkPurpose::Unlock, LinkPurpose::Reset] {
            assert_eq!(store.peek_link_with_payload(&email_change, wrong).await.expect("peek"), None);
            assert_eq!(store.peek_link(&email_change, wrong).await.expect("peek"), None);
            assert_eq!(store.consume_link(&email_change, wrong).await.expect("consume"), None, "{wrong:?}");
        }
        assert_eq!(store.consume_link(&email_change, LinkPurpose::EmailChange).await.expect("consume"), Some(bob));
        assert_eq!(store.peek_link_with_payload(&email_change, LinkPurpose::EmailChange).await.expect("peek"), None);

        // Expired links open nothing.
        let expired = token_hash();
        store.create_link(link(&expired, LinkPurpose::Invite, bob, now() - 1)).await.expect("create");
        assert_eq!(store.peek_link(&expired, LinkPurpose::Invite).await.expect("peek"), None);
        assert_eq!(
            store.consume_link(&expired, LinkPurpose::Invite).await.expect("consume"),
            None,
            "an expired link worked"
        );

        // Unknown tokens open nothing.
        assert_eq!(store.consume_link(&token_hash(), LinkPurpose::Invite).await.expect("consume"), None);
    }

    pub async fn concurrent_link_use(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let alice = user(store, acme, "alice@example.com", Role::User).await;
        for round in 0..20 {
            let h = token_hash();
            store.create_link(link(&h, LinkPurpose::Reset, alice, now() + 3600)).await.expect("create");
            let (a, b) =
                tokio::join!(store.consume_link(&h, LinkPurpose::Reset), store.consume_link(&h, LinkPurpose::Reset));
            let wins = [a.expect("consume a"), b.expect("consume b")];
            assert_eq!(wins.iter().filter(|w| w.is_some()).count(), 1, "round {round}: {wins:?}");
            assert!(wins.contains(&Some(alice)));

            // The same race across threads.
            let h = token_hash();
            store.create_link(link(&h, LinkPurpose::Unlock, alice, now() + 3600)).await.expect("create");
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let (store, h) = (store.clone(), h.clone());
                    tokio::spawn(async move { store.consume_link(&h, LinkPurpose::Unlock).await.expect("consume") })
                })
                .collect();
            let mut wins = 0;
            for t in tasks {
                if t.await.expect("task").is_some() {
                    wins += 1;
                }
            }
            assert_eq!(wins, 1, "round {round}: {wins} of 4 concurrent uses succeeded");
        }
    }

    pub async fn concurrent_add_lines(store: &Store, _url: &str) {
        migrated(store).await;
        let mut tenants = Vec::new();
        for i in 0..6 {
            tenants.push(tenant(store, &format!("t{i}")).await);
        }
        for round in 0..10u32 {
            // Several tenants race for the same line: one gets it, the others are told it is taken.
            let contested = line(&format!("CAF{round:010}"));
            let tasks: Vec<_> = tenants
                .iter()
                .map(|&id| {
                    let store = store.clone();
                    tokio::spawn(async move { (id, store.add_lines(id, &[contested]).await) })
                })
                .collect();
            let mut winners = Vec::new();
            for t in tasks {
                match t.await.expect("task") {
                    (id, Ok(1)) => winners.push(id),
                    (_, Err(StoreError::Conflict(_))) => {}
                    (id, other) => panic!("round {round}: tenant {id} racing for a line got {other:?}"),
                }
            }
            assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
            let owners: Vec<i64> = store
                .load_tenants()
                .await
                .expect("load tenants")
                .into_iter()
                .map(|t| t.expect("every tenant row reads"))
                .filter(|t| t.lines.iter().any(|l| l == contested.as_str()))
                .map(|t| t.id)
                .collect();
            assert_eq!(owners, winners, "round {round}");

            // Different lines added at the same time all go in.
            let tasks: Vec<_> = tenants
                .iter()
                .enumerate()
                .map(|(i, &id)| {
                    let store = store.clone();
                    let own = line(&format!("COP{round:04}{i:04}"));
                    tokio::spawn(async move { store.add_lines(id, &[own]).await })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.expect("task").expect("add a line of one's own"), 1, "round {round}");
            }
        }
    }

    /// Each write records what it changed, narrowly: a session, a user, a
    /// tenant. Nothing at all for what no cache holds (a new user, a new
    /// session), and nothing for a refused change.
    pub async fn changes(store: &Store, _url: &str) {
        migrated(store).await;
        let mut last = store.last_change().await.expect("last change");

        macro_rules! records {
            ($what:literal, $call:expr, $expect:expr) => {{
                let out = $call.await.unwrap_or_else(|e| panic!("{}: {e}", $what));
                let got: Vec<Change> = store
                    .changes_after(last, 100)
                    .await
                    .expect("changes")
                    .into_iter()
                    .map(|(seq, c)| {
                        assert!(seq > last);
                        last = seq;
                        c.unwrap_or_else(|| panic!("{}: an unknown change", $what))
                    })
                    .collect();
                let expect: Vec<Change> = $expect;
                assert_eq!(got, expect, "{} recorded the wrong changes", $what);
                out
            }};
        }

        let acme = records!("create_tenant", store.create_tenant("acme", Plan::Basic), vec![Change::Tenant(1)]);
        assert_eq!(acme, 1);
        records!("set_route", store.set_route(acme, Route::LineOnly), vec![Change::Tenant(acme)]);
        records!("set_two_factor", store.set_two_factor(acme, false), vec![Change::Tenant(acme)]);
        let l = line("CAF0000000001");
        records!("add_lines", store.add_lines(acme, &[l]), vec![Change::Tenant(acme)]);
        records!("remove_lines", store.remove_lines(acme, &[l]), vec![Change::Tenant(acme)]);
        records!("add_networks", store.add_networks(acme, &[net("10.0.0.0/8")]), vec![Change::Tenant(acme)]);
        records!("remove_networks", store.remove_networks(acme, &[net("10.0.0.0/8")]), vec![Change::Tenant(acme)]);
        let alice = records!(
            "create_user",
            store.create_user(NewUser {
                tenant_id: acme,
                email: "alice@example.com",
                role: Role::Owner,
                password_hash: None
            }),
            vec![]
        );
        records!("set_password_hash", store.set_password_hash(alice, "$argon2id$x"), vec![Change::User(alice)]);
        records!("lock_user", store.lock_user(alice), vec![Change::User(alice)]);
        records!("lock_user again", store.lock_user(alice), vec![]);
        records!("unlock_user", store.unlock_user("Alice@example.com"), vec![Change::User(alice)]);
        records!("unlock_user unknown", store.unlock_user("nobody@example.com"), vec![]);
        records!("set_email", store.set_email(alice, "alice2@example.com"), vec![Change::User(alice)]);
        records!("reset_second_factors", store.reset_second_factors(alice), vec![Change::User(alice)]);
        let h = token_hash();
        records!("insert_session", store.insert_session(session(&h, alice, now() + 3600)), vec![]);
        records!("grant_sudo", store.grant_sudo(&h, now() + 60), vec![Change::Session(h.clone())]);
        assert!(records!("delete_session", store.delete_session(&h), vec![Change::Session(h.clone())]));
        assert!(!records!("delete_session again", store.delete_session(&h), vec![]));
        store.insert_session(session(&h, alice, now() + 3600)).await.expect("insert session");
        assert_eq!(records!("delete_user_sessions", store.delete_user_sessions(alice), vec![Change::User(alice)]), 1);

        // Refused changes record nothing.
        assert!(matches!(store.create_tenant("acme", Plan::Basic).await, Err(StoreError::Conflict(_))));
        // (On PostgreSQL the refused insert used up an id.)
        let beta = store.create_tenant("beta", Plan::Basic).await.expect("create beta");
        records!("create beta", async { Ok::<_, StoreError>(()) }, vec![Change::Tenant(beta)]);
        records!("add line", store.add_lines(acme, &[l]), vec![Change::Tenant(acme)]);
        assert!(matches!(store.add_lines(beta, &[l]).await, Err(StoreError::Conflict(_))));
        assert!(
            store.changes_after(last, 100).await.expect("changes").is_empty(),
            "a refused add_lines recorded a change"
        );
        assert_eq!(store.last_change().await.expect("last"), last);
        store.prune_changes().await.expect("prune");
        assert_eq!(store.last_change().await.expect("last"), last, "recent changes are kept");
    }

    /// Attempts counted in a shared window: one statement per attempt, so
    /// instances counting at once never lose one.
    pub async fn attempts(store: &Store, _url: &str) {
        migrated(store).await;
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.count_attempt("login", "192.0.2.1", 600).await })
            })
            .collect();
        let mut seen = Vec::new();
        for t in tasks {
            seen.push(t.await.expect("task").expect("count"));
        }
        seen.sort();
        assert_eq!(seen, (1..=20).collect::<Vec<i64>>(), "every attempt counted once");
        assert_eq!(store.count_attempt("login", "192.0.2.1", 660).await.unwrap(), 1, "a new window");
        assert_eq!(store.count_attempt("login", "192.0.2.2", 600).await.unwrap(), 1, "another key");
        assert_eq!(store.count_attempt("code_ip", "192.0.2.1", 600).await.unwrap(), 1, "another scope");
    }

    /// Wrong second-factor codes add up per user across calls (sessions) until
    /// reset; the lock is taken once, and the mailbox, an admin or a reset clear it.
    pub async fn second_factor_lock(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let u = user(store, acme, "codes@example.com", Role::User).await;
        let other = user(store, acme, "other@example.com", Role::User).await;
        assert!(!store.second_factor_locked(u).await.unwrap());
        for n in 1..=3 {
            assert_eq!(store.record_user_factor_failure(u).await.unwrap(), n);
        }
        store.reset_user_factor_failures(u).await.unwrap();
        assert_eq!(store.record_user_factor_failure(u).await.unwrap(), 1, "a right code starts the count again");
        assert_eq!(store.record_user_factor_failure(other).await.unwrap(), 1, "counted per user");
        assert_eq!(store.record_user_factor_failure(i64::MAX).await.unwrap(), i64::MAX, "unknown user");
        assert!(store.second_factor_locked(i64::MAX).await.unwrap(), "an unknown user counts as locked");

        assert!(store.lock_second_factor(u).await.unwrap());
        assert!(!store.lock_second_factor(u).await.unwrap(), "locked once: one mail");
        assert!(store.second_factor_locked(u).await.unwrap());
        assert!(!store.second_factor_locked(other).await.unwrap());
        store.unlock_user_id(u).await.unwrap();
        assert!(!store.second_factor_locked(u).await.unwrap(), "the unlock link (and an admin's unlock) clear it");
        assert_eq!(store.record_user_factor_failure(u).await.unwrap(), 1, "and the count");

        assert!(store.lock_second_factor(u).await.unwrap());
        store.reset_second_factors(u).await.unwrap();
        assert!(!store.second_factor_locked(u).await.unwrap(), "a 2FA reset (admin, password reset) clears it");
        assert!(store.lock_second_factor(u).await.unwrap());
        assert!(store.unlock_user("codes@example.com").await.unwrap());
        assert!(!store.second_factor_locked(u).await.unwrap(), "the operator's unlock clears it");
    }

    /// Break-glass codes: bound to one session, single use, limited tries, an expiry.
    pub async fn break_glass_codes(store: &Store, url: &str) {
        use gateway::store::{BREAK_GLASS_ATTEMPTS, BreakGlassCheck};
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let u = user(store, acme, "boss@example.com", Role::Owner).await;
        let (s1, s2) = (token_hash(), token_hash());
        assert_eq!(store.break_glass_pending(u, &s1).await.unwrap(), None);
        assert_eq!(store.check_break_glass(u, &s1, "h-right", false).await.unwrap(), BreakGlassCheck::Dead);
        store.put_break_glass(u, &s1, Some("h-right"), 600).await.unwrap();
        assert_eq!(store.break_glass_pending(u, &s1).await.unwrap(), Some(Some("h-right".to_owned())));
        assert_eq!(store.break_glass_pending(u, &s2).await.unwrap(), None, "another session");
        assert_eq!(store.check_break_glass(u, &s2, "h-right", false).await.unwrap(), BreakGlassCheck::Dead);
        assert_eq!(store.check_break_glass(u, &s1, "h-wrong", false).await.unwrap(), BreakGlassCheck::Wrong);
        assert_eq!(store.check_break_glass(u, &s1, "h-right", false).await.unwrap(), BreakGlassCheck::Ok);
        assert_eq!(store.check_break_glass(u, &s1, "h-right", false).await.unwrap(), BreakGlassCheck::Dead, "once");

        // The authenticator instead of the mailed code uses the challenge up too.
        store.put_break_glass(u, &s1, Some("h-right"), 600).await.unwrap();
        assert_eq!(store.check_break_glass(u, &s1, "h-any", true).await.unwrap(), BreakGlassCheck::Ok);
        assert_eq!(store.break_glass_pending(u, &s1).await.unwrap(), None);

        // Wrong tries use the challenge up, even for a right code afterwards.
        store.put_break_glass(u, &s1, Some("h-right"), 600).await.unwrap();
        for _ in 0..BREAK_GLASS_ATTEMPTS {
            assert_eq!(store.check_break_glass(u, &s1, "h-wrong", false).await.unwrap(), BreakGlassCheck::Wrong);
        }
        assert_eq!(store.break_glass_pending(u, &s1).await.unwrap(), None);
        assert_eq!(store.check_break_glass(u, &s1, "h-right", false).await.unwrap(), BreakGlassCheck::Dead);

        // Expired.
        store.put_break_glass(u, &s1, Some("h-right"), 600).await.unwrap();
        raw_exec(url, "UPDATE break_glass_codes SET expires_at = 1").await;
        assert_eq!(store.check_break_glass(u, &s1, "h-right", false).await.unwrap(), BreakGlassCheck::Dead);

        // A 2FA reset forgets it.
        store.put_break_glass(u, &s1, Some("h-right"), 600).await.unwrap();
        store.reset_second_factors(u).await.unwrap();
        assert_eq!(store.break_glass_pending(u, &s1).await.unwrap(), None);
    }

    /// Pending invitations: renewed in place, per tenant, listed until the
    /// invitee registers, and the password-less user row hidden behind them.
    pub async fn invitations(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;
        let t = now();
        store.record_invitation(acme, " X@Fresh.example ", Role::User, t + 100).await.expect("record");
        store.record_invitation(acme, "y@beta.example", Role::User, t + 100).await.expect("record");
        store.record_invitation(acme, "x@fresh.example", Role::Admin, t + 200).await.expect("renew");
        store.record_invitation(beta, "x@fresh.example", Role::User, t - 1).await.expect("other tenant");
        let listed = store.tenant_invitations(acme).await.expect("list");
        let emails: Vec<&str> = listed.iter().map(|i| i.email.as_str()).collect();
        assert_eq!(emails, ["x@fresh.example", "y@beta.example"]);
        assert_eq!((listed[0].role, listed[0].expires_at), (Role::Admin, t + 200), "renewed in place");
        let theirs = store.invitation(beta, "x@fresh.example").await.expect("lookup").expect("beta's own row");
        assert!(theirs.expired(t) && !listed[0].expired(t));
        assert!(store.invitation(beta, "y@beta.example").await.expect("lookup").is_none(), "per tenant");

        // The invitee's password-less user row is listed as the invitation only.
        let x = store
            .create_user(NewUser { tenant_id: acme, email: "x@fresh.example", role: Role::Admin, password_hash: None })
            .await
            .expect("invitee");
        let overview = store.tenant_user_overview(acme, 0).await.expect("overview");
        assert!(overview.iter().all(|u| u.email != "x@fresh.example"), "shown as an invitation, not a user");
        // Registered: a user, no longer an invitation (even before the row goes).
        store.set_password_hash(x, "$argon2id$placeholder").await.expect("register");
        assert_eq!(store.tenant_invitations(acme).await.expect("list").len(), 1);
        assert!(
            store.tenant_user_overview(acme, 0).await.expect("overview").iter().any(|u| u.email == "x@fresh.example")
        );
        store.invitation_accepted(acme, "X@fresh.example").await.expect("accepted");
        assert!(store.invitation(acme, "x@fresh.example").await.expect("lookup").is_none());
        assert!(store.invitation(beta, "x@fresh.example").await.expect("lookup").is_some(), "another tenant's stays");
    }

    /// What is written as a typed value reads back as that value.
    pub async fn typed_round_trip(store: &Store, _url: &str) {
        migrated(store).await;
        for (name, plan, route) in [
            ("basic-open", Plan::Basic, Route::LineAndInternet),
            ("basic-closed", Plan::Basic, Route::LineOnly),
            ("trial-open", Plan::Trial, Route::LineAndInternet),
            ("trial-closed", Plan::Trial, Route::LineOnly),
        ] {
            let id = store.create_tenant(name, plan).await.expect("create");
            store.set_route(id, route).await.expect("set route");
            let t = store.require_tenant(name).await.expect("require");
            assert_eq!((t.plan, t.route), (plan, route), "{name}");
            assert_eq!(store.tenant_plan(id).await.expect("plan"), Some(plan), "{name}");
            assert_eq!(tenant_row(store, id).await.route, route, "{name}");
        }
        let acme = store.require_tenant_id("basic-open").await.expect("id");
        for (email, role) in
            [("o@acme.example", Role::Owner), ("a@acme.example", Role::Admin), ("u@acme.example", Role::User)]
        {
            let id = user(store, acme, email, role).await;
            let u = store.user_by_id(id).await.expect("lookup").expect("exists");
            assert_eq!((u.role, u.login_method), (role, LoginMethod::Password), "{email}");
            let hash = token_hash();
            store.insert_session(session(&hash, id, now() + 600)).await.expect("session");
            let rec = store.session_by_hash(&hash).await.expect("session lookup").expect("live");
            assert_eq!((rec.role, rec.method), (role, LoginMethod::Password), "{email}");
        }
        let u = store.user_by_email("u@acme.example").await.expect("lookup").expect("exists");
        assert!(store.set_user_role(acme, u.id, Role::Admin).await.expect("promote"));
        let listed = store.tenant_user_overview(acme, 0).await.expect("overview");
        let roles: Vec<(&str, Role)> = listed.iter().map(|u| (u.email.as_str(), u.role)).collect();
        assert_eq!(
            roles,
            [("a@acme.example", Role::Admin), ("o@acme.example", Role::Owner), ("u@acme.example", Role::Admin)]
        );
        for role in [Role::User, Role::Admin] {
            store.record_invitation(acme, "i@acme.example", role, now() + 60).await.expect("invite");
            assert_eq!(store.invitation(acme, "i@acme.example").await.expect("lookup").map(|i| i.role), Some(role));
        }
    }

    /// A route or plan this version does not know is an error wherever the
    /// tenant is read, never a default; the snapshot's load keeps the others.
    pub async fn unknown_tenant_values(store: &Store, url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;
        write_unknown(url, "tenants", "route", "line-sometimes", &format!("id = {acme}")).await;
        assert_corrupt(store.tenant_by_name("acme").await, "tenants", "route", "line-sometimes");
        assert_corrupt(store.require_tenant("acme").await, "tenants", "route", "line-sometimes");
        let loaded = store.load_tenants().await.expect("the load itself works");
        assert_eq!(loaded.len(), 2);
        let mut loaded = loaded.into_iter();
        assert_corrupt(loaded.next().expect("acme"), "tenants", "route", "line-sometimes");
        assert_eq!(loaded.next().expect("beta").expect("beta reads").id, beta);
        // The way out: the route is set right by the tenant's id alone.
        assert_eq!(store.require_tenant_id("acme").await.expect("id"), acme);
        store.set_route(acme, Route::LineOnly).await.expect("set right");
        assert_eq!(store.require_tenant("acme").await.expect("readable again").route, Route::LineOnly);

        write_unknown(url, "tenants", "plan", "platinum", &format!("id = {beta}")).await;
        assert_corrupt(store.tenant_by_name("beta").await, "tenants", "plan", "platinum");
        assert_corrupt(store.tenant_plan(beta).await, "tenants", "plan", "platinum");
        // The plan decides nothing about access: the policy's load still has the tenant.
        assert_eq!(tenant_row(store, beta).await.route, Route::LineAndInternet);
    }

    /// A role or login method this version does not know is an error wherever
    /// the user is read, also through a session; never a default.
    pub async fn unknown_user_values(store: &Store, url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let alice = user(store, acme, "alice@example.com", Role::User).await;
        let bob = user(store, acme, "bob@example.com", Role::Admin).await;
        let (alice_session, bob_session) = (token_hash(), token_hash());
        store.insert_session(session(&alice_session, alice, now() + 600)).await.expect("session");
        store.insert_session(session(&bob_session, bob, now() + 600)).await.expect("session");

        write_unknown(url, "users", "role", "superuser", &format!("id = {alice}")).await;
        assert_corrupt(store.user_by_email("alice@example.com").await, "users", "role", "superuser");
        assert_corrupt(store.user_by_id(alice).await, "users", "role", "superuser");
        assert_corrupt(store.tenant_users(acme).await, "users", "role", "superuser");
        assert_corrupt(store.tenant_user_overview(acme, 0).await, "users", "role", "superuser");
        assert_corrupt(store.session_by_hash(&alice_session).await, "users", "role", "superuser");
        // Bob's row is fine.
        assert_eq!(store.session_by_hash(&bob_session).await.expect("lookup").map(|r| r.role), Some(Role::Admin));

        write_unknown(url, "users", "login_method", "carrier-pigeon", &format!("id = {bob}")).await;
        assert_corrupt(store.user_by_email("bob@example.com").await, "users", "login_method", "carrier-pigeon");
        assert_corrupt(store.session_by_hash(&bob_session).await, "users", "login_method", "carrier-pigeon");
    }

    /// Invitations' role column has no CHECK: an unknown value is caught on read.
    pub async fn unknown_invitation_role(store: &Store, url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        store.record_invitation(acme, "x@example.com", Role::User, now() + 60).await.expect("invite");
        write_unknown(url, "invitations", "role", "owner-ish", "email = 'x@example.com'").await;
        assert_corrupt(store.invitation(acme, "x@example.com").await, "invitations", "role", "owner-ish");
        assert_corrupt(store.tenant_invitations(acme).await, "invitations", "role", "owner-ish");
        write_unknown(url, "invitations", "role", "user", "email = 'x@example.com'").await;
        write_unknown(url, "invitations", "mail_state", "bounced", "email = 'x@example.com'").await;
        assert_corrupt(store.invitation(acme, "x@example.com").await, "invitations", "mail_state", "bounced");
    }

    /// An invitation's mail outcome per send, its withdrawal (the invitee's
    /// password-less user goes, a registered one or a re-invited one stays),
    /// and a password staged on its link until the confirmation uses it up.
    pub async fn invitation_mail_and_withdrawal(store: &Store, _url: &str) {
        use gateway::store::InvitationMail;
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;
        let first = store.record_invitation(acme, "x@fresh.example", Role::User, now() + 60).await.expect("record");
        let row = store.invitation(acme, "x@fresh.example").await.expect("lookup").expect("row");
        assert_eq!((row.mail, row.attempt), (InvitationMail::Queued, first));
        let second = store.record_invitation(acme, "x@fresh.example", Role::User, now() + 60).await.expect("again");
        assert_eq!(second, first + 1, "each send is numbered");
        assert!(!store.invitation_mailed(acme, "x@fresh.example", first, InvitationMail::Sent).await.expect("late"));
        assert!(store.invitation_mailed(acme, "X@fresh.example", second, InvitationMail::Failed).await.expect("now"));
        let listed = store.tenant_invitations(acme).await.expect("list");
        assert_eq!(listed[0].mail, InvitationMail::Failed);
        assert!(!store.invitation_mailed(beta, "x@fresh.example", second, InvitationMail::Sent).await.expect("beta"));

        // A password staged on the invitee's link, then used up with it.
        let x = store
            .create_user(NewUser { tenant_id: acme, email: "x@fresh.example", role: Role::User, password_hash: None })
            .await
            .expect("invitee");
        let hash = token_hash();
        let link = NewLink {
            token_hash: &hash,
            purpose: LinkPurpose::Invite,
            user_id: x,
            payload: None,
            expires_at: now() + 60,
        };
        store.create_link(link).await.expect("link");
        assert_eq!(store.consume_staged_invitation(&hash, "$argon2id$staged").await.expect("nothing staged"), None);
        assert_eq!(store.peek_link(&hash, LinkPurpose::Invite).await.expect("peek"), Some(x), "still live");
        assert!(store.stage_invitation_password(&hash, "$argon2id$staged").await.expect("stage"));
        assert!(!store.stage_invitation_password(&token_hash(), "$argon2id$x").await.expect("unknown link"));
        assert_eq!(
            store.consume_staged_invitation(&hash, "$argon2id$other").await.expect("another"),
            None,
            "only the password this browser staged"
        );
        let used = store.consume_staged_invitation(&hash, "$argon2id$staged").await.expect("consume");
        assert_eq!(used, Some((x, "$argon2id$staged".to_owned())));
        assert_eq!(
            store.consume_staged_invitation(&hash, "$argon2id$staged").await.expect("twice"),
            None,
            "single use"
        );
        let other = token_hash();
        let link = NewLink {
            token_hash: &other,
            purpose: LinkPurpose::Invite,
            user_id: x,
            payload: None,
            expires_at: now() + 60,
        };
        store.create_link(link).await.expect("another link");
        assert!(store.stage_invitation_password(&other, "$argon2id$abandoned").await.expect("stage"));
        store.forget_staged_passwords(x).await.expect("forget");
        assert_eq!(
            store.consume_staged_invitation(&other, "$argon2id$abandoned").await.expect("forgotten"),
            None,
            "nothing staged any more"
        );
        assert!(
            !store.stage_invitation_password(&hash, "$argon2id$late").await.expect("used"),
            "dead links take nothing"
        );

        // Withdrawn: per tenant, once; the password-less invitee is removed
        // only while no invitation of the address is pending.
        assert!(!store.withdraw_invitation(beta, "x@fresh.example").await.expect("beta has none"));
        store.record_invitation(acme, "x@fresh.example", Role::User, now() + 60).await.expect("pending again");
        assert!(!store.forget_withdrawn_invitee(acme, "x@fresh.example").await.expect("pending"), "kept while invited");
        assert!(store.withdraw_invitation(acme, "x@fresh.example").await.expect("withdraw"));
        assert!(!store.withdraw_invitation(acme, "x@fresh.example").await.expect("again"), "once");
        assert!(store.invitation(acme, "x@fresh.example").await.expect("lookup").is_none());
        assert!(store.forget_withdrawn_invitee(acme, "x@fresh.example").await.expect("forget"));
        assert!(store.user_by_email("x@fresh.example").await.expect("lookup").is_none(), "the address is free");
        let owner = store
            .create_user(NewUser { tenant_id: acme, email: "o@acme.example", role: Role::Owner, password_hash: None })
            .await
            .expect("owner");
        let registered = user(store, acme, "r@acme.example", Role::User).await;
        for (email, id) in [("o@acme.example", owner), ("r@acme.example", registered)] {
            assert!(!store.forget_withdrawn_invitee(acme, email).await.expect("forget"), "{email} stays");
            assert!(store.user_by_id(id).await.expect("lookup").is_some());
        }
    }

    pub async fn federated_identities(store: &Store, _url: &str) {
        use gateway::store::{Binding, FederatedIdentity};
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let alice = user(store, acme, "alice@acme.example", Role::User).await;
        let bob = user(store, acme, "bob@acme.example", Role::User).await;
        store.enrol_sms(alice, "+819012345678").await.expect("enrol");
        let google = |sub: &str| FederatedIdentity {
            provider: "google".into(),
            issuer: "https://accounts.example".into(),
            subject: sub.into(),
        };
        assert_eq!(store.bind_identity(alice, &google("a-1")).await.expect("bind"), Binding::Bound);
        let row = store.user_by_id(alice).await.expect("lookup").expect("alice");
        assert_eq!(row.login_method, LoginMethod::Federated);
        assert!(row.password_hash.is_none(), "the password goes");
        assert!(row.registered());
        assert!(store.enrolment(alice).await.expect("enrolment").sms_phone.is_none(), "second factors go");
        assert_eq!(store.user_id_by_identity("https://accounts.example", "a-1").await.expect("find"), Some(alice));
        assert_eq!(store.user_id_by_identity("https://other.example", "a-1").await.expect("find"), None, "per issuer");
        assert_eq!(store.federated_identity(alice).await.expect("identity"), Some(google("a-1")));

        // One account, one user.
        assert_eq!(store.bind_identity(bob, &google("a-1")).await.expect("bind"), Binding::TakenByOther);
        let bob_row = store.user_by_id(bob).await.expect("lookup").expect("bob");
        assert_eq!(bob_row.login_method, LoginMethod::Password, "a refused binding changes nothing");
        assert!(bob_row.password_hash.is_some());

        // A session carries the provider.
        let sid = token_hash();
        store
            .insert_session(NewSession {
                id_hash: &sid,
                user_id: alice,
                host: HostKind::Ordinary,
                factor: None,
                line: None,
                client_ip: None,
                expires_at: now() + 60,
                pending_factor: None,
                pending_remember: false,
            })
            .await
            .expect("session");
        let rec = store.session_by_hash(&sid).await.expect("lookup").expect("live");
        assert_eq!(rec.provider.as_deref(), Some("google"));
        assert_eq!(rec.method, LoginMethod::Federated);

        // Back to a password: the identity is gone and the account is free.
        store.unbind_identity(alice, "$argon2id$new").await.expect("unbind");
        let row = store.user_by_id(alice).await.expect("lookup").expect("alice");
        assert_eq!(row.login_method, LoginMethod::Password);
        assert_eq!(row.password_hash.as_deref(), Some("$argon2id$new"));
        assert_eq!(store.federated_identity(alice).await.expect("identity"), None);
        assert_eq!(store.bind_identity(bob, &google("a-1")).await.expect("bind"), Binding::Bound);
    }

    pub async fn federation_flows(store: &Store, _url: &str) {
        use gateway::store::{FlowPurpose, FlowRow};
        migrated(store).await;
        let flow = |state: &str, expires_at: i64| FlowRow {
            state_hash: state.into(),
            browser_hash: "b".repeat(64),
            provider: "google".into(),
            tenant_id: None,
            purpose: FlowPurpose::MethodLink,
            host: HostKind::LineAuth,
            rd: Some("/files".into()),
            user_id: Some(7),
            ticket_hash: Some("t".repeat(64)),
            session_hash: None,
            created_at: now(),
            expires_at,
        };
        let live = flow("s1", now() + 600);
        store.insert_flow(&live).await.expect("insert");
        assert_eq!(store.take_flow("s1").await.expect("take"), Some(live.clone()), "everything comes back");
        assert_eq!(store.take_flow("s1").await.expect("take again"), None, "a state works once");
        assert_eq!(store.take_flow("nope").await.expect("unknown"), None);

        // Expired a while ago: swept; recently expired: returned (the caller says "expired").
        store.insert_flow(&flow("old", now() - 7200)).await.expect("insert old");
        store.insert_flow(&flow("late", now() - 5)).await.expect("insert late");
        store.sweep_flows().await.expect("sweep");
        assert_eq!(store.take_flow("old").await.expect("take old"), None);
        assert!(store.take_flow("late").await.expect("take late").is_some_and(|f| f.expires_at < now()));
        // Two callbacks at once: exactly one gets the flow.
        store.insert_flow(&flow("race", now() + 600)).await.expect("insert");
        let (a, b) = tokio::join!(store.take_flow("race"), store.take_flow("race"));
        assert_eq!([a.expect("a").is_some(), b.expect("b").is_some()].iter().filter(|x| **x).count(), 1, "one taker");
    }

    pub async fn directories(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;
        assert!(store.directory(acme).await.expect("none yet").is_none());
        let (id, created) = store
            .save_directory(acme, "adfs-aaaaaaaaaaaaaaaaaa", "https://adfs.acme.example/adfs", "client", "v1:sealed")
            .await
            .expect("create");
        assert_eq!((id.as_str(), created), ("adfs-aaaaaaaaaaaaaaaaaa", true));
        // Editing keeps the id it has.
        let (id, created) = store
            .save_directory(acme, "adfs-bbbbbbbbbbbbbbbbbb", "https://login.example/t/v2.0", "client2", "v1:sealed2")
            .await
            .expect("edit");
        assert_eq!((id.as_str(), created), ("adfs-aaaaaaaaaaaaaaaaaa", false));
        let dir = store.directory_by_connection("adfs-aaaaaaaaaaaaaaaaaa").await.expect("lookup").expect("found");
        assert_eq!(
            (dir.tenant_id, dir.issuer.as_str(), dir.client_id.as_str()),
            (acme, "https://login.example/t/v2.0", "client2")
        );
        assert_eq!(dir.sealed_secret, "v1:sealed2");
        // A connection id is one tenant's.
        let taken = store.save_directory(beta, "adfs-aaaaaaaaaaaaaaaaaa", "https://x.example", "c", "v1:s").await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
        assert!(store.directory_by_connection("adfs-zzzzzzzzzzzzzzzzzz").await.expect("lookup").is_none());
    }
}

// ---------------------------------------------------------------------------
// Bulk work: imports, the paged list, listings and removals
// ---------------------------------------------------------------------------

both! {
    in bulk_suite:
    import_lines, sqlite_import_lines, postgres_import_lines;
    import_networks, sqlite_import_networks, postgres_import_networks;
    lines_page, sqlite_lines_page, postgres_lines_page;
    listings, sqlite_listings, postgres_listings;
    remove_user, sqlite_remove_user, postgres_remove_user;
    remove_tenant, sqlite_remove_tenant, postgres_remove_tenant;
}

mod bulk_suite {
    use super::*;

    fn lines(from: usize, n: usize) -> Vec<LineId> {
        (from..from + n).map(|i| line(&format!("CAF{i:010}"))).collect()
    }

    async fn changes_since(store: &Store, seq: i64) -> Vec<Change> {
        store.changes_after(seq, 1000).await.expect("changes").into_iter().map(|(_, c)| c.expect("known")).collect()
    }

    /// Thousands of lines in one transaction with one recorded change; a line
    /// taken meanwhile rolls the whole import back.
    pub async fn import_lines(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;
        store.add_lines(beta, &[line("CAF9999999999")]).await.expect("beta's line");
        let before = store.last_change().await.expect("last");
        let mut seen = Vec::new();
        let many = lines(1, 2500);
        let n = store.import_lines(acme, &many, &mut |n| seen.push(n)).await.expect("import");
        assert_eq!(n, 2500);
        // Progress after each chunk (1000 rows on SQLite, one array on PostgreSQL).
        let chunks = if store.backend() == "sqlite" { vec![1000, 2000, 2500] } else { vec![2500] };
        assert_eq!(seen, chunks);
        assert_eq!(store.tenant_lines(acme).await.expect("lines").len(), 2500);
        assert_eq!(changes_since(store, before).await, vec![Change::Tenant(acme)], "one change per import");

        let owners = store.line_owners(&[line("CAF0000000001"), line("CAF9999999999"), line("CAF8888888888")]).await;
        let owners = owners.expect("owners");
        assert_eq!(owners.len(), 2);
        assert_eq!((owners[&line("CAF0000000001")], owners[&line("CAF9999999999")]), (acme, beta));

        // A chunk with a taken line: nothing of the import stays, not even earlier chunks.
        let before = store.last_change().await.expect("last");
        let mut racing = lines(5000, 1500);
        racing.push(line("CAF9999999999"));
        let got = store.import_lines(acme, &racing, &mut |_| {}).await;
        assert!(matches!(got, Err(StoreError::Conflict(_))), "{got:?}");
        assert_eq!(store.tenant_lines(acme).await.expect("lines").len(), 2500, "rolled back whole");
        assert!(changes_since(store, before).await.is_empty(), "no change recorded for a rollback");
        assert_eq!(store.tenant_lines(beta).await.expect("lines"), vec!["CAF9999999999"]);
    }

    pub async fn import_networks(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let nets: Vec<ipnet::IpNet> = (0..1200).map(|i| net(&format!("10.{}.{}.0/24", i / 256, i % 256))).collect();
        assert_eq!(store.import_networks(acme, &nets, &mut |_| {}).await.expect("import"), 1200);
        assert_eq!(store.tenant_networks(acme).await.expect("nets").len(), 1200);
        let again = store.import_networks(acme, &[net("192.0.2.0/24"), nets[0]], &mut |_| {}).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(store.tenant_networks(acme).await.expect("nets").len(), 1200);
    }

    /// Paged in SQL; the search is a literal substring (wildcards escaped).
    pub async fn lines_page(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;
        store.import_lines(acme, &lines(1, 120), &mut |_| {}).await.expect("import");
        store.import_lines(beta, &lines(500, 5), &mut |_| {}).await.expect("import");
        let (page, total) = store.tenant_lines_page(acme, "", 0, 50).await.expect("page");
        assert_eq!((page.len(), total), (50, 120));
        assert_eq!(page[0], "CAF0000000001");
        let (page, _) = store.tenant_lines_page(acme, "", 100, 50).await.expect("last page");
        assert_eq!((page.len(), page[0].as_str()), (20, "CAF0000000101"));
        let (page, total) = store.tenant_lines_page(acme, " caf00000001 ", 0, 50).await.expect("search");
        // CAF + 00000001 + two digits: CAF0000000100..=120.
        assert_eq!(total, 21, "{page:?}");
        for wild in ["%", "_", "CAF%1", "\\"] {
            let (page, total) = store.tenant_lines_page(acme, wild, 0, 50).await.expect("wildcard");
            assert_eq!((page.len(), total), (0, 0), "{wild:?} is taken literally");
        }
        let (_, total) = store.tenant_lines_page(acme, "CAF0000000500", 0, 50).await.expect("other tenant's");
        assert_eq!(total, 0, "another tenant's lines are never listed");
    }

    pub async fn listings(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;
        user(store, acme, "owner@acme.example", Role::Owner).await;
        let bob = user(store, acme, "bob@acme.example", Role::User).await;
        user(store, beta, "carol@beta.example", Role::Admin).await;
        store.import_lines(acme, &lines(1, 3), &mut |_| {}).await.expect("import");
        store.add_networks(beta, &[net("192.0.2.0/24")]).await.expect("net");
        store.set_two_factor(beta, false).await.expect("2fa");
        let t = store.tenant_listing(None).await.expect("tenants");
        let got: Vec<_> =
            t.iter().map(|t| (t.name.as_str(), t.owner.as_deref(), t.users, t.lines, t.networks)).collect();
        assert_eq!(got, vec![("acme", Some("owner@acme.example"), 2, 3, 0), ("beta", None, 1, 0, 1)]);
        assert_eq!((t[1].plan.as_str(), t[1].route.as_str(), t[1].two_factor), ("basic", "line-and-internet", false));
        assert_eq!(store.tenant_listing(Some("beta")).await.expect("one").len(), 1);
        assert!(store.tenant_listing(Some("nope")).await.expect("none").is_empty());

        let hash = token_hash();
        store.insert_session(session(&hash, bob, now() + 3600)).await.expect("session");
        let u = store.user_listing(Some(acme)).await.expect("users");
        let got: Vec<_> = u.iter().map(|u| (u.email.as_str(), u.tenant.as_str(), u.role.as_str())).collect();
        assert_eq!(got, vec![("bob@acme.example", "acme", "user"), ("owner@acme.example", "acme", "owner")]);
        assert!(u[0].last_sign_in.is_some() && u[1].last_sign_in.is_none());
        assert_eq!((u[0].method.as_str(), u[0].locked, u[0].invited), ("password", false, false));
        assert_eq!(store.user_listing(None).await.expect("all").len(), 3);
    }

    /// A user goes with their sessions and invitation; the owner never alone.
    pub async fn remove_user(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let owner = user(store, acme, "owner@acme.example", Role::Owner).await;
        let bob = user(store, acme, "bob@acme.example", Role::User).await;
        let hash = token_hash();
        store.insert_session(session(&hash, bob, now() + 3600)).await.expect("session");
        store.record_invitation(acme, "bob@acme.example", Role::User, now() + 100).await.expect("invitation");
        store.create_link(link(&token_hash(), LinkPurpose::Invite, bob, now() + 100)).await.expect("link");

        let before = store.last_change().await.expect("last");
        assert_eq!(store.delete_user(owner).await.expect("owner"), None, "the owner is refused");
        assert!(changes_since(store, before).await.is_empty());
        let removed = store.delete_user(bob).await.expect("remove").expect("removed");
        assert_eq!((removed.users, removed.sessions), (1, 1));
        assert_eq!(changes_since(store, before).await, vec![Change::User(bob)]);
        assert!(store.user_by_id(bob).await.expect("read").is_none());
        assert!(store.session_by_hash(&hash).await.expect("read").is_none());
        assert!(store.invitation(acme, "bob@acme.example").await.expect("invitation").is_none());
        assert_eq!(store.delete_user(bob).await.expect("again"), None);
        // The address is free again.
        user(store, acme, "bob@acme.example", Role::User).await;
    }

    pub async fn remove_tenant(store: &Store, _url: &str) {
        migrated(store).await;
        let acme = tenant(store, "acme").await;
        let beta = tenant(store, "beta").await;
        let owner = user(store, acme, "owner@acme.example", Role::Owner).await;
        let bob = user(store, acme, "bob@acme.example", Role::User).await;
        let carol = user(store, beta, "carol@beta.example", Role::User).await;
        let (h1, h2) = (token_hash(), token_hash());
        store.insert_session(session(&h1, bob, now() + 3600)).await.expect("session");
        store.insert_session(session(&h2, carol, now() + 3600)).await.expect("session");
        store.import_lines(acme, &lines(1, 10), &mut |_| {}).await.expect("lines");
        store.add_networks(acme, &[net("192.0.2.0/24")]).await.expect("net");

        let before = store.last_change().await.expect("last");
        let removed = store.delete_tenant(acme).await.expect("remove").expect("removed");
        assert_eq!((removed.users, removed.sessions), (2, 1));
        let mut got = changes_since(store, before).await;
        got.sort_by_key(|c| c.to_string());
        let mut want = vec![Change::Tenant(acme), Change::User(owner), Change::User(bob)];
        want.sort_by_key(|c| c.to_string());
        assert_eq!(got, want);
        assert!(store.tenant_by_name("acme").await.expect("read").is_none());
        assert!(store.load_tenant(acme).await.expect("read").is_none());
        assert!(store.user_by_id(bob).await.expect("read").is_none());
        assert!(store.session_by_hash(&h1).await.expect("read").is_none());
        assert!(store.line_owners(&lines(1, 10)).await.expect("owners").is_empty(), "its lines are free");
        // The other tenant is untouched.
        assert!(store.session_by_hash(&h2).await.expect("read").is_some());
        assert_eq!(store.delete_tenant(acme).await.expect("again"), None);
        let _ = beta;
    }
}
