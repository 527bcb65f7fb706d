use std::io::BufRead;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use gateway::store::NewUser;
use policy::Role;

use super::connect_current;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a password user directly (the password is read from standard input).
    Add {
        email: String,
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "user")]
        role: RoleArg,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Unlock an account locked by failed logins.
    Unlock { email: String },
    /// Forget a user's 2-step verification (phone, authenticator, recovery code,
    /// remembered browsers) and end their sessions; they set it up again at the next sign-in.
    #[command(name = "reset-2fa")]
    Reset2fa { email: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    User,
    Admin,
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
            store.create_user(NewUser { tenant_id: t.id, email: &email, role, password_hash: Some(&hash) }).await?;
            let email = gateway::store::canonical_email(&email);
            store.audit(Some(t.id), Some("cli"), Some(&email), "user_created", None, None).await?;
            println!("user {email} added to tenant {tenant} as {}", role.as_str());
        }
        UserCommand::Unlock { email } => {
            if !store.unlock_user(&email).await? {
                bail!("no user with the email {}", gateway::store::canonical_email(&email));
            }
            store
                .audit(None, Some("cli"), Some(&gateway::store::canonical_email(&email)), "unlock", None, None)
                .await?;
            println!("user {} unlocked", gateway::store::canonical_email(&email));
        }
        UserCommand::Reset2fa { email } => {
            let Some(user) = store.user_by_email(&email).await? else {
                bail!("no user with the email {}", gateway::store::canonical_email(&email));
            };
            store.reset_second_factors(user.id).await?;
            let n = store.delete_user_sessions(user.id).await?;
            store
                .audit(Some(user.tenant_id), Some("cli"), Some(&user.email), "second_factor_reset", None, None)
                .await?;
            let mailer = gateway::mail::Mailer::new(&cfg.mail)?;
            let lang = gateway::ui::lang::Lang::Ja;
            let msg = gateway::mail::render(&gateway::mail::Notice::SecondFactorReset, lang, &cfg.ui.product_name, 0);
            if let Err(e) = mailer.send(&user.email, &msg).await {
                eprintln!("warning: the notice to the user could not be sent: {e}");
            }
            println!("user {}: 2-step verification reset, {n} session(s) ended", user.email);
        }
    }
    Ok(ExitCode::SUCCESS)
}
