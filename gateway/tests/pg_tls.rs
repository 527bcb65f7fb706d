//! PostgreSQL over TLS, against a cluster of the test's own that accepts TLS
//! connections only (`tests/support/pg_cluster.rs`), with a certificate for
//! `localhost` from a CA made by the test.

#[path = "../../tests/support/pg_cluster.rs"]
mod pg_cluster;
#[path = "../../tests/support/test_ca.rs"]
mod test_ca;

use std::time::{Duration, Instant};

use gateway::store::{Store, StoreError};
use pg_cluster::TlsCluster;
use test_ca::TestCa;

/// A cluster presenting a certificate for `localhost` signed by `ca`.
fn cluster(ca: &TestCa) -> Option<TlsCluster> {
    let cert = ca.server_cert(&["localhost"], "postgres");
    TlsCluster::start(&cert.cert_pem, &cert.key_pem)
}

fn query(mode: &str, ca: &std::path::Path) -> String {
    format!("sslmode={mode}&sslrootcert={}", ca.display())
}

/// The error and its sources, as the start-up log shows them.
fn chain(e: &StoreError) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

async fn refused(url: &str) -> String {
    match Store::connect(url).await {
        Ok(_) => panic!("{url} was accepted"),
        Err(e) => chain(&e),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_with_the_right_ca_connects_and_migrates() {
    let ca = TestCa::new("Gateway test CA");
    let Some(pg) = cluster(&ca) else { return };
    let url = pg.url("localhost", &query("verify-full", &ca.ca_file()));
    let store = Store::connect(&url).await.unwrap_or_else(|e| panic!("connect: {}\n{}", chain(&e), pg.log()));
    assert_eq!(store.backend(), "postgres");
    assert!(store.migrate().await.expect("migrate over TLS") > 0);
    // The session really is encrypted, as the server sees it.
    let pool = sqlx::PgPool::connect(&url).await.expect("a second connection with the same URL");
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .expect("pg_stat_ssl");
    assert!(ssl, "the connection is not encrypted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_ca_is_refused() {
    let ca = TestCa::new("Gateway test CA");
    let other = TestCa::new("Someone else's CA");
    let Some(pg) = cluster(&ca) else { return };
    for mode in ["verify-full", "verify-ca"] {
        let err = refused(&pg.url("localhost", &query(mode, &other.ca_file()))).await;
        assert!(err.contains("invalid peer certificate: UnknownIssuer"), "{mode}: {err}");
    }
    // Without sslrootcert only the public roots are trusted: the test CA is not one.
    let err = refused(&pg.url("localhost", "sslmode=verify-full")).await;
    assert!(err.contains("invalid peer certificate: UnknownIssuer"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_name_the_certificate_does_not_name_is_refused_under_verify_full() {
    let ca = TestCa::new("Gateway test CA");
    let Some(pg) = cluster(&ca) else { return };
    // Same server, reached by its address: the certificate names localhost only.
    let err = refused(&pg.url("127.0.0.1", &query("verify-full", &ca.ca_file()))).await;
    assert!(err.contains("not valid for name"), "{err}");
    // verify-ca checks the chain only, so the same address passes.
    Store::connect(&pg.url("127.0.0.1", &query("verify-ca", &ca.ca_file())))
        .await
        .unwrap_or_else(|e| panic!("verify-ca: {}", chain(&e)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_cluster_refuses_plain_connections() {
    let ca = TestCa::new("Gateway test CA");
    let Some(pg) = cluster(&ca) else { return };
    let err = refused(&pg.url("localhost", "sslmode=disable")).await;
    assert!(err.contains("pg_hba.conf") && err.contains("no encryption"), "{err}");
}

#[tokio::test]
async fn plain_text_to_another_host_is_refused_before_connecting() {
    // 192.0.2.1 (TEST-NET-1) answers nothing: an attempt would wait for the timeout.
    let started = Instant::now();
    let err = refused("postgres://gw:secret-pw@192.0.2.1:5432/gateway").await;
    assert!(started.elapsed() < Duration::from_secs(2), "it tried to connect");
    assert!(err.contains("plain text") && err.contains("sslmode=verify-full"), "{err}");
    assert!(!err.contains("secret-pw"), "{err}");
    let err = refused("postgres://gw@192.0.2.1:5432/gateway?sslmode=disable").await;
    assert!(err.contains("sslmode=disable"), "{err}");
}
