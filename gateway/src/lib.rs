//! The gateway binary's library: everything but the command-line entry point, so
//! that integration tests can reach the store and the helpers directly.

pub mod access_log;
pub mod accounts;
pub mod app;
pub mod auth;
pub mod background;
pub mod changes;
pub mod db_health;
pub mod demo_origin;
pub mod federation;
pub mod hangup;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod outage;
pub mod password;
pub mod policy_state;
pub mod private_fs;
pub mod proxy;
pub mod second_factor;
pub mod seed;
pub mod serve;
pub mod session;
pub mod shutdown;
pub mod sms;
pub mod store;
pub mod throttle;
pub mod tls;
pub mod tls_roots;
pub mod tokens;
pub mod ui;
pub mod web;
