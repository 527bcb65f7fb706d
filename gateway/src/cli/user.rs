use std::io::BufRead;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use std::sync::Arc;

use gateway::accounts::{Accounts, Actor, Mailed};
use policy::Role;

use super::connect_current;

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
    }
    Ok(ExitCode::SUCCESS)
}
