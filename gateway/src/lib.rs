//! The gateway binary's library: everything but the command-line entry point, so
//! that integration tests can reach the store and the helpers directly.

pub mod store;
pub mod password;
pub mod tokens;
