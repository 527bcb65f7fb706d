//! `shutdown:` in gateway.yaml: what SIGTERM and SIGQUIT do (SPEC section 10).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::duration;

/// After SIGTERM `/readyz` answers 503 at once and everything else is served
/// as before for `grace`, so a load balancer polling `/readyz` takes the
/// instance out before its listener closes; then the listeners close and
/// requests in flight have up to `drain` to finish.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownSettings {
    /// Serving on, not ready, after SIGTERM; 0: close at once.
    #[serde(deserialize_with = "duration::deserialize_or_zero")]
    pub grace: Duration,
    /// The longest wait for requests in flight once the listeners are closed
    /// (also after a SIGQUIT hand-over).
    #[serde(deserialize_with = "duration::deserialize")]
    pub drain: Duration,
    /// The Unix socket `serve --upgrade` receives the listening sockets on
    /// from the process it replaces. Unset: `$RUNTIME_DIRECTORY/upgrade.sock`
    /// under systemd, else `gateway-upgrade-PORT.sock` in the temporary directory.
    pub upgrade_socket: Option<PathBuf>,
}

impl Default for ShutdownSettings {
    fn default() -> Self {
        ShutdownSettings { grace: Duration::from_secs(10), drain: Duration::from_secs(30), upgrade_socket: None }
    }
}
