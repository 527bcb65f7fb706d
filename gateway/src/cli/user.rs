use std::io::BufRead;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use std::sync::Arc;

use gateway::accounts::{Accounts, Actor, Mailed, UserRemoved};
use policy::Role;

use super::connect_current;
use super::listing;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a password user directly (the password is read from standard input).
    Add {
        /// The user's email address (their sign-in name).
        email: String,
        /// The tenant the user belongs to.
        #[arg(long)]
        tenant: String,
        /// The user's role in the tenant.
        #[arg(long, value_enum, default_value = "user")]
        role: RoleArg,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Unlock an account locked by failed logins.
    Unlock {
        /// The user's email address.
        email: String,
    },
    /// Forget a user's 2-step verification (phone, authenticator, recovery code,
    /// remembered browsers) and end their sessions; they set it up again at the next sign-in.
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// The user's email address.
        email: String,
    },
    /// List users: email, tenant, role, sign-in method, locked, last sign-in.
    List {
        /// Only this tenant's users.
        #[arg(long)]
        tenant: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a user for good and end their sessions on every gateway.
    /// A tenant's owner is not removed this way.
    Remove {
        /// The user's email address.
        email: String,
        /// Do not ask; required when standard input is not a terminal.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    User,
    Admin,
}

async fn find(store: &gateway::store::Store, email: &str) -> anyhow::Result<gateway::store::UserRow> {
    match store.user_by_email(email).await? {
        Some(u) => Ok(u),
        None => bail!("no user with the email {}", gateway::store::canonical_email(email)),
    }
}

fn owner_refusal(email: &str) -> String {
    format!(
        "{email} is the owner of their tenant and is not removed alone: remove the tenant \
         with `gateway tenant remove NAME` (a tenant always has its owner); nothing was removed"
    )
}

pub async fn run(cfg: config::GatewayConfig, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let store = connect_current(&cfg).await?;
    match cmd {
        UserCommand::Add { email, tenant, role, password_stdin: _ } => {
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            if let Err(why) = gateway::password::check_rule(&password) {
                bail!("{why} Rule: {}", gateway::password::RULE_TEXT);
            }
            let t = store.require_tenant(&tenant).await?;
            let hash = tokio::task::spawn_blocking(move || gateway::password::hash_blocking(&password)).await??;
            let role = match role {
                RoleArg::User => Role::User,
                RoleArg::Admin => Role::Admin,
            };
            let mailer = Arc::new(gateway::mail::Mailer::new(&cfg.mail)?);
            let accounts = Accounts { store: &store, cfg: &cfg, mailer: &mailer, sessions: None };
            accounts.add_user(&Actor::cli(cfg.ui.default_language.into()), t.id, &email, role, &hash).await?;
            let email = gateway::store::canonical_email(&email);
            println!("user {email} added to tenant {tenant} as {}", role.as_str());
        }
        UserCommand::Unlock { email } => {
            let user = find(&store, &email).await?;
            let mailer = Arc::new(gateway::mail::Mailer::new(&cfg.mail)?);
            let accounts = Accounts { store: &store, cfg: &cfg, mailer: &mailer, sessions: None };
            accounts.unlock(&Actor::cli(cfg.ui.default_language.into()), &user).await?;
            println!("user {} unlocked", user.email);
        }
        UserCommand::Reset2fa { email } => {
            let user = find(&store, &email).await?;
            let mailer = Arc::new(gateway::mail::Mailer::new(&cfg.mail)?);
            let accounts = Accounts { store: &store, cfg: &cfg, mailer: &mailer, sessions: None };
            let (n, mailed) = accounts.reset_second_factor(&Actor::cli(cfg.ui.default_language.into()), &user).await?;
            if mailed == Mailed::Failed {
                eprintln!("warning: the notice to the user could not be sent; tell them yourself");
            }
            println!("user {}: 2-step verification reset, {n} session(s) ended", user.email);
        }
        UserCommand::List { tenant, json } => {
            let tenant_id = match &tenant {
                Some(name) => Some(store.require_tenant_id(name).await?),
                None => None,
            };
            listing::print_users(&store.user_listing(tenant_id).await?, json)?;
        }
        UserCommand::Remove { email, yes } => {
            let user = find(&store, &email).await?;
            if user.role == Role::Owner {
                bail!(owner_refusal(&user.email));
            }
            listing::confirm(yes, "the user", &user.email)?;
            let mailer = Arc::new(gateway::mail::Mailer::new(&cfg.mail)?);
            let accounts = Accounts { store: &store, cfg: &cfg, mailer: &mailer, sessions: None };
            match accounts.remove_user(&Actor::cli(cfg.ui.default_language.into()), &user).await? {
                UserRemoved::Removed(r) => {
                    println!("user {} removed; {} session(s) ended on every gateway", user.email, r.sessions)
                }
                UserRemoved::Owner => bail!(owner_refusal(&user.email)),
                UserRemoved::Missing => bail!("no user with the email {}", user.email),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
