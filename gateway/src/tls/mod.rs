//! TLS termination on the gateway's listener (SPEC section 10): certificates
//! chosen by SNI and swapped without a restart (`certs`), the handshake under
//! the connection limits and a deadline (`terminate`), reloads on file change
//! (`reload`) and SIGHUP (`crate::hangup`).

pub mod certs;
pub mod reload;
pub mod terminate;

pub use certs::CertStore;
pub use terminate::Terminator;
