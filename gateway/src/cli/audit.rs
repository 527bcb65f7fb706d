use std::process::ExitCode;

use super::connect_current;

#[derive(clap::Args)]
pub struct AuditArgs {
    /// The tenant whose events to print.
    #[arg(long)]
    tenant: String,
    /// Only events since then: a duration back from now (90m, 12h, 7d) or a date (2026-11-01).
    #[arg(long)]
    since: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = 1000)]
    limit: i64,
}

/// Unix seconds of a `--since` value.
fn since(value: Option<&str>, now: i64) -> anyhow::Result<i64> {
    let Some(v) = value else { return Ok(0) };
    if let Ok(d) = config::parse_duration(v) {
        return Ok(now - d.as_secs() as i64);
    }
    let parts: Vec<&str> = v.split('-').collect();
    if let [y, m, d] = parts.as_slice()
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<i64>(), d.parse::<i64>())
        && (1..=12).contains(&m)
        && (1..=31).contains(&d)
    {
        return Ok(days_from_civil(y, m, d) * 86400);
    }
    anyhow::bail!("--since {v:?}: expected a duration such as 12h or 7d, or a date such as 2026-11-01")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// `YYYY-MM-DD HH:MM:SS` UTC.
fn format_time(t: i64) -> String {
    format!("{}:{:02}", gateway::ui::html::date(t), t.rem_euclid(60))
}

pub async fn run(cfg: config::GatewayConfig, args: AuditArgs) -> anyhow::Result<ExitCode> {
    let store = connect_current(&cfg).await?;
    let tenant = store.require_tenant(&args.tenant).await?;
    let from = since(args.since.as_deref(), gateway::store::now())?;
    let entries = store.audit_entries(tenant.id, from, args.limit).await?;
    println!("{:<19}  {:<24}  {:<28}  {:<28}  {:<15}  host", "time (UTC)", "event", "actor", "subject", "from");
    for e in &entries {
        println!(
            "{:<19}  {:<24}  {:<28}  {:<28}  {:<15}  {}",
            format_time(e.at),
            e.event,
            e.actor.as_deref().unwrap_or("-"),
            e.subject.as_deref().unwrap_or("-"),
            e.client_ip.as_deref().unwrap_or("-"),
            e.host_kind.as_deref().unwrap_or("-"),
        );
    }
    eprintln!("{} event(s)", entries.len());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(since(Some("2026-11-01"), 0).unwrap(), 1_793_491_200);
        assert_eq!(format_time(1_793_491_200 + 3661), "2026-11-01 01:01:01");
        assert_eq!(since(Some("2h"), 10_000).unwrap(), 10_000 - 7200);
        assert!(since(Some("yesterday"), 0).is_err());
        assert!(since(Some("2026-13-01"), 0).is_err());
    }
}
