//! TLS from the gateway to what it opens.
//!
//! An `https://` origin: the demo origin behind a TLS front of the test's own
//! (tokio-rustls, a certificate from a CA made by the test). The gateway reaches
//! it only with the right CA and name; otherwise the request fails closed (502)
//! and nothing reaches the origin, in plain text or otherwise.
//!
//! `check-config` refuses plain text to a PostgreSQL server on another host.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::support::*;
use crate::test_ca::TestCa;

/// Terminates TLS with `config` and passes the bytes to the plain origin.
/// Counts the handshakes that succeeded.
async fn tls_front(config: Arc<rustls::ServerConfig>, origin: SocketAddr) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the TLS front");
    let port = listener.local_addr().expect("local address").port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counted = handshakes.clone();
    let acceptor = TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, counted) = (acceptor.clone(), counted.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                let Ok(mut plain) = TcpStream::connect(origin).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (port, handshakes)
}

fn set_origin(env: &Env, current: &mut String, new: String) {
    env.tweak_config(current, &new);
    *current = new;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_origin_is_reached_with_its_ca_and_name_and_never_otherwise() {
    let Some(mut env) = Env::new(Db::Sqlite).await else { return };
    let ca = TestCa::new("Origin test CA");
    let cert = ca.server_cert(&["files.internal"], "origin");
    let origin = SocketAddr::from(([127, 0, 0, 1], env.origin_port()));
    let (tls_port, handshakes) = tls_front(cert.rustls_server_config(), origin).await;
    let ca_file = path_of(&ca.ca_file());
    let other_ca = TestCa::new("Another CA");
    let c = env.client(INTERNET);
    let url = env.url(ORDINARY, "/public/readme.txt");
    let get = |c: &reqwest::Client| c.get(url.clone()).send();

    // The right CA, and the name the certificate carries (the origin is reached by address).
    let mut written = format!("origin: \"127.0.0.1:{}\"\n", env.origin_port());
    set_origin(
        &env,
        &mut written,
        format!(
            "origin: \"https://127.0.0.1:{tls_port}\"\norigin_tls:\n  ca_file: \"{ca_file}\"\n  sni: files.internal\n"
        ),
    );
    env.start().await;
    let r = get(&c).await.expect("request");
    assert_eq!(r.status(), 200, "{}", env.log());
    let echo = Echo::from(r).await;
    assert_eq!(echo.path, "/public/readme.txt");
    assert_eq!(handshakes.load(Ordering::SeqCst), 1, "one TLS connection to the origin");
    let reached = env.origin_count();

    // Each of these must fail closed: 502, and nothing more reaches the origin.
    let refusals = [
        (
            "no CA file: the test CA is not a public root",
            format!("origin: \"https://127.0.0.1:{tls_port}\"\norigin_tls:\n  sni: files.internal\n"),
        ),
        (
            "another CA",
            format!(
                "origin: \"https://127.0.0.1:{tls_port}\"\norigin_tls:\n  ca_file: \"{}\"\n  sni: files.internal\n",
                path_of(&other_ca.ca_file())
            ),
        ),
        (
            "a name the certificate does not carry",
            format!("origin: \"https://127.0.0.1:{tls_port}\"\norigin_tls:\n  ca_file: \"{ca_file}\"\n"),
        ),
    ];
    for (case, origin_yaml) in refusals {
        set_origin(&env, &mut written, origin_yaml);
        env.restart_with(&[]).await;
        let r = get(&c).await.expect("request");
        assert_eq!(r.status(), 502, "{case}: {}", env.log());
        assert_eq!(env.origin_count(), reached, "{case}: a request reached the origin");
        assert_eq!(handshakes.load(Ordering::SeqCst), 1, "{case}: a handshake succeeded");
    }

    // The plain origin port behind an https:// URL: TLS is spoken or nothing.
    set_origin(
        &env,
        &mut written,
        format!(
            "origin: \"https://127.0.0.1:{}\"\norigin_tls:\n  ca_file: \"{ca_file}\"\n  sni: files.internal\n",
            origin.port()
        ),
    );
    env.restart_with(&[]).await;
    let r = get(&c).await.expect("request");
    assert_eq!(r.status(), 502, "plain origin behind https: {}", env.log());
    assert_eq!(env.origin_count(), reached, "a plain request reached the origin");

    // verify: false reaches it without the CA, and says so at start-up.
    set_origin(&env, &mut written, format!("origin: \"https://127.0.0.1:{tls_port}\"\norigin_tls:\n  verify: false\n"));
    env.restart_with(&[]).await;
    assert!(env.log().contains("origin_tls.verify is false"), "{}", env.log());
    let r = get(&c).await.expect("request");
    assert_eq!(r.status(), 200, "{}", env.log());
    assert_eq!(env.origin_count(), reached + 1);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_refuses_plain_text_to_a_database_on_another_host() {
    let Some(env) = Env::new(Db::Sqlite).await else { return };
    let sqlite = format!("database: \"{}\"\n", env.database);
    let remote = "postgres://gw:pw-in-url@db.example.net/gateway";
    env.tweak_config(&sqlite, &format!("database: \"{remote}\"\n"));
    let out = env.cli(&["check-config"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("database:") && err.contains("plain text") && !err.contains("pw-in-url"), "{err}");

    // Allowed explicitly: accepted, with a warning.
    env.tweak_config(
        &format!("database: \"{remote}\"\n"),
        &format!("database: \"{remote}\"\ndatabase_allow_plain_text: true\n"),
    );
    let out = env.cli(&["check-config"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: the database at db.example.net may be reached in plain text"), "{err}");

    // verify-full: no word about it.
    env.tweak_config(remote, &format!("{remote}?sslmode=verify-full"));
    let out = env.cli(&["check-config"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("db.example.net"), "{err}");
    env.cleanup().await;
}
