use std::process::ExitCode;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use gateway::store::{LinkPurpose, NewLink, NewUser, Store, now};
use gateway::tokens;
use policy::{LineId, Role, Route};

use super::connect_current;

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its owner; prints the owner's invitation link.
    Create {
        name: String,
        #[arg(long)]
        owner: String,
        #[arg(long, value_enum, default_value = "basic")]
        plan: Plan,
    },
    /// Send the owner a new invitation link (the previous one stops working).
    InviteOwner { name: String },
    /// Set the access route.
    SetRoute { name: String, route: RouteArg },
    /// Turn 2-step verification on or off for all password users of the tenant.
    #[command(name = "set-2fa")]
    Set2fa { name: String, state: OnOff },
    /// Add or remove registered line numbers.
    Lines {
        action: AddRemove,
        name: String,
        #[arg(required = true)]
        lines: Vec<String>,
    },
    /// Add or remove registered source networks (CIDR or single addresses).
    Networks {
        action: AddRemove,
        name: String,
        #[arg(required = true)]
        networks: Vec<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Plan {
    Basic,
    Trial,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RouteArg {
    #[value(name = "line-only")]
    LineOnly,
    #[value(name = "line-and-internet")]
    LineAndInternet,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AddRemove {
    Add,
    Remove,
}

/// Tenants declared in the policy file are the operator's: changing them
/// anywhere else would be silently undone by the next reload.
fn refuse_if_declared(cfg: &config::GatewayConfig, name: &str) -> anyhow::Result<()> {
    if let Some(ops) = gateway::serve::initial_ops_policy(cfg)?
        && ops.tenants.iter().any(|t| t.name == name)
    {
        let file = cfg.policy_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        bail!("tenant {name:?} is declared in {file} and managed by the operator there; change it in that file");
    }
    Ok(())
}

/// Parses every argument, reporting each bad one; nothing is changed unless all are good.
fn parse_all<T>(items: &[String], parse: impl Fn(&str) -> Result<T, String>, what: &str) -> anyhow::Result<Vec<T>> {
    let mut parsed = Vec::new();
    let mut errors = 0;
    for item in items {
        match parse(item) {
            Ok(v) => parsed.push(v),
            Err(e) => {
                eprintln!("{item:?}: {e}");
                errors += 1;
            }
        }
    }
    if errors > 0 {
        bail!("{errors} {what}(s) rejected; nothing was changed");
    }
    Ok(parsed)
}

pub fn invitation_url(cfg: &config::GatewayConfig, token: &str) -> String {
    format!("{}/auth/invite?ticket={token}", cfg.public_url(false))
}

pub async fn create_invitation(cfg: &config::GatewayConfig, store: &Store, user_id: i64) -> anyhow::Result<String> {
    let token = tokens::random_token();
    let hash = tokens::hash_token(&token).ok_or_else(|| anyhow::anyhow!("token generation failed"))?;
    store
        .create_link(NewLink {
            token_hash: &hash,
            purpose: LinkPurpose::Invite,
            user_id,
            payload: None,
            expires_at: now() + cfg.links.validity.as_secs() as i64,
        })
        .await?;
    Ok(invitation_url(cfg, &token))
}

pub async fn run(cfg: config::GatewayConfig, cmd: TenantCommand) -> anyhow::Result<ExitCode> {
    let store = connect_current(&cfg).await?;
    match cmd {
        TenantCommand::Create { name, owner, plan } => {
            config::check_tenant_name(&name).map_err(|e| anyhow::anyhow!("invalid tenant name {name:?}: {e}"))?;
            let owner = gateway::store::canonical_email(&owner);
            if !gateway::store::valid_email(&owner) {
                bail!("{owner:?} is not an email address");
            }
            if store.user_by_email(&owner).await?.is_some() {
                bail!("a user with the email {owner} already exists");
            }
            let plan = match plan {
                Plan::Basic => gateway::store::Plan::Basic,
                Plan::Trial => gateway::store::Plan::Trial,
            };
            let tenant_id = store.create_tenant(&name, plan).await?;
            let user_id =
                store.create_user(NewUser { tenant_id, email: &owner, role: Role::Owner, password_hash: None }).await?;
            let link = create_invitation(&cfg, &store, user_id).await?;
            store.audit(Some(tenant_id), Some("cli"), Some(&owner), "tenant_created", None, None).await?;
            println!("tenant {name} created (plan {plan}), owner {owner}");
            println!("invitation link for the owner (valid {} days):", cfg.links.validity.as_secs() / 86400);
            println!("{link}");
        }
        TenantCommand::InviteOwner { name } => {
            let t = store.require_tenant(&name).await?;
            let users = store.tenant_users(t.id).await?;
            let Some(owner) = users.iter().find(|u| u.role == Role::Owner) else {
                bail!("tenant {name:?} has no owner");
            };
            if owner.password_hash.is_some() {
                bail!(
                    "the owner {} has already registered; they can use \"Forgot your password?\" on the sign-in page",
                    owner.email
                );
            }
            let link = create_invitation(&cfg, &store, owner.id).await?;
            store.audit(Some(t.id), Some("cli"), Some(&owner.email), "invitation_sent", None, None).await?;
            println!(
                "new invitation link for {} (valid {} days; the previous one no longer works):",
                owner.email,
                cfg.links.validity.as_secs() / 86400
            );
            println!("{link}");
        }
        TenantCommand::SetRoute { name, route } => {
            refuse_if_declared(&cfg, &name)?;
            // By id alone: this is how a route this version cannot read is set right.
            let t_id = store.require_tenant_id(&name).await?;
            let route = match route {
                RouteArg::LineOnly => Route::LineOnly,
                RouteArg::LineAndInternet => Route::LineAndInternet,
            };
            store.set_route(t_id, route).await?;
            store.audit(Some(t_id), Some("cli"), None, &format!("route_set:{route}"), None, None).await?;
            println!("tenant {name}: access route is now {route}");
            if route == Route::LineOnly {
                println!(
                    "2-step verification is off while the route is line-only: every request must come from a registered line or network"
                );
            }
        }
        TenantCommand::Set2fa { name, state } => {
            refuse_if_declared(&cfg, &name)?;
            let t = store.require_tenant(&name).await?;
            let on = matches!(state, OnOff::On);
            store.set_two_factor(t.id, on).await?;
            store.audit(Some(t.id), Some("cli"), None, if on { "2fa_on" } else { "2fa_off" }, None, None).await?;
            println!("tenant {name}: 2-step verification switch is now {}", if on { "on" } else { "off" });
            if t.route == Route::LineOnly {
                println!(
                    "note: the route is line-only, so 2-step verification stays off until the route is line-and-internet"
                );
            }
        }
        TenantCommand::Lines { action, name, lines } => {
            refuse_if_declared(&cfg, &name)?;
            let t = store.require_tenant(&name).await?;
            let parsed = parse_all(&lines, |l| LineId::parse(l).map_err(|e| e.to_string()), "line number")?;
            match action {
                AddRemove::Add => {
                    let n = store.add_lines(t.id, &parsed).await?;
                    store.audit(Some(t.id), Some("cli"), None, "lines_added", None, None).await?;
                    println!("tenant {name}: {n} line(s) added, {} already registered", parsed.len() - n);
                }
                AddRemove::Remove => {
                    let missing = store.remove_lines(t.id, &parsed).await?;
                    store.audit(Some(t.id), Some("cli"), None, "lines_removed", None, None).await?;
                    println!("tenant {name}: {} line(s) removed", parsed.len() - missing.len());
                    for m in missing {
                        println!("  {m} was not registered to this tenant");
                    }
                }
            }
        }
        TenantCommand::Networks { action, name, networks } => {
            refuse_if_declared(&cfg, &name)?;
            let t = store.require_tenant(&name).await?;
            match action {
                AddRemove::Add => {
                    // SPEC section 11: the same limits as the settings page and the policy file.
                    let limits = cfg.tenant_networks.limits();
                    let check = |s: &str| config::parse_net(s).and_then(|n| limits.check(n).map_err(|e| e.to_string()));
                    let parsed = parse_all(&networks, check, "network")?;
                    let n = store.add_networks(t.id, &parsed).await?;
                    store.audit(Some(t.id), Some("cli"), None, "networks_added", None, None).await?;
                    println!("tenant {name}: {n} network(s) added, {} already registered", parsed.len() - n);
                    if n > 0 {
                        notify_owner_of_networks(&cfg, &store, t.id, &name, &parsed).await;
                    }
                }
                AddRemove::Remove => {
                    // Removing never widens anything: any network that parses may go.
                    let parsed = parse_all(&networks, config::parse_net, "network")?;
                    let missing = store.remove_networks(t.id, &parsed).await?;
                    store.audit(Some(t.id), Some("cli"), None, "networks_removed", None, None).await?;
                    println!("tenant {name}: {} network(s) removed", parsed.len() - missing.len());
                    for m in missing {
                        println!("  {m} was not registered to this tenant");
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// SPEC section 11: the owner hears of networks added from the command line
/// too, with the operator's login name and machine as "by whom" and "from where".
async fn notify_owner_of_networks(
    cfg: &config::GatewayConfig,
    store: &Store,
    tenant_id: i64,
    tenant: &str,
    networks: &[ipnet::IpNet],
) {
    let owners = match store.tenant_users(tenant_id).await {
        Ok(users) => users.into_iter().filter(|u| u.role == Role::Owner).collect::<Vec<_>>(),
        Err(e) => {
            eprintln!("warning: the owner could not be notified: {e}");
            return;
        }
    };
    let mailer = match gateway::mail::Mailer::new(&cfg.mail) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("warning: the owner could not be notified: {e}");
            return;
        }
    };
    let user = std::env::var("USER").unwrap_or_else(|_| "?".to_owned());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let by = format!("the gateway command line (user {user})");
    let from = format!("{} (command line)", host.trim());
    let list = networks.iter().map(|n| n.trunc().to_string()).collect::<Vec<_>>().join(", ");
    let notice = gateway::mail::NetworkAdded { tenant, network: &list, by: &by, from: &from };
    for owner in owners {
        let msg = gateway::mail::network_added(&notice, gateway::ui::lang::Lang::Ja, &cfg.ui.product_name);
        if let Err(e) = mailer.send(&owner.email, &msg).await {
            eprintln!("warning: the notice to the owner could not be sent: {e}");
        }
    }
}
