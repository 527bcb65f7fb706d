//! The gateway's own log (diagnostics, to stderr), as `log:` in gateway.yaml
//! says. The access log is apart: `access_log.rs`.

use std::io::IsTerminal;

use config::{LogFormat, LogSettings};
use tracing_subscriber::EnvFilter;

/// Installs the process-wide subscriber. `GATEWAY_LOG`, when set, wins over
/// `log.level` (an operator's one-off `GATEWAY_LOG=debug` needs no file edit).
/// Colour codes only when stderr is a terminal and `NO_COLOR` is unset: under
/// journald, a container runtime or a file they are noise.
pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let filter = match std::env::var("GATEWAY_LOG") {
        Ok(v) if !v.trim().is_empty() => {
            EnvFilter::try_new(&v).map_err(|e| anyhow::anyhow!("GATEWAY_LOG={v:?} is not a log filter: {e}"))?
        }
        _ => EnvFilter::try_new(&settings.level)
            .map_err(|e| anyhow::anyhow!("log.level {:?} is not a log filter: {e}", settings.level))?,
    };
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let done = match settings.format {
        LogFormat::Text => builder.with_ansi(ansi).try_init(),
        // One object per line with the event's fields flattened beside
        // `message`: what log shippers and `jq` expect.
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_ansi(false).try_init(),
    };
    // Already installed (a test calling twice): the first one stays.
    let _ = done;
    Ok(())
}

/// For commands that read no configuration: text, the default filter.
pub fn init_default() -> anyhow::Result<()> {
    init(&LogSettings::default())
}
