//! 2-step verification building blocks: authenticator-app (TOTP) secrets and
//! codes, their encryption at rest, and recovery codes.
//!
//! Pure functions over bytes and strings; storing, throttling and refusing a
//! reused TOTP step are the callers' (they own the database and the clock).

mod crypto;
pub mod recovery;
mod totp;

pub use crypto::{KeyError, TotpKey};
pub use totp::{code_at, new_secret, otpauth_uri, qr_svg, secret_base32, verify};
