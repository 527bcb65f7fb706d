//! The attack suite: one table-driven test per attack class, each sent to the
//! real gateway (real processes, as in `tests/e2e`) and asserted refused, with
//! the origin's request log proving that nothing reached it. A class found open
//! once gets its test here, so it cannot come back unnoticed.
//!
//! One file per class; each names the SPEC section 11 rule (or the older rule)
//! it holds the gateway to.

#[path = "../e2e/support.rs"]
mod support;

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

mod kit;

mod break_glass;
mod code_guessing;
mod connections;
mod csrf;
mod csrf_binding;
mod encoded_dots;
mod enumeration;
mod fake_tickets;
mod federation;
mod file_modes;
mod fixation;
mod forwarded_for;
mod host_confusion;
mod identity_headers;
mod invite_probing;
mod line_header;
mod mail_links;
mod networks;
mod open_redirect;
mod oversized;
mod password_guessing;
mod paths;
mod routing_headers;
mod sms_abuse;
mod smuggling;
mod throttles;
