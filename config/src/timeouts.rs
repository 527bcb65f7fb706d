//! `origin_timeouts:` in gateway.yaml: how long the origin may take before a
//! request fails with 504 (SPEC section 7).

use std::time::Duration;

use serde::Deserialize;

use crate::duration;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OriginTimeouts {
    /// Opening a connection to the origin (TCP, and TLS for an `https://` origin).
    #[serde(deserialize_with = "duration::deserialize")]
    pub connect: Duration,
    /// Each read from the origin: its response head, and each piece of its body.
    #[serde(deserialize_with = "duration::deserialize")]
    pub read: Duration,
}

impl Default for OriginTimeouts {
    fn default() -> Self {
        OriginTimeouts { connect: Duration::from_secs(5), read: Duration::from_secs(60) }
    }
}
