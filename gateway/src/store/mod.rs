//! The database: SQLite by default, PostgreSQL for several gateway instances.
//!
//! sqlx's `Any` driver cannot carry PostgreSQL-specific types, so the store is an
//! enum over the two pools and each query is written once with `$N` parameters
//! (both databases accept them) and run through [`on_pool!`], which expands the
//! same code for each backend. Times are Unix seconds in `BIGINT` columns.

mod admin;
mod audit;
mod bulk;
mod changes;
mod federation;
mod invitations;
mod links;
mod overview;
pub mod pg_tls;
mod removal;
mod second_factor;
mod sessions;
mod sms_budget;
mod tenants;
mod throttle_windows;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

pub use admin::{AuditFilter, UserOverview};
pub use audit::AuditEntry;
pub use changes::{CHANNEL as CHANGES_CHANNEL, Change};
pub use federation::{Binding, DirectoryRow, FederatedIdentity, FlowPurpose, FlowRow};
pub use invitations::{Invitation, InvitationMail};
pub use links::{LinkPurpose, NewLink};
pub use overview::{TenantListing, UserListing};
pub use removal::Removed;
pub use second_factor::{BREAK_GLASS_ATTEMPTS, BreakGlassCheck, Device, Enrolment, SMS_ATTEMPTS, SmsCheck};
pub use sessions::{NewSession, SessionRecord};
pub use tenants::{Plan, TenantRow, TenantSummary};
pub use users::{NewUser, UserRow, canonical_email, valid_email};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot create the database folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    /// A column of a known set of values holds something else: written by hand,
    /// or by a newer version. Never read as some default.
    #[error("{table}.{column} is {value:?} in the row with {row}, a value this version does not know")]
    Corrupt { table: &'static str, column: &'static str, row: String, value: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
}

/// Runs the same code against whichever pool the store holds.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Reads a column that holds one of a known set of values. Anything else is
/// [`StoreError::Corrupt`], logged here where it is found: many callers only
/// answer 503 and keep the error to themselves.
pub(crate) fn known<T, E>(
    table: &'static str,
    column: &'static str,
    row: impl FnOnce() -> String,
    value: String,
    parse: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> Result<T> {
    parse(&value).map_err(|_| {
        // The columns read here hold names, never secrets; the cap keeps a
        // runaway value from flooding the log.
        let value: String = value.chars().take(64).collect();
        let e = StoreError::Corrupt { table, column, row: row(), value };
        tracing::error!(error = %e, "unreadable database row");
        e
    })
}

/// Whether a sqlx error is a unique-constraint violation (same meaning on both databases).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Seconds added to the system clock, from `GATEWAY_CLOCK_OFFSET`: how tests
/// see a link 15 days later without waiting 15 days. Never set in production;
/// `serve` warns when it is.
pub static CLOCK_OFFSET: std::sync::LazyLock<i64> = std::sync::LazyLock::new(|| {
    std::env::var("GATEWAY_CLOCK_OFFSET").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(0)
});

/// Unix seconds, as every stored time is written.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
        + *CLOCK_OFFSET
}

impl Store {
    /// Connects to `sqlite://…` (creating the file and its folder) or `postgres://…`;
    /// PostgreSQL on another host only over TLS (see [`pg_tls`]).
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, false).await
    }

    /// [`Store::connect`], where `allow_plain_text` (`database_allow_plain_text`)
    /// lets PostgreSQL on another host be reached without TLS.
    pub async fn connect_with(url: &str, allow_plain_text: bool) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            match pg_tls::judge(&opts, allow_plain_text) {
                pg_tls::Verdict::Fine => {}
                pg_tls::Verdict::Warn(why) => tracing::warn!("{why}"),
                pg_tls::Verdict::Refuse(why) => return Err(StoreError::Invalid(why)),
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(opts)
                .await?;
            return Ok(Store { pool: Pool::Postgres(pool) });
        }
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL {url:?}: expected sqlite://PATH or postgres://USER@HOST/DB"
            )));
        }
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let file = opts.get_filename();
        if let Some(dir) = Path::new(file).parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            crate::private_fs::create_dir_all(dir)
                .map_err(|source| StoreError::Folder { path: dir.display().to_string(), source })?;
        }
        // Created here, 0600, before SQLite would create it with the umask's mode;
        // SQLite gives the -wal and -shm files the database file's mode.
        let in_memory = file.as_os_str().is_empty() || file.to_str().is_some_and(|f| f.starts_with(':'));
        if !in_memory && !file.exists() {
            crate::private_fs::touch(file)
                .map_err(|source| StoreError::Folder { path: file.display().to_string(), source })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Store { pool: Pool::Sqlite(pool) })
    }

    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Creates or upgrades the schema; returns how many migrations were applied.
    pub async fn migrate(&self) -> Result<usize> {
        let before = self.applied_migrations().await.unwrap_or(0);
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(self.applied_migrations().await?.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize> {
        let n: i64 = on_pool!(self, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(p).await?
        });
        Ok(n as usize)
    }

    /// Fails unless the schema is present and current, with a message naming the fix.
    pub async fn check_schema(&self) -> Result<()> {
        let applied = self
            .applied_migrations()
            .await
            .map_err(|_| StoreError::Invalid("the database has no schema yet; run `gateway migrate`".into()))?;
        let known = match self.pool {
            Pool::Sqlite(_) => SQLITE_MIGRATIONS.iter().count(),
            Pool::Postgres(_) => POSTGRES_MIGRATIONS.iter().count(),
        };
        if applied < known {
            return Err(StoreError::Invalid(format!(
                "the database schema is out of date ({applied} of {known} migrations applied); run `gateway migrate`"
            )));
        }
        Ok(())
    }

    /// The PostgreSQL pool, for what only PostgreSQL has (LISTEN).
    pub(crate) fn postgres_pool(&self) -> Option<PgPool> {
        match &self.pool {
            Pool::Postgres(p) => Some(p.clone()),
            Pool::Sqlite(_) => None,
        }
    }

    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, p => { sqlx::query("SELECT 1").execute(p).await?; });
        Ok(())
    }
}
