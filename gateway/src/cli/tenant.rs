use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use std::sync::Arc;

use gateway::accounts::{
    Accounts, Actor, BulkOptions, LinesAdded, LinesRemoved, Mailed, NetworksAdded, NetworksRemoved, RouteSet,
    SwitchSet, TenantRef, TenantRemoved,
};
use gateway::mail::Mailer;
use gateway::store::{LinkPurpose, NewLink, NewUser, Store, now};
use gateway::tokens;
use policy::{LineId, Role, Route};

use super::bulk::{self as bulk_io, What};
use super::connect_current;
use super::listing;

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its owner; prints the owner's invitation link.
    Create {
        /// The tenant's name (1 to 64 characters: a-z, 0-9, '.', '_', '-').
        name: String,
        /// The owner's email address; the invitation is mailed there.
        #[arg(long)]
        owner: String,
        /// The plan, which sets the tenant's limits.
        #[arg(long, value_enum, default_value = "basic")]
        plan: Plan,
    },
    /// Send the owner a new invitation link (the previous one stops working).
    InviteOwner {
        /// The tenant's name.
        name: String,
    },
    /// Set the access route.
    SetRoute {
        /// The tenant's name.
        name: String,
        /// line-only: registered lines and networks only; line-and-internet: also the internet, with a second factor.
        route: RouteArg,
    },
    /// Turn 2-step verification on or off for all password users of the tenant.
    #[command(name = "set-2fa")]
    Set2fa {
        /// The tenant's name.
        name: String,
        /// Whether 2-step verification is required.
        state: OnOff,
    },
    /// Add or remove registered line numbers, or import/export them as CSV.
    Lines {
        /// add or remove the LINES given; import or export a CSV file (--file).
        action: Action,
        /// The tenant's name.
        name: String,
        /// Carrier line ids to add or remove: CAF + 10 or COP + 8 letters and digits (e.g. CAF0123456789).
        lines: Vec<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// Add or remove registered source networks (CIDR or single addresses),
    /// or import/export them as CSV.
    Networks {
        /// add or remove the NETWORKS given; import or export a CSV file (--file).
        action: Action,
        /// The tenant's name.
        name: String,
        /// Networks to add or remove, in CIDR form (192.0.2.0/24) or single addresses.
        networks: Vec<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// List every tenant: plan, route, 2FA, counts of users, lines and networks.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one tenant: settings, owner, counts and its first lines and networks.
    Show {
        /// The tenant's name.
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove a tenant with its users, sessions, lines and networks, for good.
    Remove {
        /// The tenant's name.
        name: String,
        /// Do not ask; required when standard input is not a terminal.
        #[arg(long)]
        yes: bool,
    },
}

/// The options of `import` and `export`.
#[derive(clap::Args)]
pub struct BulkArgs {
    /// import: the CSV to read (`-`: standard input); export: where to write
    /// (`-` or none: standard output). One value per row in the first column;
    /// a header row, blank lines and `#` comments are skipped.
    #[arg(long)]
    file: Option<PathBuf>,
    /// import: validate and report, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// import: write the good rows even when some are refused (by default one
    /// refused row means nothing is written and the exit code is 1).
    #[arg(long)]
    skip_invalid: bool,
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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Action {
    /// Add the values given.
    Add,
    /// Remove the values given.
    Remove,
    /// Add every row of --file, all or nothing (see --dry-run, --skip-invalid).
    Import,
    /// Write every registered value as CSV that import reads back.
    Export,
}

/// Whether the tenant is declared in the policy file: the operator's there,
/// since a change made anywhere else would be silently undone by the next reload.
fn declared(cfg: &config::GatewayConfig, name: &str) -> anyhow::Result<bool> {
    Ok(gateway::policy_state::initial_ops_policy(cfg)?.is_some_and(|ops| ops.tenants.iter().any(|t| t.name == name)))
}

fn managed(cfg: &config::GatewayConfig, name: &str) -> anyhow::Error {
    let file = cfg.policy_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    anyhow::anyhow!("tenant {name:?} is declared in {file} and managed by the operator there; change it in that file")
}

/// The operator at the command line; mails go out in the service's default language.
fn actor(cfg: &config::GatewayConfig) -> Actor<'static> {
    Actor::cli(cfg.ui.default_language.into())
}

/// The account operations without a session cache: the gateways see the
/// change through the store's change log.
fn accounts<'a>(cfg: &'a config::GatewayConfig, store: &'a Store, mailer: &'a Arc<Mailer>) -> Accounts<'a> {
    Accounts { store, cfg, mailer, sessions: None }
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

/// Import and export; None for add and remove, which the caller does. The
/// arguments of one kind are refused with the other, so that a slip (a file
/// with `add`, values with `import`) never half-does what was meant.
async fn bulk_action(
    cfg: &config::GatewayConfig,
    accounts: &Accounts<'_>,
    tenant: &TenantRef<'_>,
    action: Action,
    what: What,
    values: &[String],
    bulk: BulkArgs,
) -> anyhow::Result<Option<ExitCode>> {
    let opts = BulkOptions { dry_run: bulk.dry_run, skip_invalid: bulk.skip_invalid };
    match action {
        Action::Add | Action::Remove => {
            if bulk.file.is_some() || bulk.dry_run || bulk.skip_invalid {
                bail!("--file, --dry-run and --skip-invalid go with import (and --file with export)");
            }
            if values.is_empty() {
                bail!("name at least one value to add or remove (or use import --file)");
            }
            Ok(None)
        }
        _ if !values.is_empty() => bail!("import and export take --file, not values"),
        Action::Import => {
            let Some(file) = bulk.file else { bail!("import needs --file CSV (or --file - for standard input)") };
            match bulk_io::import(accounts, &actor(cfg), tenant, what, &file, opts).await? {
                Some(code) => Ok(Some(code)),
                None => Err(managed(cfg, tenant.name)),
            }
        }
        Action::Export => {
            if bulk.dry_run || bulk.skip_invalid {
                bail!("--dry-run and --skip-invalid go with import");
            }
            bulk_io::export(accounts, tenant.id, what, bulk.file.as_deref()).await?;
            Ok(Some(ExitCode::SUCCESS))
        }
    }
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
            if owner.registered() {
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
            // By id alone: this is how a route this version cannot read is set right.
            let id = store.require_tenant_id(&name).await?;
            let tenant = TenantRef { id, name: &name, managed_by_file: declared(&cfg, &name)? };
            let route = match route {
                RouteArg::LineOnly => Route::LineOnly,
                RouteArg::LineAndInternet => Route::LineAndInternet,
            };
            let mailer = Arc::new(Mailer::new(&cfg.mail)?);
            if accounts(&cfg, &store, &mailer).set_route(&actor(&cfg), &tenant, route, false).await?
                == RouteSet::ManagedByFile
            {
                return Err(managed(&cfg, &name));
            }
            println!("tenant {name}: access route is now {route}");
            if route == Route::LineOnly {
                println!(
                    "2-step verification is off while the route is line-only: every request must come from a registered line or network"
                );
            }
        }
        TenantCommand::Set2fa { name, state } => {
            let t = store.require_tenant(&name).await?;
            let tenant = TenantRef { id: t.id, name: &name, managed_by_file: declared(&cfg, &name)? };
            let on = matches!(state, OnOff::On);
            let mailer = Arc::new(Mailer::new(&cfg.mail)?);
            if accounts(&cfg, &store, &mailer).set_two_factor(&actor(&cfg), &tenant, on).await?
                == SwitchSet::ManagedByFile
            {
                return Err(managed(&cfg, &name));
            }
            println!("tenant {name}: 2-step verification switch is now {}", if on { "on" } else { "off" });
            if t.route == Route::LineOnly {
                println!(
                    "note: the route is line-only, so 2-step verification stays off until the route is line-and-internet"
                );
            }
        }
        TenantCommand::Lines { action, name, lines, bulk } => {
            let t = store.require_tenant(&name).await?;
            let tenant = TenantRef { id: t.id, name: &name, managed_by_file: declared(&cfg, &name)? };
            let mailer = Arc::new(Mailer::new(&cfg.mail)?);
            let accounts = accounts(&cfg, &store, &mailer);
            if let Some(code) = bulk_action(&cfg, &accounts, &tenant, action, What::Lines, &lines, bulk).await? {
                return Ok(code);
            }
            let parsed = parse_all(&lines, |l| LineId::parse(l).map_err(|e| e.to_string()), "line number")?;
            match action {
                Action::Add => match accounts.add_lines(&actor(&cfg), &tenant, &parsed).await? {
                    LinesAdded::Added { added, already } => {
                        println!("tenant {name}: {} line(s) added, {} already registered", added.len(), already.len())
                    }
                    LinesAdded::OtherTenant => {
                        bail!("a line is already registered to another tenant; nothing was added")
                    }
                    LinesAdded::ManagedByFile => return Err(managed(&cfg, &name)),
                },
                _ => match accounts.remove_lines(&actor(&cfg), &tenant, &parsed).await? {
                    LinesRemoved::Removed { removed, missing } => {
                        println!("tenant {name}: {} line(s) removed", removed.len());
                        for m in missing {
                            println!("  {m} was not registered to this tenant");
                        }
                    }
                    LinesRemoved::ManagedByFile => return Err(managed(&cfg, &name)),
                },
            }
        }
        TenantCommand::Networks { action, name, networks, bulk } => {
            let t = store.require_tenant(&name).await?;
            let tenant = TenantRef { id: t.id, name: &name, managed_by_file: declared(&cfg, &name)? };
            let mailer = Arc::new(Mailer::new(&cfg.mail)?);
            let accounts = accounts(&cfg, &store, &mailer);
            if let Some(code) = bulk_action(&cfg, &accounts, &tenant, action, What::Networks, &networks, bulk).await? {
                return Ok(code);
            }
            let parsed = parse_all(&networks, config::parse_net, "network")?;
            match action {
                // SPEC section 11: the same limits as the settings page and the policy file.
                Action::Add => match accounts.add_networks(&actor(&cfg), &tenant, &parsed).await? {
                    NetworksAdded::Added { added, already, owner_told } => {
                        println!(
                            "tenant {name}: {} network(s) added, {} already registered",
                            added.len(),
                            already.len()
                        );
                        if owner_told == Mailed::Failed {
                            eprintln!("warning: the notice to the owner could not be sent; tell them yourself");
                        }
                    }
                    NetworksAdded::Refused(refusals) => {
                        for r in &refusals {
                            eprintln!("{r}");
                        }
                        bail!("{} network(s) rejected; nothing was changed", refusals.len());
                    }
                    NetworksAdded::Covered { net, within } => {
                        bail!("{net} is already covered by the registered network {within}; nothing was changed")
                    }
                    NetworksAdded::ManagedByFile => return Err(managed(&cfg, &name)),
                },
                _ => match accounts.remove_networks(&actor(&cfg), &tenant, &parsed).await? {
                    NetworksRemoved::Removed { removed, missing } => {
                        println!("tenant {name}: {} network(s) removed", removed.len());
                        for m in missing {
                            println!("  {m} was not registered to this tenant");
                        }
                    }
                    NetworksRemoved::ManagedByFile => return Err(managed(&cfg, &name)),
                },
            }
        }
        TenantCommand::List { json } => {
            listing::print_tenants(&store.tenant_listing(None).await?, json)?;
        }
        TenantCommand::Show { name, json } => {
            let Some(t) = store.tenant_listing(Some(&name)).await?.pop() else {
                bail!("no tenant named {name:?}");
            };
            listing::show_tenant(&store, &t, declared(&cfg, &name)?, json).await?;
        }
        TenantCommand::Remove { name, yes } => {
            let id = store.require_tenant_id(&name).await?;
            let tenant = TenantRef { id, name: &name, managed_by_file: declared(&cfg, &name)? };
            if tenant.managed_by_file {
                return Err(managed(&cfg, &name));
            }
            listing::confirm(yes, "the tenant", &name)?;
            let mailer = Arc::new(Mailer::new(&cfg.mail)?);
            match accounts(&cfg, &store, &mailer).remove_tenant(&actor(&cfg), &tenant).await? {
                TenantRemoved::Removed(r) => println!(
                    "tenant {name} removed with {} user(s); {} session(s) ended on every gateway",
                    r.users, r.sessions
                ),
                TenantRemoved::ManagedByFile => return Err(managed(&cfg, &name)),
                TenantRemoved::Missing => bail!("no tenant named {name:?}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
