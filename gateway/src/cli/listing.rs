//! `tenant list|show`, `user list`, and the confirmation a removal asks for.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::bail;
use gateway::store::{Store, TenantListing, UserListing};

/// A removal goes ahead with `--yes`, or when the operator types the name at
/// a terminal. Without a terminal and without `--yes` it is refused: a script
/// must say so explicitly.
pub fn confirm(yes: bool, what: &str, name: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("removing {what} {name} needs --yes when standard input is not a terminal; nothing was removed");
    }
    eprint!("This removes {what} {name} for good. Type {name} to confirm: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != name {
        bail!("not confirmed; nothing was removed");
    }
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn when(t: Option<i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".to_owned())
}

pub fn print_tenants(tenants: &[TenantListing], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(tenants)?);
        return Ok(());
    }
    println!(
        "{:<24} {:<6} {:<18} {:<4} {:>6} {:>8} {:>9}",
        "NAME", "PLAN", "ROUTE", "2FA", "USERS", "LINES", "NETWORKS"
    );
    for t in tenants {
        println!(
            "{:<24} {:<6} {:<18} {:<4} {:>6} {:>8} {:>9}",
            t.name,
            t.plan,
            t.route,
            if t.two_factor { "on" } else { "off" },
            t.users,
            t.lines,
            t.networks
        );
    }
    Ok(())
}

/// How many lines and networks `tenant show` prints before "… and N more".
const FIRST: usize = 10;

pub async fn show_tenant(store: &Store, t: &TenantListing, declared: bool, json: bool) -> anyhow::Result<()> {
    let lines = store.tenant_lines(t.id).await?;
    let networks = store.tenant_networks(t.id).await?;
    if json {
        let v = serde_json::json!({
            "name": t.name, "plan": t.plan, "route": t.route, "two_factor": t.two_factor,
            "owner": t.owner, "declared_in_policy_file": declared,
            "users": t.users, "lines": t.lines, "networks": t.networks,
            "first_lines": lines.iter().take(FIRST).collect::<Vec<_>>(),
            "first_networks": networks.iter().take(FIRST).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("tenant    {}", t.name);
    println!("plan      {}", t.plan);
    println!("route     {}", t.route);
    println!("2FA       {}", if t.two_factor { "on" } else { "off" });
    println!("owner     {}", t.owner.as_deref().unwrap_or("-"));
    println!("declared  {}", if declared { "yes (in the policy file; change it there)" } else { "no" });
    println!("users     {}", t.users);
    for (label, items, count) in [("lines", &lines, t.lines), ("networks", &networks, t.networks)] {
        println!("{label:<9} {count}");
        for i in items.iter().take(FIRST) {
            println!("  {i}");
        }
        if items.len() > FIRST {
            println!("  … and {} more (tenant {label} export {})", items.len() - FIRST, t.name);
        }
    }
    Ok(())
}

pub fn print_users(users: &[UserListing], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(users)?);
        return Ok(());
    }
    println!(
        "{:<36} {:<20} {:<6} {:<10} {:<7} {:<8} LAST SIGN-IN",
        "EMAIL", "TENANT", "ROLE", "METHOD", "LOCKED", "INVITED"
    );
    for u in users {
        println!(
            "{:<36} {:<20} {:<6} {:<10} {:<7} {:<8} {}",
            u.email,
            u.tenant,
            u.role,
            u.method,
            yes_no(u.locked),
            yes_no(u.invited),
            when(u.last_sign_in)
        );
    }
    Ok(())
}
