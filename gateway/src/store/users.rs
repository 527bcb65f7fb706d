use policy::{LoginMethod, Role};
use sqlx::Row;

use super::changes::Change;
use super::{Result, Store, StoreError, is_unique_violation, known, now, on_pool};

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub tenant_id: i64,
    pub email: String,
    pub role: Role,
    pub login_method: LoginMethod,
    pub password_hash: Option<String>,
    pub locked: bool,
    pub failed_logins: i64,
}

impl UserRow {
    /// Whether the person has finished registering: a password set, or a
    /// provider account bound. An invitee who has not is neither.
    pub fn registered(&self) -> bool {
        self.password_hash.is_some() || self.login_method == LoginMethod::Federated
    }
}

pub struct NewUser<'a> {
    pub tenant_id: i64,
    pub email: &'a str,
    pub role: Role,
    pub password_hash: Option<&'a str>,
}

/// Emails are compared in one canonical form everywhere.
pub fn canonical_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A conservative address grammar, tighter than RFC 5322 on purpose: an
/// address accepted here ends up in mail headers, in the relay's envelope and
/// in operators' scripts, where characters such as `|`, `;`, quotes, `<>`,
/// `` ` ``, `$`, `\`, `%`, `!` and `&` mean something, so they are refused even
/// where the RFC allows them. `x@example.com|env`, which the old check let
/// through, names no mailbox any relay can deliver to.
///
/// - local part: a dot-atom of ASCII letters, digits and `+ - _`; dots only
///   between characters, at most 64 bytes;
/// - domain: at least two LDH labels (letters, digits, `-` inside), each at most
///   63 bytes, the last one not all digits (no IP literals);
/// - at most 254 bytes in all.
///
/// Internationalised domains are entered in their ASCII (`xn--`) form, which
/// is what a mail relay speaks anyway; non-ASCII is refused. Delivery is what
/// really proves an address; this only keeps out what cannot be one.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    email.len() <= 254 && valid_local_part(local) && valid_domain(domain)
}

fn valid_local_part(local: &str) -> bool {
    local.len() <= 64
        && local.split('.').all(|atom| {
            !atom.is_empty() && atom.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'_'))
        })
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels.last().is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

impl Store {
    pub async fn create_user(&self, u: NewUser<'_>) -> Result<i64> {
        let email = canonical_email(u.email);
        if !valid_email(&email) {
            return Err(StoreError::Invalid(format!("{email:?} is not an email address")));
        }
        let t = now();
        let res: std::result::Result<i64, sqlx::Error> = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO users (tenant_id, email, role, password_hash, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(u.tenant_id)
            .bind(&email)
            .bind(u.role.as_str())
            .bind(u.password_hash)
            .bind(t)
            .fetch_one(p)
            .await
        });
        match res {
            // A new user has no session anyone could hold in a cache.
            Ok(id) => Ok(id),
            Err(e) if is_unique_violation(&e) => {
                if u.role == Role::Owner && self.user_by_email(&email).await?.is_none() {
                    Err(StoreError::Conflict("the tenant already has an owner".into()))
                } else {
                    Err(StoreError::Conflict(format!("a user with the email {email} already exists")))
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>> {
        let email = canonical_email(email);
        Ok(on_pool!(self, p => {
            sqlx::query(
                "SELECT id, tenant_id, email, role, login_method, password_hash, locked_at, failed_logins FROM users WHERE email = $1",
            )
            .bind(&email)
            .fetch_optional(p)
            .await?
            .map(|r| -> Result<UserRow> {
                let id: i64 = r.try_get("id")?;
                let row = || format!("id {id}");
                Ok(UserRow {
                    id,
                    tenant_id: r.try_get("tenant_id")?,
                    email: r.try_get("email")?,
                    role: known("users", "role", row, r.try_get("role")?, Role::parse)?,
                    login_method: known("users", "login_method", row, r.try_get("login_method")?, LoginMethod::parse)?,
                    password_hash: r.try_get("password_hash")?,
                    locked: r.try_get::<Option<i64>, _>("locked_at")?.is_some(),
                    failed_logins: r.try_get("failed_logins")?,
                })
            })
            .transpose()?
        }))
    }

    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(now())
                .bind(user_id)
                .execute(p)
                .await?;
        });
        self.record_change(Change::User(user_id)).await
    }

    /// Clears the lock and the failure count, and the lock on wrong second-factor
    /// codes; returns false for an unknown email.
    pub async fn unlock_user(&self, email: &str) -> Result<bool> {
        let email = canonical_email(email);
        let id: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar("UPDATE users SET locked_at = NULL, failed_logins = 0, factor_failures = 0, factor_locked_at = NULL, \
                 updated_at = $1 WHERE email = $2 RETURNING id")
                .bind(now())
                .bind(&email)
                .fetch_optional(p)
                .await?
        });
        if let Some(id) = id {
            self.record_change(Change::User(id)).await?;
        }
        Ok(id.is_some())
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRow>> {
        let email: Option<String> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(id).fetch_optional(p).await?
        });
        match email {
            Some(e) => self.user_by_email(&e).await,
            None => Ok(None),
        }
    }

    /// Counts one more consecutive wrong password; returns the new count.
    pub async fn record_failed_login(&self, user_id: i64) -> Result<i64> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins")
                .bind(user_id)
                .fetch_one(p)
                .await?
        }))
    }

    pub async fn reset_failed_logins(&self, user_id: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE users SET failed_logins = 0 WHERE id = $1 AND failed_logins <> 0").bind(user_id).execute(p).await?;
        });
        Ok(())
    }

    /// Locks the account; true only for the call that actually locked it, so the
    /// unlock mail goes out once however many attempts race.
    pub async fn lock_user(&self, user_id: i64) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("UPDATE users SET locked_at = $1, updated_at = $1 WHERE id = $2 AND locked_at IS NULL")
                .bind(now())
                .bind(user_id)
                .execute(p)
                .await?
                .rows_affected()
        });
        if n > 0 {
            self.record_change(Change::User(user_id)).await?;
        }
        Ok(n > 0)
    }

    /// Clears both locks (password and second factor): the unlock link, an admin, a reset.
    pub async fn unlock_user_id(&self, user_id: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE users SET locked_at = NULL, failed_logins = 0, factor_failures = 0, factor_locked_at = NULL, \
                 updated_at = $1 WHERE id = $2")
                .bind(now())
                .bind(user_id)
                .execute(p)
                .await?;
        });
        self.record_change(Change::User(user_id)).await
    }

    /// Changes the email; Conflict when another user has it.
    pub async fn set_email(&self, user_id: i64, email: &str) -> Result<()> {
        let email = canonical_email(email);
        let res = on_pool!(self, p => {
            sqlx::query("UPDATE users SET email = $1, updated_at = $2 WHERE id = $3")
                .bind(&email)
                .bind(now())
                .bind(user_id)
                .execute(p)
                .await
                .map(|_| ())
        });
        match res {
            Ok(()) => self.record_change(Change::User(user_id)).await,
            Err(e) if is_unique_violation(&e) => {
                Err(StoreError::Conflict(format!("a user with the email {email} already exists")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The users of a tenant, by email.
    pub async fn tenant_users(&self, tenant_id: i64) -> Result<Vec<UserRow>> {
        let emails: Vec<String> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT email FROM users WHERE tenant_id = $1 ORDER BY email").bind(tenant_id).fetch_all(p).await?
        });
        let mut out = Vec::with_capacity(emails.len());
        for e in emails {
            if let Some(u) = self.user_by_email(&e).await? {
                out.push(u);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::valid_email;

    #[test]
    fn addresses_that_mail_can_reach_and_nothing_else() {
        let long_local = format!("{}@example.com", "a".repeat(64));
        let too_long_local = format!("{}@example.com", "a".repeat(65));
        let long_label = format!("a@{}.com", "b".repeat(63));
        let too_long_label = format!("a@{}.com", "b".repeat(64));
        let too_long = format!("a@{}.com", vec!["b".repeat(60); 5].join("."));
        let table: &[(&str, bool)] = &[
            ("alice@example.com", true),
            ("Alice@Example.COM", true),
            ("first.last@example.co.jp", true),
            ("a+tag@example.com", true),
            ("a_b-c@sub-domain.example.com", true),
            ("x@xn--wgv71a119e.jp", true),
            ("1@2.example", true),
            (&long_local, true),
            (&long_label, true),
            // Shell and header characters, though RFC 5322 allows most of them.
            ("x@example.com|env", false),
            ("x|env@example.com", false),
            ("x;id@example.com", false),
            ("x`id`@example.com", false),
            ("x$HOME@example.com", false),
            ("x&y@example.com", false),
            ("o'brien@example.com", false),
            ("x\"y@example.com", false),
            ("\"x y\"@example.com", false),
            ("x<y>@example.com", false),
            ("x%y@example.com", false),
            ("x!y@example.com", false),
            ("x*y@example.com", false),
            ("x=y@example.com", false),
            ("x/y@example.com", false),
            ("x{y}@example.com", false),
            ("x#y@example.com", false),
            ("x?y@example.com", false),
            ("x^y@example.com", false),
            ("x~y@example.com", false),
            ("x@example.com\r\nBcc: z@example.com", false),
            ("x@example.com\n", false),
            ("x\0@example.com", false),
            // Shape.
            ("", false),
            ("not-an-email", false),
            ("@example.com", false),
            ("bob@", false),
            ("bob@localhost", false),
            ("bob@.com", false),
            ("bob@example.", false),
            ("bob@example..com", false),
            ("b ob@example.com", false),
            ("bob @example.com", false),
            (".bob@example.com", false),
            ("bob.@example.com", false),
            ("bo..b@example.com", false),
            ("a@b@example.com", false),
            ("bob@-example.com", false),
            ("bob@example-.com", false),
            ("bob@exa_mple.com", false),
            ("bob@[127.0.0.1]", false),
            ("bob@127.0.0.1", false),
            ("bob@example.com:25", false),
            (&too_long_local, false),
            (&too_long_label, false),
            (&too_long, false),
            // Non-ASCII: the xn-- form is the one accepted.
            ("ユーザー@example.jp", false),
            ("x@例え.jp", false),
            ("x@exämple.com", false),
            ("x\u{200b}@example.com", false),
        ];
        for (address, ok) in table {
            assert_eq!(valid_email(address), *ok, "{address:?}");
        }
    }
}
