//! What 2-step verification keeps: enrolled methods, pending codes, the recovery
//! code, remembered browsers and line consents.

use sqlx::Row;

use super::changes::Change;
use super::{Result, Store, now, on_pool};

/// A user's enrolment, as the 2FA pages need it.
#[derive(Debug, Clone, Default)]
pub struct Enrolment {
    pub sms_phone: Option<String>,
    /// Encrypted; see `second_factor::TotpKey`.
    pub totp_secret: Option<String>,
    pub last_access_at: Option<i64>,
}

impl Enrolment {
    pub fn any(&self) -> bool {
        self.sms_phone.is_some() || self.totp_secret.is_some()
    }
}

/// The outcome of entering an SMS code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsCheck {
    /// Right code: it is used up; the phone it went to.
    Ok(String),
    Wrong,
    /// No code pending, expired, or too many attempts on it.
    Dead,
}

/// A remembered browser, as the user sees it.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: i64,
    pub label: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// Wrong entries one SMS code survives.
pub const SMS_ATTEMPTS: i64 = 5;

impl Store {
    pub async fn enrolment(&self, user_id: i64) -> Result<Enrolment> {
        let row = on_pool!(self, p => {
            sqlx::query("SELECT sms_phone, totp_secret, last_access_at FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(p)
                .await?
                .map(|r| -> std::result::Result<Enrolment, sqlx::Error> {
                    Ok(Enrolment {
                        sms_phone: r.try_get("sms_phone")?,
                        totp_secret: r.try_get("totp_secret")?,
                        last_access_at: r.try_get("last_access_at")?,
                    })
                })
                .transpose()?
        });
        Ok(row.unwrap_or_default())
    }

    pub async fn set_last_access(&self, user_id: i64, at: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE users SET last_access_at = $1 WHERE id = $2 AND (last_access_at IS NULL OR last_access_at < $1)")
                .bind(at)
                .bind(user_id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    pub async fn totp_pending(&self, user_id: i64) -> Result<Option<String>> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar("SELECT secret FROM totp_pending WHERE user_id = $1").bind(user_id).fetch_optional(p).await?
        }))
    }

    pub async fn set_totp_pending(&self, user_id: i64, encrypted: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO totp_pending (user_id, secret, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at",
            )
            .bind(user_id)
            .bind(encrypted)
            .bind(now())
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Makes the pending secret the user's, with the step of the code that proved it.
    pub async fn enrol_totp(&self, user_id: i64, encrypted: &str, step: i64) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE users SET totp_secret = $1, totp_last_step = $2, updated_at = $3 WHERE id = $4")
                .bind(encrypted)
                .bind(step)
                .bind(now())
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM totp_pending WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Accepts a TOTP time step once: true only if it is newer than every step
    /// accepted before (one statement, so two racing requests cannot both win).
    pub async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)")
                .bind(step)
                .bind(user_id)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Stores a new SMS code unless one was sent less than `min_gap` seconds ago;
    /// Err(seconds to wait) then.
    pub async fn put_sms_code(
        &self,
        user_id: i64,
        phone: &str,
        code_hash: &str,
        ttl: i64,
        min_gap: i64,
    ) -> Result<std::result::Result<(), i64>> {
        let t = now();
        let last: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT sent_at FROM sms_codes WHERE user_id = $1").bind(user_id).fetch_optional(p).await?
        });
        if let Some(sent) = last
            && t - sent < min_gap
        {
            return Ok(Err(min_gap - (t - sent)));
        }
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO sms_codes (user_id, phone, code_hash, attempts, sent_at, expires_at) VALUES ($1, $2, $3, 0, $4, $5) \
                 ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone, code_hash = excluded.code_hash, attempts = 0, \
                 sent_at = excluded.sent_at, expires_at = excluded.expires_at",
            )
            .bind(user_id)
            .bind(phone)
            .bind(code_hash)
            .bind(t)
            .bind(t + ttl)
            .execute(p)
            .await?;
        });
        Ok(Ok(()))
    }

    /// The number the user's latest SMS code went to, live or not.
    pub async fn sms_code_phone(&self, user_id: i64) -> Result<Option<String>> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar("SELECT phone FROM sms_codes WHERE user_id = $1").bind(user_id).fetch_optional(p).await?
        }))
    }

    /// Checks an SMS code: a right one is used up; a wrong one counts against it.
    pub async fn check_sms_code(&self, user_id: i64, code_hash: &str) -> Result<SmsCheck> {
        let t = now();
        // Count first, then compare: an attempt past the limit never gets compared.
        let attempts: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar(
                "UPDATE sms_codes SET attempts = attempts + 1 WHERE user_id = $1 AND expires_at > $2 RETURNING attempts",
            )
            .bind(user_id)
            .bind(t)
            .fetch_optional(p)
            .await?
        });
        match attempts {
            None => return Ok(SmsCheck::Dead),
            Some(n) if n > SMS_ATTEMPTS => return Ok(SmsCheck::Dead),
            Some(_) => {}
        }
        let phone: Option<String> = on_pool!(self, p => {
            sqlx::query_scalar("DELETE FROM sms_codes WHERE user_id = $1 AND code_hash = $2 RETURNING phone")
                .bind(user_id)
                .bind(code_hash)
                .fetch_optional(p)
                .await?
        });
        Ok(match phone {
            Some(p) => SmsCheck::Ok(p),
            None => SmsCheck::Wrong,
        })
    }

    pub async fn enrol_sms(&self, user_id: i64, phone: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE users SET sms_phone = $1, updated_at = $2 WHERE id = $3")
                .bind(phone)
                .bind(now())
                .bind(user_id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Replaces the user's recovery code.
    pub async fn set_recovery_code(&self, user_id: i64, code_hash: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at",
            )
            .bind(user_id)
            .bind(code_hash)
            .bind(now())
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Uses the recovery code up if it matches: one DELETE, so of two racing uses
    /// exactly one succeeds.
    pub async fn consume_recovery_code(&self, user_id: i64, code_hash: &str) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2")
                .bind(user_id)
                .bind(code_hash)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Forgets every second factor of a user: enrolment, pending codes, the
    /// recovery code, remembered browsers, and the lock on wrong codes.
    pub async fn reset_second_factors(&self, user_id: i64) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE users SET sms_phone = NULL, totp_secret = NULL, totp_last_step = NULL, factor_failures = 0, \
                 factor_locked_at = NULL, updated_at = $1 WHERE id = $2")
                .bind(now())
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            for table in ["totp_pending", "sms_codes", "recovery_codes", "remembered_devices", "break_glass_codes"] {
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE user_id = $1")))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        self.record_change(Change::User(user_id)).await
    }

    pub async fn remember_device(&self, token_hash: &str, user_id: i64, label: Option<&str>) -> Result<()> {
        let t = now();
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO remembered_devices (token_hash, user_id, label, created_at, last_used_at) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(label)
            .bind(t)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Whether the browser's token is a remembered device of this user, used
    /// within `max_idle` seconds; a hit counts as a use.
    pub async fn use_device(&self, token_hash: &str, user_id: i64, max_idle: i64) -> Result<bool> {
        let t = now();
        let n = on_pool!(self, p => {
            sqlx::query("UPDATE remembered_devices SET last_used_at = $1 WHERE token_hash = $2 AND user_id = $3 AND last_used_at > $4")
                .bind(t)
                .bind(token_hash)
                .bind(user_id)
                .bind(t - max_idle)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    pub async fn devices(&self, user_id: i64) -> Result<Vec<Device>> {
        Ok(on_pool!(self, p => {
            sqlx::query("SELECT id, label, created_at, last_used_at FROM remembered_devices WHERE user_id = $1 ORDER BY last_used_at DESC")
                .bind(user_id)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| -> std::result::Result<Device, sqlx::Error> {
                    Ok(Device {
                        id: r.try_get("id")?,
                        label: r.try_get("label")?,
                        created_at: r.try_get("created_at")?,
                        last_used_at: r.try_get("last_used_at")?,
                    })
                })
                .collect::<std::result::Result<Vec<_>, _>>()?
        }))
    }

    pub async fn revoke_device(&self, user_id: i64, id: i64) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM remembered_devices WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    pub async fn line_consented(&self, line: &str) -> Result<bool> {
        let n: i64 = on_pool!(self, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM line_consents WHERE line = $1").bind(line).fetch_one(p).await?
        });
        Ok(n > 0)
    }

    pub async fn record_line_consent(&self, line: &str, user_id: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("INSERT INTO line_consents (line, user_id, consented_at) VALUES ($1, $2, $3) ON CONFLICT (line) DO NOTHING")
                .bind(line)
                .bind(user_id)
                .bind(now())
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Counts a wrong code against a pending login; returns the new count.
    pub async fn record_factor_failure(&self, session_hash: &str) -> Result<i64> {
        let n: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar("UPDATE sessions SET factor_failures = factor_failures + 1 WHERE id_hash = $1 RETURNING factor_failures")
                .bind(session_hash)
                .fetch_optional(p)
                .await?
        });
        Ok(n.unwrap_or(i64::MAX))
    }
}

/// The outcome of entering a break-glass code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakGlassCheck {
    /// Right: the challenge is used up.
    Ok,
    Wrong,
    /// No challenge for this session, expired, or too many attempts on it.
    Dead,
}

/// Wrong entries one break-glass challenge survives.
pub const BREAK_GLASS_ATTEMPTS: i64 = 5;

impl Store {
    /// Counts one more consecutive wrong second-factor code of a user, across
    /// sessions and logins; returns the new count.
    pub async fn record_user_factor_failure(&self, user_id: i64) -> Result<i64> {
        let n: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar("UPDATE users SET factor_failures = factor_failures + 1 WHERE id = $1 RETURNING factor_failures")
                .bind(user_id)
                .fetch_optional(p)
                .await?
        });
        Ok(n.unwrap_or(i64::MAX))
    }

    /// A right code: the count starts again.
    pub async fn reset_user_factor_failures(&self, user_id: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE users SET factor_failures = 0 WHERE id = $1 AND factor_failures <> 0")
                .bind(user_id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Locks the user's second-factor entry; true only for the call that locked
    /// it, so the mail goes out once however many attempts race.
    pub async fn lock_second_factor(&self, user_id: i64) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("UPDATE users SET factor_locked_at = $1 WHERE id = $2 AND factor_locked_at IS NULL")
                .bind(now())
                .bind(user_id)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Whether every code of the user is refused; an unknown user counts as locked.
    pub async fn second_factor_locked(&self, user_id: i64) -> Result<bool> {
        let at: Option<Option<i64>> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT factor_locked_at FROM users WHERE id = $1").bind(user_id).fetch_optional(p).await?
        });
        Ok(at.is_none_or(|t| t.is_some()))
    }

    /// The password was right under break-glass: the code that must follow, for
    /// this session only. `code_hash` None: the authenticator app is asked.
    pub async fn put_break_glass(
        &self,
        user_id: i64,
        session_hash: &str,
        code_hash: Option<&str>,
        ttl: i64,
    ) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO break_glass_codes (user_id, session_hash, code_hash, attempts, expires_at) VALUES ($1, $2, $3, 0, $4) \
                 ON CONFLICT (user_id) DO UPDATE SET session_hash = excluded.session_hash, code_hash = excluded.code_hash, \
                 attempts = 0, expires_at = excluded.expires_at",
            )
            .bind(user_id)
            .bind(session_hash)
            .bind(code_hash)
            .bind(now() + ttl)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// The live break-glass challenge of this session: Some(code hash, if mailed).
    pub async fn break_glass_pending(&self, user_id: i64, session_hash: &str) -> Result<Option<Option<String>>> {
        let row = on_pool!(self, p => {
            sqlx::query("SELECT code_hash FROM break_glass_codes WHERE user_id = $1 AND session_hash = $2 AND expires_at > $3 AND attempts < $4")
                .bind(user_id)
                .bind(session_hash)
                .bind(now())
                .bind(BREAK_GLASS_ATTEMPTS)
                .fetch_optional(p)
                .await?
                .map(|r| r.try_get::<Option<String>, _>("code_hash"))
                .transpose()?
        });
        Ok(row)
    }

    /// Checks a break-glass code: counted first (an attempt past the limit is
    /// never compared), compared in constant time, and a right one used up by
    /// one DELETE, so of two racing uses exactly one wins. `other_factor`: the
    /// caller verified the user's authenticator app instead.
    pub async fn check_break_glass(
        &self,
        user_id: i64,
        session_hash: &str,
        code_hash: &str,
        other_factor: bool,
    ) -> Result<BreakGlassCheck> {
        let row: Option<(i64, Option<String>)> = on_pool!(self, p => {
            sqlx::query(
                "UPDATE break_glass_codes SET attempts = attempts + 1 WHERE user_id = $1 AND session_hash = $2 AND expires_at > $3 \
                 RETURNING attempts, code_hash",
            )
            .bind(user_id)
            .bind(session_hash)
            .bind(now())
            .fetch_optional(p)
            .await?
            .map(|r| -> std::result::Result<(i64, Option<String>), sqlx::Error> {
                Ok((r.try_get("attempts")?, r.try_get("code_hash")?))
            })
            .transpose()?
        });
        let Some((attempts, stored)) = row else { return Ok(BreakGlassCheck::Dead) };
        if attempts > BREAK_GLASS_ATTEMPTS {
            return Ok(BreakGlassCheck::Dead);
        }
        let matches = other_factor
            || stored.is_some_and(|s| bool::from(subtle::ConstantTimeEq::ct_eq(s.as_bytes(), code_hash.as_bytes())));
        if !matches {
            return Ok(BreakGlassCheck::Wrong);
        }
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM break_glass_codes WHERE user_id = $1 AND session_hash = $2")
                .bind(user_id)
                .bind(session_hash)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(if n == 1 { BreakGlassCheck::Ok } else { BreakGlassCheck::Dead })
    }
}
