//! End-to-end tests: the real gateway binary and a real origin process, driven
//! over HTTP by a cookie-keeping client. Scenarios that touch the store run on
//! SQLite and on PostgreSQL.

mod support;

#[path = "../support/oidc.rs"]
mod oidc;

#[path = "../support/fed.rs"]
mod fed;

#[path = "../support/test_ca.rs"]
mod test_ca;

mod accounts;
mod admin;
mod bulk;
mod cli;
mod cli_docs;
mod explain;
mod faults;
mod federated;
mod instances;
mod lines;
mod observe;
mod reload;
mod sessions;
mod settings;
mod signals;
mod state_dir;
mod tls;
mod tls_client;
mod two_factor;

/// Runs an async scenario `fn(Db)` once per database.
#[macro_export]
macro_rules! on_both_databases {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario($crate::support::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario($crate::support::Db::Postgres).await
            }
        }
    };
}
