//! Command-line definitions and dispatch. Names here are an interface that
//! operators' scripts rely on (SPEC section 8): add, never rename.

mod audit;
mod bulk;
mod demo;
mod docs;
mod explain;
mod listing;
mod tenant;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gateway::store::Store;

/// `gateway --version`: the crate version, the commit and the build date (gateway/build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("GATEWAY_COMMIT"),
    ", built ",
    env!("GATEWAY_BUILD_DATE"),
    ")"
);

/// Exit status for a configuration that cannot be used (sysexits' EX_CONFIG), so
/// scripts and unit managers can tell it from bad usage (2, clap's) and other failures (1).
pub const EXIT_CONFIG: u8 = 78;

const AFTER_HELP: &str = "\
Examples:
  gateway --config /etc/gateway/gateway.yaml check-config
  gateway --config /etc/gateway/gateway.yaml migrate
  gateway --config /etc/gateway/gateway.yaml serve
  gateway tenant create acme --owner boss@acme.example --plan trial
  gateway tenant lines add acme CAF0123456789
  gateway policy explain --host storage.example.net --ip 198.51.100.7 --path /files
  gateway demo
  gateway completions bash > /etc/bash_completion.d/gateway

Exit status:
  0   success
  1   failure (database unreachable, a refused change, …)
  2   bad usage (unknown command or option, missing argument)
  78  bad configuration (gateway.yaml or the policy file; the message names file:line:column)

Environment:
  GATEWAY_LOG      log filter, e.g. info,gateway=debug (default info,pingora=warn)
  STATE_DIRECTORY  default for state_dir when the file sets none (systemd sets it)";

#[derive(Parser)]
#[command(
    name = "gateway",
    version = VERSION,
    about = "Line-auth gateway: a Pingora reverse proxy guarding a storage service",
    long_about = "Line-auth gateway: a Pingora reverse proxy guarding a storage service.\n\n\
                  It signs users in (passwords, 2-step verification, federated providers), \
                  checks carrier lines and source networks per tenant, and proxies what it \
                  allows to the origin. The same binary manages tenants, users and the database.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The gateway configuration file; relative paths in it are resolved against its folder
    /// (state files, such as the SQLite database, against `state_dir`).
    #[arg(long, global = true, default_value = "gateway.yaml", value_name = "FILE")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the gateway (SIGHUP reloads the policy file and certificates, SIGTERM stops gracefully).
    Serve {
        /// Take the listening sockets over from a running gateway: start this,
        /// then send the old process SIGQUIT (within 5 seconds).
        #[arg(long)]
        upgrade: bool,
    },
    /// A self-contained demo: SQLite in a folder, a demo origin, a seeded tenant.
    Demo(demo::DemoArgs),
    /// Create or upgrade the database schema.
    Migrate,
    /// Validate gateway.yaml and the policy file; errors are printed as file:line:column (exit 78).
    CheckConfig,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Ask the policy engine.
    #[command(subcommand)]
    Policy(explain::PolicyCommand),
    /// Print a tenant's security events (logins, locks, resets, invitations…).
    Audit(audit::AuditArgs),
    /// Print a shell completion script to standard output.
    Completions(docs::CompletionsArgs),
    /// Print the man page (roff) to standard output, or write one page per command to a folder.
    Man(docs::ManArgs),
    /// Serve only the demo origin (used by the end-to-end tests).
    #[command(hide = true)]
    DemoOrigin {
        /// Address to listen on.
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// Append every request received to this file, one JSON line each.
        #[arg(long)]
        log: Option<std::path::PathBuf>,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // `serve` logs as its configuration says; everything else as by default.
    if !matches!(cli.command, Command::Serve { .. }) {
        gateway::logging::init_default()?;
    }
    match cli.command {
        Command::Serve { upgrade } => {
            let cfg = load_config(&cli.config)?;
            gateway::logging::init(&cfg.log)?;
            gateway::serve::run(cfg, gateway::serve::Extras { demo_origin: None, upgrade })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => demo::run(args),
        Command::DemoOrigin { listen, log } => demo::origin_only(listen, log),
        Command::CheckConfig => check_config(&cli.config),
        Command::Migrate => {
            let cfg = load_config(&cli.config)?;
            block_on(async {
                let store = connect(&cfg).await?;
                let n = store.migrate().await?;
                println!("database {} is up to date ({n} migration(s) applied now)", cfg.database_redacted());
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Tenant(cmd) => {
            let cfg = load_config(&cli.config)?;
            block_on(tenant::run(cfg, cmd))
        }
        Command::User(cmd) => {
            let cfg = load_config(&cli.config)?;
            block_on(user::run(cfg, cmd))
        }
        Command::Audit(args) => {
            let cfg = load_config(&cli.config)?;
            block_on(audit::run(cfg, args))
        }
        Command::Policy(cmd) => {
            let cfg = load_config(&cli.config)?;
            block_on(explain::run(cfg, cmd))
        }
        Command::Completions(args) => docs::completions(args),
        Command::Man(args) => docs::man(args),
    }
}

/// Loads the configuration; its error stays a [`config::ConfigError`] inside the
/// `anyhow::Error`, which is how `main` knows to exit with [`EXIT_CONFIG`].
pub fn load_config(path: &std::path::Path) -> anyhow::Result<config::GatewayConfig> {
    Ok(config::load_gateway(path)?)
}

/// The exit status for an error that ended a command: [`EXIT_CONFIG`] when a
/// configuration file was at fault, else 1.
pub fn exit_code_for(e: &anyhow::Error) -> ExitCode {
    if e.chain().any(|c| c.is::<config::ConfigError>()) { ExitCode::from(EXIT_CONFIG) } else { ExitCode::from(1) }
}

fn check_config(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let cfg = match config::load_gateway(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let policy = match gateway::policy_state::initial_ops_policy(&cfg) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    use gateway::store::pg_tls::{Verdict, judge_url};
    let mut warnings = gateway::serve::public_url_warnings(&cfg);
    match judge_url(&cfg.database, cfg.database_allow_plain_text) {
        Some(Verdict::Refuse(why)) => {
            eprintln!("{}: database: {why}", cfg.path.display());
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
        Some(Verdict::Warn(why)) => warnings.push(why),
        Some(Verdict::Fine) | None => {}
    }
    if cfg.origin_tls.as_ref().is_some_and(|t| !t.verify) {
        warnings.push("origin_tls.verify is false: the origin's certificate is not checked".to_owned());
    }
    println!("{}: ok", cfg.path.display());
    for w in warnings {
        eprintln!("{}: warning: {w}", cfg.path.display());
    }
    match (policy, &cfg.policy_file) {
        (Some(p), Some(f)) => {
            println!(
                "{}: ok ({} path rule(s), {} declared tenant(s))",
                f.display(),
                p.rules.rules().len(),
                p.tenants.len()
            )
        }
        (None, Some(f)) => println!("{}: not present; no path rules, no declared tenants", f.display()),
        _ => println!("no policy file configured"),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn block_on<F: std::future::Future<Output = anyhow::Result<ExitCode>>>(f: F) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(f)
}

/// Opens the store and insists on a current schema, naming the fix if not.
pub async fn connect(cfg: &config::GatewayConfig) -> anyhow::Result<Store> {
    use anyhow::Context;
    Store::connect_with(&cfg.database, cfg.database_allow_plain_text)
        .await
        .with_context(|| format!("cannot open the database {}", cfg.database_redacted()))
}

pub async fn connect_current(cfg: &config::GatewayConfig) -> anyhow::Result<Store> {
    let store = connect(cfg).await?;
    store.check_schema().await?;
    Ok(store)
}

pub fn block_on_value<T, F: std::future::Future<Output = anyhow::Result<T>>>(f: F) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(f)
}
